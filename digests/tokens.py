"""Signed links in a digest email: a one-click Share (one person, one content, a week) and
the one-click unsubscribe (one person, no expiry: an old email must still let them out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

SHARE_SALT = "portevoix.digests.share"
UNSUBSCRIBE_SALT = "portevoix.digests.unsubscribe"
SHARE_MAX_AGE = timedelta(days=7)


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True)
class ShareGrant:
    user_id: int
    content_id: int


def share_token_make(*, user_id: int, content_id: int) -> str:
    return signing.dumps({"u": user_id, "c": content_id}, salt=SHARE_SALT)


def share_token_read(token: str) -> ShareGrant:
    try:
        data = signing.loads(token, salt=SHARE_SALT, max_age=SHARE_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenExpired from None
    except signing.BadSignature:
        raise TokenInvalid from None
    try:
        return ShareGrant(int(data["u"]), int(data["c"]))
    except (KeyError, TypeError, ValueError):
        raise TokenInvalid from None


def unsubscribe_token_make(*, user_id: int) -> str:
    return signing.dumps({"u": user_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> int:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise TokenInvalid from None
