"""Rebuild every organisation's leaderboard sets in Redis from the points ledger."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Rebuild the leaderboard sorted sets in Redis from the points ledger."

    def handle(self, *args: object, **options: object) -> None:
        from challenges.services.leaderboards import leaderboards_rebuild_all

        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: leaderboards are read from the database.")
        count = leaderboards_rebuild_all()
        self.stdout.write(self.style.SUCCESS(f"{count} leaderboard sets rebuilt."))
