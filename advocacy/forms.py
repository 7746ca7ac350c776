from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from advocacy.services.sharing import WHEN_NOW, WHEN_QUEUE, WHEN_SCHEDULE
from content.models import Network


class ShareForm(forms.Form):
    networks = forms.MultipleChoiceField(
        label=_("Networks"),
        choices=Network.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one network.")},
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[
            (WHEN_NOW, _("Now")),
            (WHEN_SCHEDULE, _("At a date and time")),
            (WHEN_QUEUE, _("In my next free posting slot")),
        ],
        initial=WHEN_NOW,
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: object, zone: ZoneInfo, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.zone = zone

    def clean_scheduled_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("scheduled_at")
        if value is None:
            return None
        # Typed in the organisation's time zone, whatever the server's.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("when") == WHEN_SCHEDULE and not data.get("scheduled_at"):
            self.add_error("scheduled_at", _("Give the date and time to share at."))
        return data


class PauseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class SlotForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Day"),
        coerce=int,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))


class NetworkAppForm(forms.Form):
    client_id = forms.CharField(label=_("Client id"), max_length=200)
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted. Leave empty to keep the current one."),
    )
    api_posting = forms.BooleanField(
        label=_("Employees may post through the API"),
        required=False,
        initial=True,
        help_text=_("Off: share links only (X charges for each post made through its API)."),
    )
    community_management = forms.BooleanField(
        label=_("The app has the Community Management API (post analytics)"),
        required=False,
    )
