"""What each event says in a channel: one neutral description (`Composed`) per event, in
the organisation's default language, rendered as Slack Block Kit (with its text fallback)
or as a Teams Adaptive Card in the Workflows webhook envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from challenges.display import public_name
from challenges.models import Challenge, ChallengeMode, ChallengeResult
from content.models import Content
from organizations.media import media_signed_url
from organizations.models import Organization, Team, User

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Version 1.4 is what Teams renders everywhere (desktop, web, mobile).
ADAPTIVE_CARD_VERSION = "1.4"
WINNERS_SHOWN = 10
LEADERS_SHOWN = 10
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000


@dataclass
class Composed:
    kicker: str
    title: str
    body: str = ""
    lines: list[str] = field(default_factory=list)
    image_url: str = ""
    button_label: str = ""
    button_url: str = ""


def absolute(path: str) -> str:
    return path if path.startswith(("https://", "http://")) else f"{settings.SITE_URL}{path}"


def _content_image(content: Content) -> str:
    name = content.image.name or content.preview_image.name
    if not name:
        return ""
    url = absolute(media_signed_url(name))
    # Slack and Teams fetch the image from the internet: only a public https address works.
    return url if url.startswith("https://") else ""


def compose_content(content: Content) -> Composed:
    return Composed(
        kicker=_("New to share"),
        title=content.title,
        body=content.why_it_matters,
        image_url=_content_image(content),
        button_label=_("Share"),
        button_url=absolute(reverse("share_content", args=[content.pk])),
    )


def _dates(challenge: Challenge, organization: Organization) -> str:
    with timezone.override(organization.time_zone):
        start = formats.date_format(timezone.localtime(challenge.starts_at), "DATE_FORMAT")
        end = formats.date_format(timezone.localtime(challenge.ends_at), "DATE_FORMAT")
    return _("From %(start)s to %(end)s") % {"start": start, "end": end}


def compose_challenge_launch(challenge: Challenge) -> Composed:
    lines = [_dates(challenge, challenge.organization)]
    if challenge.prize:
        lines.append(_("Prize: %(prize)s") % {"prize": challenge.prize})
    return Composed(
        kicker=_("New challenge"),
        title=challenge.title,
        body=challenge.why_it_matters,
        lines=lines,
        button_label=_("Join the challenge"),
        button_url=absolute(reverse("challenge_detail", args=[challenge.pk])),
    )


def _value(value: object) -> str:
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def compose_challenge_results(challenge: Challenge) -> Composed:
    """The winners, in public: people by first name and initial, never someone hidden from
    the rankings; teams by name."""
    results = list(
        ChallengeResult.objects.filter(challenge_id=challenge.pk, is_winner=True, hidden=False)
        .order_by("rank", "pk")
        .values_list("rank", "user_id", "team_id", "value")[:WINNERS_SHOWN]
    )
    if challenge.mode == ChallengeMode.TEAM:
        names = dict(
            Team.objects.filter(
                organization_id=challenge.organization_id,
                pk__in=[team_id for _r, _u, team_id, _v in results if team_id],
            ).values_list("pk", "name")
        )
    else:
        names = {
            person.pk: public_name(person)
            for person in User.objects.filter(
                organization_id=challenge.organization_id,
                pk__in=[user_id for _r, user_id, _t, _v in results if user_id],
            ).only("id", "first_name", "last_name")
        }
    lines = []
    for rank, user_id, team_id, value in results:
        name = names.get(team_id if challenge.mode == ChallengeMode.TEAM else user_id)
        if name:
            lines.append(f"{rank}. {name} — {_value(value)}")
    if not lines:
        lines.append(_("No winner this time: thank you to everyone who took part."))
    return Composed(
        kicker=_("Challenge results"),
        title=challenge.title,
        body=_("Congratulations to the winners!") if results else "",
        lines=lines,
        button_label=_("See the results"),
        button_url=absolute(reverse("challenge_detail", args=[challenge.pk])),
    )


def compose_leaderboard(week_start: date, standings: list[tuple[int, str, int]]) -> Composed:
    """Last week's leaders: (rank, public name, points)."""
    lines = [
        _("%(rank)s. %(name)s — %(points)s points")
        % {"rank": rank, "name": name, "points": _value(points)}
        for rank, name, points in standings[:LEADERS_SHOWN]
    ]
    if not lines:
        lines.append(_("No points were earned last week: this week is a fresh start."))
    return Composed(
        kicker=_("Leaderboard of the week"),
        title=_("Week of %(date)s") % {"date": formats.date_format(week_start, "DATE_FORMAT")},
        lines=lines,
        button_label=_("See the leaderboard"),
        button_url=absolute(reverse("leaderboard")),
    )


def compose_test(label: str) -> Composed:
    return Composed(
        kicker=_("Test message"),
        title=_("Portevoix is connected to “%(label)s”") % {"label": label},
        body=_(
            "New posts to share, challenges and the weekly leaderboard will appear here, as "
            "chosen in the administration."
        ),
        button_label=_("Open Portevoix"),
        button_url=absolute("/"),
    )


# --- Slack Block Kit -----------------------------------------------------------------------


def _mrkdwn_escape(text: str) -> str:
    # Slack's mrkdwn reads &, < and > as markup: escaped, text stays text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(composed: Composed) -> dict[str, Any]:
    """{"text": fallback, "blocks": [...]} for chat.postMessage."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"*{_mrkdwn_escape(composed.kicker)}*"}],
        },
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": composed.title[:SLACK_HEADER_MAX],
                "emoji": True,
            },
        },
    ]
    if composed.image_url:
        blocks.append(
            {"type": "image", "image_url": composed.image_url, "alt_text": composed.title[:2000]}
        )
    text = "\n\n".join(
        part
        for part in (
            _mrkdwn_escape(composed.body),
            "\n".join(_mrkdwn_escape(line) for line in composed.lines),
        )
        if part
    )
    if text:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_SECTION_MAX]}}
        )
    if composed.button_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": composed.button_label[:75]},
                        "url": composed.button_url,
                        "style": "primary",
                        "action_id": "portevoix_open",
                    }
                ],
            }
        )
    fallback = _mrkdwn_escape(f"{composed.kicker}: {composed.title}")
    if composed.button_url:
        fallback += f" {composed.button_url}"
    return {"text": fallback, "blocks": blocks}


# --- Teams Adaptive Card -------------------------------------------------------------------


# TextBlocks render a subset of Markdown, links included: a name such as "[x](https://…)"
# would become a link. A zero-width space between "]" and "(" leaves the text as it reads
# and defuses the link (backslash escapes are not honoured everywhere Teams renders cards).
def _markdown_escape(text: str) -> str:
    return text.replace("](", "]\u200b(")


def adaptive_card(composed: Composed) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": _markdown_escape(composed.kicker),
            "size": "Small",
            "weight": "Bolder",
            "color": "Accent",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": _markdown_escape(composed.title),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "style": "heading",
        },
    ]
    if composed.image_url:
        body.append(
            {
                "type": "Image",
                "url": composed.image_url,
                "altText": composed.title,
                "size": "Stretch",
            }
        )
    if composed.body:
        body.append({"type": "TextBlock", "text": _markdown_escape(composed.body), "wrap": True})
    for line in composed.lines:
        body.append(
            {
                "type": "TextBlock",
                "text": _markdown_escape(line),
                "wrap": True,
                "spacing": "Small",
            }
        )
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
    }
    if composed.button_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": composed.button_label, "url": composed.button_url}
        ]
    return card


def teams_message(composed: Composed) -> dict[str, Any]:
    """The Workflows webhook's payload: a message with one Adaptive Card attachment."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(composed),
            }
        ],
    }
