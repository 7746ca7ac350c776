"""Each failure of a channel message, in words for the admin: what happened and what to do."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FAILURES: dict[str, Promise] = {
    "invalid_auth": _("Slack refused the bot token: connect Slack again with a new token."),
    "token_revoked": _("The Slack token was revoked (the app was removed?): connect Slack again."),
    "account_inactive": _(
        "The Slack bot or workspace was deactivated: reinstall the app and connect Slack again."
    ),
    "not_authed": _("Slack received no token: connect Slack again."),
    "token_expired": _("The Slack token expired: connect Slack again."),
    "token_unreadable": _(
        "The stored secret can no longer be read (an encryption key was removed): enter it again."
    ),
    "channel_not_found": _(
        "Slack cannot find this channel: check its id, or whether it was deleted."
    ),
    "is_archived": _("The Slack channel is archived: choose another channel or unarchive it."),
    "not_in_channel": _(
        "The bot is not in this Slack channel: invite it (/invite @your-app) and resend."
    ),
    "webhook_gone": _(
        "Teams no longer accepts this webhook (the workflow was deleted or turned off): create "
        "the workflow again and paste its new address."
    ),
    "teams_refused": _("Teams refused this message."),
    "slack_refused": _("Slack refused this message."),
    "rate_limited": _("The service asked us to slow down: it will be sent at the time it gave."),
    "server_error": _("The service had a problem on its side; we tried again several times."),
    "network": _("The service could not be reached; we tried again several times."),
    "timeout": _(
        "The service did not answer in time: the message may have been posted. Look at the "
        "channel before resending."
    ),
    "worker_stopped": _(
        "Sending stopped halfway: the message may have been posted. Look at the channel before "
        "resending."
    ),
    "not_connected": _("Slack is not connected: connect it, then resend."),
    "connection_broken": _(
        "The Slack connection needs attention: connect Slack again, then resend."
    ),
    "destination_broken": _("This destination needs attention: fix it, then resend."),
    "content_unavailable": _(
        "The post was withdrawn or has expired since: the message was not sent."
    ),
    "sharing_paused": _(
        "Sharing is paused for the organisation: the post was not announced. Resend it once "
        "sharing has resumed."
    ),
}


def failure_text(code: str) -> str:
    if not code:
        return ""
    text = FAILURES.get(code)
    return str(text) if text is not None else str(_("It failed (%(code)s).") % {"code": code})
