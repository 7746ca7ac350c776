"""The export of a period as a signed ZIP, and its verification.

The ZIP holds `records.jsonl` (one line per record or event, in chain order, each with its
`previous_hash` and `record_hash`), `records.csv` (the same rows flattened), `manifest.json`
(each line's SHA-256, the files' SHA-256, counts, period, the chain's first and last hash,
the previous export's manifest hash) and `manifest.sig`, an HMAC-SHA256 of manifest.json
with a key derived from SECRET_KEY (django's salted_hmac): only this installation can sign
or check the signature, and the key never leaves it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from archive.chain import canonical, line_problems, organization_lines
from archive.models import GENESIS_HASH, ArchivedShare, ArchiveEvent, ArchiveExport, ChainHead

FORMAT = "portevoix-archive-export/1"
SIGNATURE_SALT = "portevoix.archive.export"
FILES = ("records.jsonl", "records.csv", "manifest.json", "manifest.sig")
CSV_COLUMNS = (
    "sequence", "type", "share_id", "kind", "person_id", "person_name", "person_email",
    "team_names", "network", "mode", "account_name", "account_external_id", "text",
    "tracked_url", "destination_url", "content_id", "content_title", "content_version",
    "approvals", "outcome", "error", "detail", "shared_at", "left_at", "occurred_at",
    "published_at", "external_id", "external_url", "archived_at", "retain_until",
    "previous_hash", "record_hash",
)  # fmt: skip


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_signature(manifest: bytes, *, secret: str | None = None) -> str:
    return salted_hmac(SIGNATURE_SALT, manifest, secret=secret, algorithm="sha256").hexdigest()


def signature_matches(signature: str, manifest: bytes) -> bool:
    """Signed with SECRET_KEY, or with one of SECRET_KEY_FALLBACKS (a rotated key)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(signature, manifest_signature(manifest, secret=secret))
        for secret in secrets
    )


@dataclass(frozen=True)
class BuiltExport:
    data: bytes
    record_count: int
    event_count: int
    first_hash: str
    last_hash: str
    manifest_hash: str
    chain_hash: str


def period_bounds(export: ArchiveExport) -> tuple[datetime, datetime]:
    """The period's days in the organisation's time zone, the last one included."""
    zone = ZoneInfo(export.organization.time_zone)
    start = datetime.combine(export.date_from, time.min, zone)
    end = datetime.combine(export.date_to + timedelta(days=1), time.min, zone)
    return start, end


def _sequence_range(organization_id: int, start: datetime, end: datetime) -> tuple[int, int] | None:
    bounds = [
        model.objects.filter(
            organization_id=organization_id, archived_at__gte=start, archived_at__lt=end
        ).aggregate(first=Min("sequence"), last=Max("sequence"))
        for model in (ArchivedShare, ArchiveEvent)
    ]
    firsts = [b["first"] for b in bounds if b["first"] is not None]
    lasts = [b["last"] for b in bounds if b["last"] is not None]
    if not firsts:
        return None
    # Every position between the first and the last is exported, so that the file is one
    # unbroken run of the chain and any gap in it is a removed entry.
    return min(firsts), max(lasts)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def export_zip(export: ArchiveExport, *, previous: ArchiveExport | None) -> BuiltExport:
    start, end = period_bounds(export)
    positions = _sequence_range(export.organization_id, start, end)
    lines = (
        organization_lines(export.organization_id, first=positions[0], last=positions[1])
        if positions
        else []
    )

    jsonl = io.BytesIO()
    line_entries = []
    for line in lines:
        encoded = canonical(line).encode()
        jsonl.write(encoded + b"\n")
        line_entries.append(
            {
                "sequence": line["sequence"],
                "type": line["type"],
                "share_id": line["share_id"],
                "record_hash": line["record_hash"],
                "sha256": sha256(encoded),
            }
        )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([_csv_cell(line.get(column)) for column in CSV_COLUMNS])
    jsonl_bytes, csv_bytes = jsonl.getvalue(), text.getvalue().encode()

    records = sum(1 for line in lines if line["type"] == "share")
    head = ChainHead.objects.filter(organization_id=export.organization_id).first()
    first_hash = lines[0]["record_hash"] if lines else ""
    last_hash = lines[-1]["record_hash"] if lines else ""
    manifest = {
        "format": FORMAT,
        "export_id": export.pk,
        "organization": {"id": export.organization_id, "name": export.organization.name},
        "period": {
            "from": export.date_from.isoformat(),
            "to": export.date_to.isoformat(),
            "time_zone": export.organization.time_zone,
            "by": "archived_at",
        },
        "generated_at": timezone.now().isoformat(),
        "requested_by": export.requested_by_email,
        "counts": {"records": records, "events": len(lines) - records, "lines": len(lines)},
        "chain": {
            "first_sequence": lines[0]["sequence"] if lines else None,
            "last_sequence": lines[-1]["sequence"] if lines else None,
            "first_previous_hash": lines[0]["previous_hash"] if lines else None,
            "first_hash": first_hash or None,
            "last_hash": last_hash or None,
            # The whole chain when the export was built: its head and where it starts
            # (the genesis, or the checkpoint of the last purge).
            "head": {
                "sequence": head.sequence if head else 0,
                "hash": head.last_hash if head else GENESIS_HASH,
            },
            "start": {
                "sequence": head.purged_sequence if head else 0,
                "hash": head.purged_hash if head else GENESIS_HASH,
            },
        },
        "files": {"records.jsonl": sha256(jsonl_bytes), "records.csv": sha256(csv_bytes)},
        "lines": line_entries,
        "previous_export": (
            {
                "id": previous.pk,
                "manifest_sha256": previous.manifest_hash,
                "chain_hash": previous.chain_hash,
            }
            if previous is not None
            else None
        ),
        "signature": {
            "file": "manifest.sig",
            "algorithm": "HMAC-SHA256",
            "key": f"django salted_hmac({SIGNATURE_SALT!r}, SECRET_KEY)",
        },
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    manifest_hash = sha256(manifest_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.jsonl", jsonl_bytes)
        archive.writestr("records.csv", csv_bytes)
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("manifest.sig", manifest_signature(manifest_bytes) + "\n")
    return BuiltExport(
        data=buffer.getvalue(),
        record_count=records,
        event_count=len(lines) - records,
        first_hash=first_hash,
        last_hash=last_hash,
        manifest_hash=manifest_hash,
        chain_hash=sha256(
            ((previous.chain_hash if previous else "") or GENESIS_HASH).encode()
            + manifest_hash.encode()
        ),
    )


# --- verification -------------------------------------------------------------------------


def _read(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        return {name: archive.read(name) for name in FILES if name in names}


def export_problems(
    data: bytes, *, previous: bytes | None = None, check_signature: bool = True
) -> list[str]:
    """Everything wrong with an exported ZIP, in words; an empty list means intact: the
    manifest is signed by this installation, the files are those it names, every line's
    hash and link to the one before hold, and (given the previous export) the chain of
    exports is unbroken."""
    try:
        files = _read(data)
    except zipfile.BadZipFile:
        return ["not a ZIP file"]
    problems = [f"{name} is missing" for name in FILES if name not in files]
    if "manifest.json" not in files:
        return problems
    manifest_bytes = files["manifest.json"]
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return [*problems, "manifest.json is not JSON"]
    if not isinstance(manifest, dict):
        return [*problems, "manifest.json is not a JSON object"]
    if check_signature and "manifest.sig" in files:
        signature = files["manifest.sig"].decode(errors="replace").strip()
        if not signature_matches(signature, manifest_bytes):
            problems.append("the manifest's signature does not match (manifest altered)")
    named = manifest.get("files")
    for name, expected in (named if isinstance(named, dict) else {}).items():
        if name in files and sha256(files[name]) != expected:
            problems.append(f"{name} is not the file the manifest names (altered)")

    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(files.get("records.jsonl", b"").splitlines(), start=1):
        try:
            lines.append(json.loads(raw))
        except ValueError:
            problems.append(f"records.jsonl line {number} is not JSON")
    listed: dict[int, dict[str, Any]] = {}
    manifest_lines = manifest.get("lines")
    for number, entry in enumerate(
        manifest_lines if isinstance(manifest_lines, list) else [], start=1
    ):
        sequence = entry.get("sequence") if isinstance(entry, dict) else None
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            problems.append(f"the manifest's line {number} has no valid sequence")
        elif not isinstance(entry.get("sha256"), str):
            problems.append(f"the manifest's entry {sequence} has no sha256")
        else:
            listed[sequence] = entry
    if not isinstance(manifest_lines, list):
        problems.append("the manifest lists no lines")
    present = {line.get("sequence") for line in lines if isinstance(line, dict)}
    for sequence in sorted(set(listed) - present):
        problems.append(f"entry {sequence} (share {listed[sequence].get('share_id')}) was removed")
    for raw, line in zip(files.get("records.jsonl", b"").splitlines(), lines, strict=False):
        if not isinstance(line, dict):
            problems.append("records.jsonl holds a line that is not a JSON object")
            continue
        sequence = line.get("sequence")
        entry = listed.get(sequence) if isinstance(sequence, int) else None
        if entry is None:
            problems.append(f"entry {sequence} is not in the manifest (added)")
        elif sha256(raw) != entry["sha256"]:
            problems.append(f"entry {sequence} (share {entry.get('share_id')}) was edited")
    problems.extend(line_problems(lines))
    chain = manifest.get("chain") or {}
    if not isinstance(chain, dict):
        chain = {}
    first_line = lines[0] if lines and isinstance(lines[0], dict) else {}
    last_line = lines[-1] if lines and isinstance(lines[-1], dict) else {}
    if lines and chain.get("first_hash") != first_line.get("record_hash"):
        problems.append("the first entry is not the one the manifest names")
    if lines and chain.get("last_hash") != last_line.get("record_hash"):
        problems.append("the last entry is not the one the manifest names")
    head = chain.get("head")
    last_sequence = last_line.get("sequence")
    if isinstance(head, dict) and isinstance(last_sequence, int):
        if isinstance(head.get("sequence"), int) and last_sequence > head["sequence"]:
            problems.append("the last entry is beyond the chain's head the manifest names")
        elif last_sequence == head.get("sequence") and last_line.get("record_hash") != head.get(
            "hash"
        ):
            problems.append("the last entry is not the chain's head the manifest names")
    counts = manifest.get("counts") or {}
    if not isinstance(counts, dict):
        counts = {}
    if counts.get("lines") != len(lines):
        problems.append(
            f"the manifest counts {counts.get('lines')} entries, the file has {len(lines)}"
        )

    if previous is not None:
        link = manifest.get("previous_export") or {}
        if not isinstance(link, dict):
            link = {}
        try:
            previous_manifest = _read(previous).get("manifest.json", b"")
        except zipfile.BadZipFile:
            previous_manifest = b""
        if link.get("manifest_sha256") != sha256(previous_manifest):
            problems.append("the previous export given is not the one this export follows")
        else:
            problems.extend(
                f"previous export: {problem}"
                for problem in export_problems(previous, check_signature=check_signature)
            )
    return problems
