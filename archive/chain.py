"""The hash chain: each record and event is hashed as SHA-256(previous hash + its canonical
JSON). The same functions build the export lines and check them again, in the database
(`chain_problems`) and in an exported file (archive.verification)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from archive.models import GENESIS_HASH, ArchivedShare, ArchiveEvent, ChainHead

HASH_FIELDS = ("previous_hash", "record_hash")

RECORD_FIELDS = (
    "organization_id", "organization_name", "sequence", "share_id", "person_id",
    "person_name", "person_email", "team_names", "network", "mode", "account_name",
    "account_external_id", "text", "tracked_url", "destination_url", "content_id",
    "content_title", "content_version", "content_snapshot", "approvals", "outcome", "error",
    "shared_at", "left_at", "published_at", "external_id", "external_url", "archived_at",
    "retain_until",
)  # fmt: skip
EVENT_FIELDS = (
    "organization_id", "sequence", "share_id", "kind", "occurred_at", "published_at",
    "external_id", "external_url", "detail", "archived_at", "retain_until",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256((previous_hash + canonical(payload)).encode()).hexdigest()


def payload_of(entry: ArchivedShare | ArchiveEvent) -> dict[str, Any]:
    """What is hashed: every field but the hashes themselves and the database's id."""
    if isinstance(entry, ArchivedShare):
        body = {name: _plain(getattr(entry, name)) for name in RECORD_FIELDS}
        body["type"] = "share"
    else:
        body = {name: _plain(getattr(entry, name)) for name in EVENT_FIELDS}
        body["type"] = "event"
    return body


def line_of(entry: ArchivedShare | ArchiveEvent) -> dict[str, Any]:
    """One export line: the payload and its two hashes."""
    return {
        **payload_of(entry),
        "previous_hash": entry.previous_hash,
        "record_hash": entry.record_hash,
    }


def line_problems(
    lines: Iterable[dict[str, Any]],
    *,
    start: tuple[int, str] | None = None,
    end: tuple[int, str] | None = None,
) -> list[str]:
    """Check a run of lines in chain order: each hash recomputed, each link to the one
    before, no position skipped. Given `start` (the sequence and hash the run follows: the
    genesis or the purge's checkpoint), the first line must follow it; given `end` (the
    chain head's sequence and hash), the last line must be it. Returns the problems found,
    in words (empty: intact)."""
    problems: list[str] = []
    before: dict[str, Any] | None = None
    first = True
    for line in lines:
        if not isinstance(line, dict):
            problems.append("an entry is not a JSON object")
            continue
        payload = {k: v for k, v in line.items() if k not in HASH_FIELDS}
        sequence = line.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            problems.append(f"an entry has no valid position ({sequence!r})")
            before, first = None, False
            continue
        if entry_hash(str(line.get("previous_hash", "")), payload) != line.get("record_hash"):
            problems.append(f"entry {sequence}: its content does not match its hash (edited)")
        if first and start is not None:
            if sequence != start[0] + 1:
                problems.append(
                    f"entries {start[0] + 1} to {sequence - 1}: missing"
                    if sequence > start[0] + 1
                    else f"entry {sequence}: comes before the start of the chain"
                )
            elif line.get("previous_hash") != start[1]:
                problems.append(f"entry {sequence}: does not follow the start of the chain")
        if before is not None:
            if sequence != before["sequence"] + 1:
                problems.append(f"entries {before['sequence'] + 1} to {sequence - 1}: missing")
            elif line.get("previous_hash") != before.get("record_hash"):
                problems.append(f"entry {sequence}: does not follow entry {before['sequence']}")
        before, first = line, False
    if end is not None:
        last_sequence = before["sequence"] if before is not None else None
        if before is None:
            if start is None or end[0] != start[0]:
                problems.append(f"entries {(start or (0, ''))[0] + 1} to {end[0]}: missing")
        elif last_sequence != end[0] or before.get("record_hash") != end[1]:
            problems.append(
                f"entries after {last_sequence}: missing (the chain's head is entry {end[0]})"
                if isinstance(last_sequence, int) and last_sequence < end[0]
                else f"entry {last_sequence}: is not the chain's head (entry {end[0]})"
            )
    return problems


def organization_lines(
    organization_id: int, *, first: int | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """An organisation's records and events, merged in chain order."""
    records = ArchivedShare.objects.filter(organization_id=organization_id)
    events = ArchiveEvent.objects.filter(organization_id=organization_id)
    if first is not None:
        records, events = records.filter(sequence__gte=first), events.filter(sequence__gte=first)
    if last is not None:
        records, events = records.filter(sequence__lte=last), events.filter(sequence__lte=last)
    entries: list[ArchivedShare | ArchiveEvent] = [*records, *events]
    entries.sort(key=lambda entry: entry.sequence)
    return [line_of(entry) for entry in entries]


def chain_problems(organization_id: int) -> list[str]:
    """The whole chain of an organisation, checked in the database: from the genesis (or
    the purge's checkpoint) to the head, with nothing missing at either end."""
    head = ChainHead.objects.filter(organization_id=organization_id).first()
    if head is None:
        start, end = (0, GENESIS_HASH), (0, GENESIS_HASH)
    else:
        start = (head.purged_sequence, head.purged_hash)
        end = (head.sequence, head.last_hash)
    lines = organization_lines(organization_id, first=start[0] + 1)
    return line_problems(lines, start=start, end=end)
