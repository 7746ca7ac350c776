"""The digest as an email: plain text and HTML, in the person's language and time zone,
with the one-click unsubscribe headers of RFC 8058 (the List-Unsubscribe URL takes a
POST without a session or a CSRF token)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from digests.selectors import Digest, site_url
from digests.tokens import unsubscribe_token_make


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    unsubscribe_url: str


def unsubscribe_url_for(user_id: int) -> str:
    return site_url(reverse("digest_unsubscribe", args=[unsubscribe_token_make(user_id=user_id)]))


def digest_render(digest: Digest, *, for_someone_else: bool = False) -> RenderedDigest:
    """Renders from what the digest holds: no query. `for_someone_else` (an admin's preview)
    leaves out the person's unsubscribe link: it never expires, so it is theirs alone."""
    user = digest.user
    unsubscribe_url = "#" if for_someone_else else unsubscribe_url_for(user.pk)
    with translation.override(user.language or None), timezone.override(user.zone):
        count = len(digest.items) + digest.more
        subject = ngettext("%(count)s new post to share", "%(count)s new posts to share", count) % {
            "count": count
        }
        if digest.rank_change and digest.rank_change > 0:
            subject += " · " + ngettext(
                "you moved up %(n)s place", "you moved up %(n)s places", digest.rank_change
            ) % {"n": digest.rank_change}
        context = {
            "digest": digest,
            "user": user,
            "organization": user.organization,
            "subject": subject,
            "site_url": settings.SITE_URL.rstrip("/"),
            "feed_url": site_url(reverse("feed")),
            "preferences_url": site_url(reverse("digest_preferences")),
            "unsubscribe_url": unsubscribe_url,
            "language": user.language,
        }
        text = render_to_string("digests/email.txt", context)
        html = render_to_string("digests/email.html", context)
    return RenderedDigest(subject, text, html, unsubscribe_url)


def digest_message(
    digest: Digest, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    rendered = digest_render(digest)
    unsubscribe = f"<{rendered.unsubscribe_url}>"
    mailto = getattr(settings, "DIGEST_UNSUBSCRIBE_MAILTO", "")
    if mailto:
        unsubscribe += f", <mailto:{mailto}?subject=unsubscribe>"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[digest.user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
