"""Forms of the privacy pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from privacy.models import (
    CLICK_RETENTION_MAX,
    CLICK_RETENTION_MIN,
    EXPORT_RETENTION_MAX,
    EXPORT_RETENTION_MIN,
    NOTIFICATION_RETENTION_MAX,
    NOTIFICATION_RETENTION_MIN,
    PrivacySettings,
)


class PrivacySettingsForm(forms.ModelForm):
    class Meta:
        model = PrivacySettings
        fields = [
            "contact_name",
            "contact_email",
            "notice",
            "click_retention_days",
            "notification_retention_days",
            "export_retention_days",
        ]
        widgets = {
            "notice": forms.Textarea(attrs={"rows": 4}),
            "click_retention_days": forms.NumberInput(
                attrs={"min": CLICK_RETENTION_MIN, "max": CLICK_RETENTION_MAX}
            ),
            "notification_retention_days": forms.NumberInput(
                attrs={"min": NOTIFICATION_RETENTION_MIN, "max": NOTIFICATION_RETENTION_MAX}
            ),
            "export_retention_days": forms.NumberInput(
                attrs={"min": EXPORT_RETENTION_MIN, "max": EXPORT_RETENTION_MAX}
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Formatted here, not in Meta: a lazy string formatted at import would be frozen
        # in the language of the process.
        self.fields["click_retention_days"].help_text = _(
            "From %(low)s to %(high)s. Raw clicks are deleted after this many days, once the "
            "daily statistics hold them; the statistics stay."
        ) % {"low": CLICK_RETENTION_MIN, "high": CLICK_RETENTION_MAX}
        self.fields["notification_retention_days"].help_text = _("From %(low)s to %(high)s.") % {
            "low": NOTIFICATION_RETENTION_MIN,
            "high": NOTIFICATION_RETENTION_MAX,
        }
        self.fields["export_retention_days"].help_text = _(
            "From %(low)s to %(high)s. A person's download is deleted after this many days."
        ) % {"low": EXPORT_RETENTION_MIN, "high": EXPORT_RETENTION_MAX}


class EraseForm(forms.Form):
    confirm_email = forms.CharField(
        label=gettext_lazy("Type the person's email address to confirm"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class LeaveForm(forms.Form):
    history = forms.ChoiceField(
        label=gettext_lazy("What happens to your history?"),
        choices=[
            ("keep", gettext_lazy("Keep it: I can join again later")),
            ("erase", gettext_lazy("Erase my data: this cannot be undone")),
        ],
        widget=forms.RadioSelect,
        initial="keep",
    )
    confirm_email = forms.CharField(
        label=gettext_lazy("To erase, type your email address"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
