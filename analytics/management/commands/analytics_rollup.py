"""Bring the daily rollups up to date now, or rebuild them from the raw events."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.services.rollups import rollups_fill
from organizations.models import Organization


class Command(BaseCommand):
    help = "Fill the analytics rollups (idempotent); --rebuild recomputes every day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="forget the watermark and rebuild every day (after changing the EMV rates)",
        )
        parser.add_argument("--organization", help="slug of one organisation")

    def handle(self, *args: Any, **options: Any) -> None:
        organization_id = None
        if options["organization"]:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(f"No organisation {options['organization']!r}.")
            organization_id = organization.pk
        started = time.monotonic()
        filled = rollups_fill(organization_id=organization_id, rebuild=options["rebuild"])
        self.stdout.write(
            self.style.SUCCESS(
                f"{filled} day buckets filled in {time.monotonic() - started:.1f} s."
            )
        )
