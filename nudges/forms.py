"""The nudges' forms: a person's choice of kinds, and the organisation's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nudges.models import INACTIVITY_WEEKS_MAX, WEEKLY_CAP_MAX, NudgeKind, NudgeSettings


class NudgePreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Remind me when…"),
        choices=NudgeKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class NudgeSettingsForm(forms.ModelForm):
    class Meta:
        model = NudgeSettings
        fields = [
            "scheduled_share_enabled",
            "challenge_ending_enabled",
            "charter_enabled",
            "inactive_enabled",
            "inactivity_weeks",
            "weekly_cap",
        ]
        widgets = {
            "inactivity_weeks": forms.NumberInput(attrs={"min": 1, "max": INACTIVITY_WEEKS_MAX}),
            "weekly_cap": forms.NumberInput(attrs={"min": 1, "max": WEEKLY_CAP_MAX}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, not in Meta: a lazy string formatted at import would be frozen in the
        # language of the process.
        self.fields["inactivity_weeks"].help_text = _(
            "From 1 to %(max)s. Counted from a person’s last share, or from their arrival if "
            "they never shared; they are reminded once per such stretch."
        ) % {"max": INACTIVITY_WEEKS_MAX}
        self.fields["weekly_cap"].help_text = _(
            "From 1 to %(max)s. When more are due, the most urgent goes first: the scheduled "
            "share, then the challenge, the charter, the reminder to share."
        ) % {"max": WEEKLY_CAP_MAX}
