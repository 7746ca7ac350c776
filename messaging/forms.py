"""The admin page's forms: the Slack token, and a destination with its routing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from content.models import Topic
from messaging.models import DestinationKind, EventKind
from organizations.models import Team, User


class SlackConnectForm(forms.Form):
    token = forms.CharField(
        label=_("Bot token"),
        max_length=260,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "In your Slack app: OAuth & Permissions → Bot User OAuth Token (xoxb-…). The app "
            "needs the chat:write scope; invite it to private channels."
        ),
    )


class DestinationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Where"), choices=DestinationKind.choices, widget=forms.RadioSelect
    )
    label = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("For you, such as “#news” or “Sales team”.")
    )
    slack_channel_id = forms.CharField(
        label=_("Slack channel id"),
        max_length=40,
        required=False,
        help_text=_("In Slack, open the channel's details: the id (C…) is at the bottom."),
    )
    webhook_url = forms.CharField(
        label=_("Teams webhook address"),
        max_length=2000,
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "In Teams: Workflows → “Post to a channel when a webhook request is received”; "
            "copy the address it gives. Kept secret."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("Messages"),
        choices=EventKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of message.")},
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Only posts and challenges for these teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every team. Posts for everyone always count."),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Only posts and challenges on these topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every topic."),
    )

    def __init__(self, *args: Any, user: User, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.filter(
            organization_id=user.organization_id
        ).order_by("name")
        self.fields["topics"].queryset = Topic.objects.filter(
            organization_id=user.organization_id
        ).order_by("name")
        if editing:
            self.fields["kind"].disabled = True
            self.fields["webhook_url"].help_text = _("Leave empty to keep the current address.")
