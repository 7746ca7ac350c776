"""Forms of the points pages: the scoring rules, the levels and the privacy choice."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from challenges.models import ScoringEvent, ScoringRule


class ScoringRulesForm(forms.Form):
    """One points field and one "active" box per event, and the click cap."""

    def __init__(self, *args: Any, rules: list[ScoringRule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule_rows = []
        for rule in rules:
            label = ScoringEvent(rule.event).label
            self.fields[f"points_{rule.event}"] = forms.IntegerField(
                label=label, min_value=0, max_value=10_000, initial=rule.points
            )
            self.fields[f"active_{rule.event}"] = forms.BooleanField(
                label=_("active"), required=False, initial=rule.is_active
            )
            row = [self[f"points_{rule.event}"], self[f"active_{rule.event}"]]
            if rule.event == ScoringEvent.CLICK:
                self.fields["click_cap"] = forms.IntegerField(
                    label=_("Most paid clicks per share and day"),
                    min_value=1,
                    max_value=10_000,
                    required=False,
                    initial=rule.daily_cap_per_share,
                    help_text=_("Empty: no cap."),
                )
                row.append(self["click_cap"])
            self.rule_rows.append((rule.event, row))


class LevelForm(forms.Form):
    threshold = forms.IntegerField(
        label=_("From (points)"),
        min_value=0,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={"aria-label": _("From (points)")}),
    )
    name_en = forms.CharField(
        label=_("Name in English"),
        max_length=60,
        widget=forms.TextInput(attrs={"aria-label": _("Name in English")}),
    )
    name_fr = forms.CharField(
        label=_("Name in French"),
        max_length=60,
        widget=forms.TextInput(attrs={"aria-label": _("Name in French")}),
    )


LevelFormSet = formset_factory(LevelForm, extra=2, can_delete=True, max_num=30)


class PrivacyForm(forms.Form):
    hidden = forms.BooleanField(label=_("Hide me from public rankings"), required=False)


class LeaderboardFilters(forms.Form):
    board = forms.ChoiceField(
        choices=[("organisation", _("People")), ("team", _("Teams"))], required=False
    )
    period = forms.ChoiceField(
        choices=[("week", _("This week")), ("month", _("This month")), ("all", _("All time"))],
        required=False,
    )
    team = forms.IntegerField(min_value=1, required=False)
