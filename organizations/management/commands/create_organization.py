"""Create an organisation and invite its first administrator (production set-up)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from organizations.audit import audit_record
from organizations.models import Invitation, Organization, Role, User


class Command(BaseCommand):
    help = "Create an organisation and print the invitation link of its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--language", choices=["fr", "en"], default="fr")

    def handle(self, *args, **options):
        email = options["admin_email"].strip().lower()
        try:
            validate_email(email)
        except Exception as exc:
            raise CommandError(f"{email!r} is not a valid email address") from exc
        slug = options["slug"] or slugify(options["name"])
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"An organisation with the slug {slug!r} exists already")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"{email} already has an account")
        with transaction.atomic():
            organization = Organization.objects.create(
                name=options["name"], slug=slug, default_language=options["language"]
            )
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=Role.ORG_ADMIN,
                language=options["language"],
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
            )
            audit_record(
                action="organization.created",
                organization=organization,
                target=organization,
                actor_email="command-line",
            )
        link = settings.SITE_URL + reverse("invitation_accept", args=[invitation.token])
        self.stdout.write(f"Organisation {organization.name} created. Administrator link:\n{link}")
