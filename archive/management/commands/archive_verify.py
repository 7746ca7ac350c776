"""Check an exported archive: `manage.py archive_verify export.zip [--previous older.zip]`,
or the chain in the database: `manage.py archive_verify --organization <id>`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive.chain import chain_problems
from archive.exports import export_problems


class Command(BaseCommand):
    help = (
        "Recompute an archive export's hashes, its chain and its signature, and report any "
        "removed or edited record (exit status 1 when something is wrong)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("zip", nargs="?", help="The exported ZIP file.")
        parser.add_argument(
            "--previous", help="The export made before it, to check the link between them."
        )
        parser.add_argument(
            "--organization", type=int, help="Check this organisation's chain in the database."
        )
        parser.add_argument(
            "--no-signature",
            action="store_true",
            help="Skip the signature (on a machine without this installation's SECRET_KEY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["organization"] is not None:
            problems = chain_problems(options["organization"])
            what = f"the archive of organisation {options['organization']}"
        elif options["zip"]:
            data = self._read(options["zip"])
            previous = self._read(options["previous"]) if options["previous"] else None
            problems = export_problems(
                data, previous=previous, check_signature=not options["no_signature"]
            )
            what = options["zip"]
        else:
            raise CommandError("Give an export's ZIP file, or --organization.")
        if problems:
            for problem in problems:
                self.stderr.write(f"FAIL {problem}")
            raise CommandError(f"{what}: {len(problems)} problem(s) found.", returncode=1)
        self.stdout.write(f"OK {what}: every hash, link and signature checks out.")

    def _read(self, name: str) -> bytes:
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from exc
