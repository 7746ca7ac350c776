"""The platform operator vouches that an organisation owns an email domain, when the
organisation cannot publish a DNS record: `manage.py sso_domain_verify <org slug> <domain>`.
Audited like a DNS verification, with the method "operator"."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations.errors import DomainError
from sso.models import ClaimedDomain


class Command(BaseCommand):
    help = "Mark an organisation's claimed email domain as verified (operator confirmation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="the organisation's slug")
        parser.add_argument("domain", help="a domain the organisation added on its SSO page")

    def handle(self, *args: Any, **options: Any) -> None:
        from sso.services import domain_verify_by_operator

        claimed = ClaimedDomain.objects.filter(
            organization__slug=options["organization"], domain=options["domain"].strip().lower()
        ).first()
        if claimed is None:
            raise CommandError(
                "No such domain for this organisation: its admin adds it on the SSO page first."
            )
        try:
            domain_verify_by_operator(claimed=claimed)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{claimed.domain} is verified for {claimed.organization}.")
