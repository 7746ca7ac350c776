"""The digest's forms: a person's frequency, the organisation's schedule, the preview's
person."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from digests.models import Frequency, Weekday
from organizations.models import User

HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]


class PreferenceForm(forms.Form):
    frequency = forms.ChoiceField(
        label=_("Send me the digest"),
        choices=Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how often you want the digest.")},
    )


class DigestSettingsForm(forms.Form):
    default_frequency = forms.ChoiceField(
        label=_("Default frequency"),
        choices=Frequency.choices,
        help_text=_("For everyone who has not chosen their own."),
    )
    weekday = forms.TypedChoiceField(
        label=_("Day of the weekly digest"), choices=Weekday.choices, coerce=int
    )
    hour = forms.TypedChoiceField(
        label=_("Hour"),
        choices=HOURS,
        coerce=int,
        help_text=_("In each person's own time zone."),
    )


class PreviewForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("Person"),
        queryset=User.objects.none(),
        empty_label=_("Choose a person"),
        error_messages={"invalid_choice": _("Choose a person of your organisation.")},
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people  # type: ignore[attr-defined]
        self.fields["person"].label_from_instance = lambda user: (  # type: ignore[attr-defined]
            f"{user.get_full_name()} <{user.email}>" if user.get_full_name() else user.email
        )
