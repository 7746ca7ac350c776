"""Network tokens encrypted at rest with keys of their own (FIELD_ENCRYPTION_KEYS), not the
SECRET_KEY. Keys rotate: the first one encrypts, every listed one decrypts, and
`tokens_reencrypt` moves old tokens to the newest key."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _vault(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        # Development and tests only (production requires FIELD_ENCRYPTION_KEYS): a key
        # derived from SECRET_KEY so that a fresh clone works.
        digest = hashlib.sha256(f"portevoix-tokens:{settings.SECRET_KEY}".encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def vault() -> MultiFernet:
    return _vault(tuple(settings.FIELD_ENCRYPTION_KEYS))


def token_encrypt(value: str) -> str:
    return vault().encrypt(value.encode()).decode() if value else ""


def token_decrypt(value: str) -> str:
    """The clear token; "" when it cannot be read (a key was dropped too early)."""
    if not value:
        return ""
    try:
        return vault().decrypt(value.encode()).decode()
    except InvalidToken:
        return ""


def token_rotate(value: str) -> str:
    return vault().rotate(value.encode()).decode() if value else ""


def tokens_reencrypt(*, batch: int = 500) -> int:
    """Re-encrypt every stored secret with the newest key (employees' tokens and the
    organisations' network app secrets), so that old keys can be dropped. Returns how many
    rows were rewritten."""
    from advocacy.models import NetworkApp, SocialAccount

    changed = 0
    for account in SocialAccount.objects.only("access_token", "refresh_token").iterator(
        chunk_size=batch
    ):
        access, refresh = token_rotate(account.access_token), token_rotate(account.refresh_token)
        if (access, refresh) != (account.access_token, account.refresh_token):
            SocialAccount.objects.filter(pk=account.pk).update(
                access_token=access, refresh_token=refresh
            )
            changed += 1
    for app in NetworkApp.objects.only("client_secret").iterator(chunk_size=batch):
        secret = token_rotate(app.client_secret)
        if secret != app.client_secret:
            NetworkApp.objects.filter(pk=app.pk).update(client_secret=secret)
            changed += 1
    return changed
