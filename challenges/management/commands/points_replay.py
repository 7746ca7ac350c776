"""Pay every recorded event that has not paid yet (after a receiver failure): shares,
recalls, accepted suggestions, charter acceptances, and settled clicks. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Replay recorded events through the points services; paid events are skipped."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--organization", help="Slug of one organisation (default: all).")

    def handle(self, *args: object, **options: object) -> None:
        from challenges.services.scoring import clicks_settle, points_replay
        from organizations.models import Organization

        organizations = Organization.objects.all()
        if options.get("organization"):
            organizations = organizations.filter(slug=options["organization"])
        paid = sum(points_replay(organization=org) for org in organizations)
        clicks = clicks_settle()
        self.stdout.write(self.style.SUCCESS(f"{paid} events and {clicks} clicks paid."))
