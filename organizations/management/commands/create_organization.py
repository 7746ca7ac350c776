"""Create an organisation and invite its first administrator (production set-up, by a
platform operator; the same as the operator page, organizations.views)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from organizations.errors import DomainError
from organizations.models import User
from organizations.services import organization_create


class Command(BaseCommand):
    help = (
        "Create an organisation and print the invitation link of its first administrator. "
        "The administrator may already have an account in another organisation: accepting "
        "the invitation then makes them a member of this one too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--language", choices=["fr", "en"], default="fr")

    def handle(self, *args, **options):
        try:
            organization, invitation = organization_create(
                name=options["name"],
                slug=options["slug"] or "",
                admin_email=options["admin_email"],
                language=options["language"],
                actor_email="command-line",
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        link = settings.SITE_URL + reverse("invitation_accept", args=[invitation.token])
        self.stdout.write(f"Organisation {organization.name} created. Administrator link:\n{link}")
        if User.objects.filter(email__iexact=invitation.email).exists():
            self.stdout.write(
                f"{invitation.email} has an account already: they accept signed in, and "
                "switch between their organisations from the header."
            )
