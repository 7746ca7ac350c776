from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from notifications import receivers
        from organizations import signals

        signals.member_role_changed.connect(receivers.on_role_changed, dispatch_uid="notify-role")
        signals.invitation_accepted.connect(
            receivers.on_invitation_accepted, dispatch_uid="notify-invitation"
        )
