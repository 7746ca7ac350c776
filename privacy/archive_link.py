"""What the archive (issue 17, legal retention of what was shared) keeps about a person.

Its rows cannot be changed (a database trigger): erasure never touches them, and the
export and the erasure page say that they are kept and until when. The export reads the
full records (`archive_summary`); the pages only need how many and until when
(`archive_count`, one aggregate query)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max

from organizations.models import User


def archive_summary(*, user: User) -> dict[str, Any]:
    """{"count", "retained_until", "records"} of `archive.selectors.person_archive_summary`."""
    try:
        from archive.selectors import person_archive_summary
    except ImportError:
        return {"count": 0, "retained_until": None, "records": []}
    summary = dict(person_archive_summary(user=user))
    summary.setdefault("records", [])
    summary.setdefault("retained_until", None)
    summary["count"] = int(summary.get("count") or 0)
    return summary


def archive_count(*, user: User) -> dict[str, Any]:
    """{"count", "retained_until"} of what the archive keeps under the person's id: one
    aggregate query, without loading the records or their events (for the pages)."""
    try:
        from archive.models import ArchivedShare
    except ImportError:
        return {"count": 0, "retained_until": None}
    found = ArchivedShare.objects.filter(person_id=user.pk).aggregate(
        count=Count("pk"), retained_until=Max("retain_until")
    )
    return {"count": int(found["count"] or 0), "retained_until": found["retained_until"]}
