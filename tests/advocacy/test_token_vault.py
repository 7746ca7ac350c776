"""Network tokens at rest: encrypted with keys of their own, readable across a key
rotation, and re-encrypted with the newest key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from advocacy.models import SocialAccount
from advocacy.token_vault import token_decrypt, token_encrypt, token_rotate, tokens_reencrypt
from tests.advocacy.conftest import connect


@pytest.fixture
def keys():
    return Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_round_trip_and_nothing_in_clear(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = [keys[0]]
    sealed = token_encrypt("secret-token")
    assert "secret-token" not in sealed
    assert token_decrypt(sealed) == "secret-token"
    assert token_encrypt("") == "" and token_decrypt("") == ""


def test_rotation_with_two_keys(settings, keys):
    old, new = keys
    settings.FIELD_ENCRYPTION_KEYS = [old]
    sealed_old = token_encrypt("tok")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert token_decrypt(sealed_old) == "tok"  # old tokens still read
    sealed_new = token_encrypt("tok")
    rotated = token_rotate(sealed_old)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert token_decrypt(sealed_new) == "tok"
    assert token_decrypt(rotated) == "tok"
    assert token_decrypt(sealed_old) == ""  # the dropped key's tokens are unreadable


def test_unknown_key_reads_as_empty_and_forces_reconnect(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = [keys[0]]
    sealed = token_encrypt("tok")
    settings.FIELD_ENCRYPTION_KEYS = [keys[1]]
    assert token_decrypt(sealed) == ""
    assert token_decrypt("not a token") == ""


@pytest.mark.django_db
def test_reencrypt_moves_stored_tokens_to_the_newest_key(personas, settings, keys):
    old, new = keys
    settings.FIELD_ENCRYPTION_KEYS = [old]
    account = connect(personas.teammate)
    access = token_decrypt(account.access_token)
    assert SocialAccount.objects.get(pk=account.pk).access_token != access
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert tokens_reencrypt() == 1
    settings.FIELD_ENCRYPTION_KEYS = [new]
    account.refresh_from_db()
    assert token_decrypt(account.access_token) == access
    assert token_decrypt(account.refresh_token)


@pytest.mark.django_db
def test_the_rotation_command_also_moves_network_app_secrets(personas, settings, keys):
    import io

    from django.core.management import call_command

    from advocacy.models import NetworkApp
    from tests.advocacy.conftest import LINKEDIN_CLIENT, network_app

    old, new = keys
    settings.FIELD_ENCRYPTION_KEYS = [old]
    app = network_app(personas.organization, "linkedin")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("tokens_reencrypt", stdout=out)
    assert "Re-encrypted 1 row" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert token_decrypt(NetworkApp.objects.get(pk=app.pk).client_secret) == LINKEDIN_CLIENT[1]
