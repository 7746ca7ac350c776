"""Re-encrypt every network token and app secret with the newest FIELD_ENCRYPTION_KEYS key,
the middle step of a key rotation (new key first, run this, then drop the old keys)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from advocacy.token_vault import tokens_reencrypt


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        changed = tokens_reencrypt()
        self.stdout.write(f"Re-encrypted {changed} row(s) with the newest key.")
