"""Forms of the challenge editor and the rewards catalogue editor. Dates are entered in the
organisation's time zone (the middleware activates it for the signed-in user)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from challenges.models import Challenge, ChallengeMetric, ChallengeMode, Reward
from challenges.services.campaigns import (
    MAX_AMOUNT,
    MAX_WINNERS,
    ChallengeInput,
    challenge_date_error,
)
from challenges.services.rewards import MAX_PER_PERSON, RewardInput
from content.models import Content, Network, Topic
from organizations.forms import OrgScopedForm
from organizations.images import validate_image
from organizations.models import Team

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ChallengeForm(OrgScopedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    why_it_matters = forms.CharField(
        label=_("Why it matters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Tell employees what this challenge is for."),
    )
    banner = forms.ImageField(
        label=_("Banner image"),
        required=False,
        validators=[validate_image],
        help_text=_("JPEG, PNG, WebP or GIF, ideally wide (3:1)."),
    )
    remove_banner = forms.BooleanField(label=_("Remove the banner"), required=False)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        widget=DATETIME_WIDGET,
        help_text=_("Activity up to this moment counts (organisation's time zone)."),
    )
    audience_teams = forms.ModelMultipleChoiceField(
        label=_("Audience"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Leave empty for the whole organisation. A team includes its sub-teams."),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ChallengeMode.choices,
        help_text=_(
            "Team against team ranks teams by their total divided by their number of members,"
            " so that a small team can win."
        ),
    )
    metric = forms.ChoiceField(label=_("What counts"), choices=ChallengeMetric.choices)
    contents = forms.ModelMultipleChoiceField(
        label=_("Only these contents"),
        queryset=Content.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Only these topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hashtag = forms.CharField(
        label=_("Only content with this hashtag"), required=False, max_length=100
    )
    network = forms.ChoiceField(
        label=_("Only on this network"),
        choices=[("", _("Any network")), *Network.choices],
        required=False,
        help_text=_(
            "Every filter you set must match. Filters apply to shares, clicks and points,"
            " not to suggestions."
        ),
    )
    goal = forms.IntegerField(
        label=_("Goal to reach"),
        required=False,
        min_value=1,
        max_value=MAX_AMOUNT,
        help_text=_("Per person, or per member in team mode. Leave empty for a ranking only."),
    )
    winners_count = forms.IntegerField(
        label=_("Number of winners"),
        min_value=0,
        max_value=MAX_WINNERS,
        initial=3,
        help_text=_("0 for a goal only. Ties at the last place all win."),
    )
    prize = forms.CharField(label=_("Prize"), required=False, max_length=300)
    bonus_points = forms.IntegerField(
        label=_("Bonus points"),
        min_value=0,
        max_value=MAX_AMOUNT,
        initial=0,
        help_text=_("Paid once to each winner (or to everyone who reaches a goal-only challenge)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contents"].queryset = Content.objects.filter(
            organization=self.organization
        ).order_by("-publish_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("starts_at", "ends_at"):
            problem = data.get(name) and challenge_date_error(data[name])
            if problem:
                self.add_error(name, problem)
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        if data.get("goal") is None and not data.get("winners_count"):
            self.add_error("goal", _("Set a goal to reach, a number of winners, or both."))
        return data

    def to_input(self) -> ChallengeInput:
        data = self.cleaned_data
        return ChallengeInput(
            title=data["title"],
            why_it_matters=data["why_it_matters"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            audience_teams=list(data["audience_teams"]),
            mode=data["mode"],
            metric=data["metric"],
            contents=list(data["contents"]),
            topics=list(data["topics"]),
            hashtag=data["hashtag"],
            network=data["network"],
            goal=data["goal"],
            winners_count=data["winners_count"],
            prize=data["prize"],
            bonus_points=data["bonus_points"],
            banner=data.get("banner"),
            remove_banner=data.get("remove_banner", False),
        )

    @staticmethod
    def initial_for(challenge: Challenge) -> dict[str, Any]:
        return {
            "title": challenge.title,
            "why_it_matters": challenge.why_it_matters,
            "starts_at": challenge.starts_at,
            "ends_at": challenge.ends_at,
            "audience_teams": list(challenge.audience_teams.all()),
            "mode": challenge.mode,
            "metric": challenge.metric,
            "contents": list(challenge.contents.all()),
            "topics": list(challenge.topics.all()),
            "hashtag": challenge.hashtag,
            "network": challenge.network,
            "goal": challenge.goal,
            "winners_count": challenge.winners_count,
            "prize": challenge.prize,
            "bonus_points": challenge.bonus_points,
        }


class RewardForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    image = forms.ImageField(label=_("Image"), required=False, validators=[validate_image])
    remove_image = forms.BooleanField(label=_("Remove the image"), required=False)
    cost = forms.IntegerField(label=_("Cost in points"), min_value=1, max_value=MAX_AMOUNT)
    stock = forms.IntegerField(
        label=_("Stock"),
        required=False,
        min_value=0,
        max_value=MAX_AMOUNT,
        help_text=_("Leave empty for unlimited."),
    )
    # The stock this editor showed, so a save cannot undo redemptions made since.
    stock_seen = forms.CharField(required=False, widget=forms.HiddenInput)
    per_person_limit = forms.IntegerField(
        label=_("Limit per person"),
        required=False,
        min_value=1,
        max_value=MAX_PER_PERSON,
        help_text=_("Leave empty for no limit."),
    )
    is_active = forms.BooleanField(
        label=_("Offered in the catalogue"), required=False, initial=True
    )

    def clean_stock_seen(self) -> int | None:
        raw = (self.cleaned_data.get("stock_seen") or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise forms.ValidationError(_("Reload the page and try again."))
        return int(raw)

    def to_input(self) -> RewardInput:
        data = self.cleaned_data
        return RewardInput(
            title=data["title"],
            description=data["description"],
            cost=data["cost"],
            stock=data["stock"],
            per_person_limit=data["per_person_limit"],
            is_active=data["is_active"],
            image=data.get("image"),
            remove_image=data.get("remove_image", False),
            check_stock="stock_seen" in self.data,
            stock_seen=data.get("stock_seen"),
        )

    @staticmethod
    def initial_for(reward: Reward) -> dict[str, Any]:
        return {
            "title": reward.title,
            "description": reward.description,
            "cost": reward.cost,
            "stock": reward.stock,
            "stock_seen": "" if reward.stock is None else str(reward.stock),
            "per_person_limit": reward.per_person_limit,
            "is_active": reward.is_active,
        }


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note to the employee"), required=False, max_length=500)
