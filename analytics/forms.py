from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.selectors import (
    DEFAULT_PERIOD,
    INTERVALS,
    PERIOD_CHOICES,
    Period,
    period_resolve,
)
from organizations.errors import DomainError

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    """The period picker and team filter shared by every dashboard page and export.
    Dates are days in the organisation's time zone."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
    team = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    interval = forms.ChoiceField(
        label=_("Chart by"),
        choices=[("", _("Automatic")), ("day", _("Day")), ("week", _("Week"))],
        required=False,
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key = data.get("period") or DEFAULT_PERIOD
        if key != "custom" and (data.get("start") or data.get("end")) and not data.get("period"):
            key = "custom"  # dates typed without choosing "Custom dates" still mean them
        if self.errors:
            return data
        try:
            data["resolved"] = period_resolve(
                key=key, today=self.today, start=data.get("start"), end=data.get("end")
            )
        except DomainError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return data

    def resolved_period(self) -> Period:
        """The chosen period, or the default one when the choice is invalid (the page
        then shows the errors above the default numbers)."""
        if self.is_valid():
            return self.cleaned_data["resolved"]
        return period_resolve(key=DEFAULT_PERIOD, today=self.today)

    def team_id(self) -> int | None:
        return self.cleaned_data.get("team") if self.is_valid() else None

    def chart_interval(self, period: Period) -> str:
        chosen = self.cleaned_data.get("interval") if self.is_valid() else ""
        return chosen if chosen in INTERVALS else period.default_interval()


def _rate(label: Any, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, help_text=help_text, max_digits=8, decimal_places=2, min_value=Decimal("0")
    )


class AnalyticsSettingsForm(forms.Form):
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text=_("Three-letter code, for example EUR, USD or GBP."),
        error_messages={"invalid": _("Enter a three-letter currency code, for example EUR.")},
    )
    cpc = _rate(
        _("Cost per click (CPC)"), _("What one click bought on a social network would cost.")
    )
    cpm_linkedin = _rate(_("CPM LinkedIn"), _("Cost of a thousand impressions."))
    cpm_x = _rate(_("CPM X"))
    cpm_facebook = _rate(_("CPM Facebook"))

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).upper()
