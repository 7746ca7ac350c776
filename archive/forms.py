"""The archive's forms: the search filters, an export's period, the retention policy."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from archive.models import (
    EXPORT_RETENTION_MAX_DAYS,
    EXPORT_RETENTION_MIN_DAYS,
    RETENTION_MAX_YEARS,
    RETENTION_MIN_YEARS,
)
from content.models import Network

# The dates a search or an export may name: beyond them a date is a typo (and 9999-12-31
# plus a day overflows).
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)


def date_bounds_error(day: date | None) -> str | None:
    if day is not None and not DATE_MIN <= day <= DATE_MAX:
        return _("Choose a date between %(min)s and %(max)s.") % {
            "min": DATE_MIN.isoformat(),
            "max": DATE_MAX.isoformat(),
        }
    return None


class BoundedDateField(forms.DateField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        error = date_bounds_error(value)
        if error:
            raise forms.ValidationError(error, code="date_bounds")


class ArchiveSearchForm(forms.Form):
    person = forms.CharField(
        label=gettext_lazy("Person"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Name or email")}),
    )
    date_from = BoundedDateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    network = forms.ChoiceField(label=gettext_lazy("Network"), required=False)
    content = forms.CharField(
        label=gettext_lazy("Content"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Title or number")}),
    )
    words = forms.CharField(label=gettext_lazy("Words in the text"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        network = self.fields["network"]
        assert isinstance(network, forms.ChoiceField)
        network.choices = [("", _("All networks")), *Network.choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class ArchiveExportForm(forms.Form):
    date_from = BoundedDateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ArchivePolicyForm(forms.Form):
    retention_years = forms.IntegerField(
        label=gettext_lazy("Retention (years)"),
        min_value=RETENTION_MIN_YEARS,
        max_value=RETENTION_MAX_YEARS,
        widget=forms.NumberInput(attrs={"min": RETENTION_MIN_YEARS, "max": RETENTION_MAX_YEARS}),
    )
    export_retention_days = forms.IntegerField(
        label=gettext_lazy("Keep export files (days)"),
        required=False,
        min_value=EXPORT_RETENTION_MIN_DAYS,
        max_value=EXPORT_RETENTION_MAX_DAYS,
        widget=forms.NumberInput(
            attrs={"min": EXPORT_RETENTION_MIN_DAYS, "max": EXPORT_RETENTION_MAX_DAYS}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retention_years"].help_text = _(
            "From %(min)s to %(max)s years. Each share is kept that long from the day it was "
            "archived, and no one can delete it meanwhile. A change applies to what is "
            "archived from now on; what is already archived keeps its date."
        ) % {"min": RETENTION_MIN_YEARS, "max": RETENTION_MAX_YEARS}
        self.fields["export_retention_days"].help_text = _(
            "From %(min)s to %(max)s days. An export's ZIP can be downloaded that long after "
            "it is built; then the file is deleted and the export shows as expired."
        ) % {"min": EXPORT_RETENTION_MIN_DAYS, "max": EXPORT_RETENTION_MAX_DAYS}
