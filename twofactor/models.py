"""The organisation's two-factor policy. The second factors themselves are allauth's
`Authenticator` rows (allauth.mfa): this app only says who must have one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization, Role


class TwoFactorPolicy(models.Model):
    """Which roles of the organisation must sign in with a second factor. No row, or every
    switch off: nobody is required (anyone may still set one up)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="two_factor_policy"
    )
    require_admins = models.BooleanField(_("organisation admins"), default=False)
    require_editors = models.BooleanField(_("editors"), default=False)
    require_reviewers = models.BooleanField(_("reviewers"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("two-factor policy")
        verbose_name_plural = _("two-factor policies")

    def __str__(self) -> str:
        return str(self.organization)

    @property
    def required_roles(self) -> frozenset[str]:
        """The roles (organizations.models.Role values) that must have a second factor."""
        roles = set()
        if self.require_admins:
            roles.add(Role.ORG_ADMIN.value)
        if self.require_editors:
            roles.add(Role.EDITOR.value)
        if self.require_reviewers:
            roles.add(Role.REVIEWER.value)
        return frozenset(roles)
