"""What happened to a share, in sentences a person reads in their own language.

The stored error text (`Share.last_error`, `ShareAttempt.body`) is written by the worker in
English or in whatever language was active then; it is kept for the technical details.
What people read is rebuilt here at render time from the structured fields (state,
outcome, status code, network, times), so old rows read right in either language."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from advocacy.models import AccountStatus, AttemptKind, Share, ShareAttempt, ShareStatus
from organizations.models import User

# The badge colour of each state (Pico-based classes of app.css).
_TONES: dict[str, str] = {
    ShareStatus.PUBLISHED: "ok",
    ShareStatus.RECALLED: "ok",
    ShareStatus.FAILED: "danger",
    ShareStatus.NEEDS_RECONNECT: "danger",
    ShareStatus.RECALL_FAILED: "danger",
    ShareStatus.RECALL_ASKED: "danger",
    ShareStatus.CANCELLED: "muted",
    ShareStatus.DISMISSED: "muted",
}

_REASON_MAX = 200


@dataclass(frozen=True)
class ShareSummary:
    text: str
    tone: str  # "ok" | "warn" | "danger" | "muted"


def state_label(value: str) -> str:
    """A share's or an account's state as words, never the stored value."""
    for choices in (ShareStatus, AccountStatus):
        if value in choices.values:
            return str(choices(value).label)
    return _("Unknown state")


def state_tone(value: str) -> str:
    return _TONES.get(value, "warn")


def when_phrase(moment: datetime | None) -> str:
    """“at 14:32” today, “on 6 December 2026 at 14:32” another day: in the active time zone
    (the organisation's) and the active language's formats."""
    if moment is None:
        return _("shortly")
    local = timezone.localtime(moment)
    clock = time_format(local, "TIME_FORMAT")
    if local.date() == timezone.localdate():
        return _("at %(time)s") % {"time": clock}
    return _("on %(date)s at %(time)s") % {"date": date_format(local, "DATE_FORMAT"), "time": clock}


def network_reason(body: str) -> str:
    """The network's own explanation in a JSON answer ("detail", "message", the first of
    "errors"), or "" when the body is not such an answer (then it is our English log
    line, which is not shown to people)."""
    try:
        data: Any = json.loads(body)
    except (TypeError, ValueError):
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("detail", "message", "error_description", "title"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return _short(value)
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        value = errors[0].get("message")
        if isinstance(value, str) and value.strip():
            return _short(value)
    return ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def _is_duplicate(attempt: ShareAttempt) -> bool:
    return attempt.status_code in (403, 409, 422) and "duplicate" in attempt.body.lower()


def _refusal(attempt: ShareAttempt, network: str) -> str:
    if _is_duplicate(attempt):
        return _("%(network)s refused the post because it repeats an earlier one.") % {
            "network": network
        }
    if attempt.status_code == 403:
        return _("%(network)s refused the post: the connection is not allowed to post.") % {
            "network": network
        }
    reason = network_reason(attempt.body) if attempt.status_code else ""
    if reason:
        return _("%(network)s refused the post: “%(reason)s”") % {
            "network": network,
            "reason": reason,
        }
    return _("%(network)s refused the post.") % {"network": network}


def _waiting(attempt: ShareAttempt | None, network: str) -> str:
    """Why the last try did not go through, when it is worth trying again."""
    code = attempt.status_code if attempt else None
    if code in (408, 429):
        return _("%(network)s asked us to slow down") % {"network": network}
    if attempt is not None and code is None:
        return _("We could not reach %(network)s") % {"network": network}
    return _("%(network)s is not answering") % {"network": network}


def attempt_sentence(attempt: ShareAttempt, *, network: str) -> str:
    """One line of the attempts list."""
    outcome, kind = attempt.outcome, attempt.kind
    if kind == AttemptKind.DELETE:
        if outcome == "deleted":
            return _("Deleted from %(network)s.") % {"network": network}
        if outcome == "retry_later":
            return _("Not deleted yet: %(why)s.") % {"why": _waiting(attempt, network)}
        return _("%(network)s refused the deletion.") % {"network": network}
    if outcome == "published":
        if kind == AttemptKind.RECONCILE:
            return _("Found the post on %(network)s.") % {"network": network}
        return _("Posted on %(network)s.") % {"network": network}
    if outcome == "retry_later":
        return _("%(why)s.") % {"why": _waiting(attempt, network)}
    if outcome == "needs_reconnect":
        return _("%(network)s refused the connection: it needs reconnecting.") % {
            "network": network
        }
    if outcome == "rejected":
        return _refusal(attempt, network)
    if outcome == "unknown":
        if kind == AttemptKind.RECONCILE:
            return _("The post was not found on %(network)s.") % {"network": network}
        return _("%(network)s did not answer in time.") % {"network": network}
    return _("Something unexpected happened.")


def share_summary(
    share: Share, attempts: Sequence[ShareAttempt], *, viewer: User | None = None
) -> ShareSummary:
    """What happened to the share, and what the reader can do about it.

    `attempts` in the order they were made (ShareAttempt's default)."""
    network = share.get_network_display()
    last = attempts[-1] if attempts else None
    status = share.status
    tone = state_tone(status)
    mine = viewer is None or viewer.pk == share.user_id
    values = {"network": network}

    if status == ShareStatus.SCHEDULED:
        if share.attempt_count and last is not None and last.outcome == "retry_later":
            text = _("%(why)s; we will try again %(when)s.") % {
                "why": _waiting(last, network),
                "when": when_phrase(share.next_attempt_at),
            }
        else:
            text = _("It will be posted on %(network)s %(when)s.") % {
                **values,
                "when": when_phrase(share.next_attempt_at or share.scheduled_at),
            }
    elif status == ShareStatus.PUBLISHING:
        text = _("Being posted on %(network)s now.") % values
    elif status == ShareStatus.PUBLISHED:
        text = _("Posted on %(network)s %(when)s.") % {
            **values,
            "when": when_phrase(share.published_at),
        }
    elif status == ShareStatus.NEEDS_RECONNECT:
        if mine:
            text = _("Your %(network)s connection has expired: reconnect it, then try again.")
        else:
            text = _(
                "The %(network)s connection of %(person)s has expired: they must reconnect it."
            )
        text = text % {**values, "person": _person(share)}
    elif status == ShareStatus.FAILED:
        if last is not None and last.outcome == "rejected":
            text = _refusal(last, network)
        elif last is not None and last.outcome == "retry_later":
            text = _("%(network)s kept failing after several tries: you can try again.") % values
        else:
            text = _stored_reason(share) or _("The post could not be published.")
    elif status == ShareStatus.OUTCOME_UNKNOWN:
        text = (
            _(
                "%(network)s did not answer in time, so we do not know whether the post went out. "
                "Look at the profile, then say whether it is there: we will not post it again on "
                "our own."
            )
            % values
        )
    elif status == ShareStatus.AWAITING_CONFIRMATION:
        text = _("Waiting for confirmation that it was posted on %(network)s.") % values
    elif status == ShareStatus.CANCELLED:
        text = _stored_reason(share) or _("Cancelled: it will not be posted.")
    elif status == ShareStatus.DISMISSED:
        text = _("Not posted: you told us it did not go out.")
    elif status in (ShareStatus.RECALL_PENDING, ShareStatus.RECALLING):
        text = _("The content was withdrawn: we are deleting the post from %(network)s.") % values
    elif status == ShareStatus.RECALLED:
        text = _("The content was withdrawn: the post was deleted from %(network)s.") % values
    elif status == ShareStatus.RECALL_ASKED:
        text = _("The content was withdrawn: please delete the post on %(network)s.") % values
    elif status == ShareStatus.RECALL_FAILED:
        text = (
            _(
                "The content was withdrawn, but %(network)s did not let us delete the post: please "
                "delete it yourself."
            )
            % values
        )
    else:
        text = state_label(status)
    return ShareSummary(text=text, tone=tone)


def _person(share: Share) -> str:
    user = share.user
    return user.get_full_name() or user.email


# The reasons the services store with `gettext` (English when written by a worker): the
# same msgid read again here comes out in the reader's language.
_STORED_REASONS = (
    gettext_noop("Cancelled by you."),
    gettext_noop("The account was disconnected."),
    gettext_noop("The content was withdrawn."),
    gettext_noop("The content is no longer available to share."),
)


def _stored_reason(share: Share) -> str:
    stored = share.last_error.strip()
    if not stored:
        return ""
    for msgid in _STORED_REASONS:
        if stored == msgid or stored in _written_forms(msgid):
            return _(msgid)
    return ""


def _written_forms(msgid: str) -> set[str]:
    forms = set()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            forms.add(_(msgid))
    return forms
