"""Events after the record: an unknown outcome confirmed or dismissed by the employee, sent
by the real services on commit; one event per change of state, never a second record."""

from __future__ import annotations

import pytest
from django.utils import timezone

from advocacy.models import Share, ShareMode, ShareStatus
from advocacy.services.sharing import share_confirm, share_dismiss
from archive.chain import chain_problems
from archive.models import ArchivedShare, ArchiveEvent
from archive.services import share_archive_observe
from tests.archive.conftest import approved_content

pytestmark = pytest.mark.django_db


def _unknown_share(user, content) -> Share:
    share = Share.objects.create(
        organization_id=content.organization_id,
        user=user,
        content=content,
        network="linkedin",
        mode=ShareMode.API,
        text="Maybe posted #ad",
        status=ShareStatus.OUTCOME_UNKNOWN,
        scheduled_at=timezone.now(),
    )
    assert share_archive_observe(share_id=share.pk) == "record"
    return share


@pytest.mark.parametrize(
    ("action", "kind"), [(share_confirm, "published"), (share_dismiss, "dismissed")]
)
def test_unknown_outcome_resolved_by_the_employee_is_an_event(
    personas, django_capture_on_commit_callbacks, action, kind
):
    share = _unknown_share(personas.teammate, approved_content(personas.organization))
    record = ArchivedShare.objects.get(share_id=share.pk)
    assert record.outcome == "outcome_unknown" and record.published_at is None
    with django_capture_on_commit_callbacks(execute=True):
        action(user=personas.teammate, share=share)
    [event] = ArchiveEvent.objects.filter(share_id=share.pk)
    assert event.kind == kind and event.record_id == record.pk
    assert (event.published_at is not None) == (kind == "published")
    assert event.previous_hash == record.record_hash
    # Heard again: nothing more.
    assert share_archive_observe(share_id=share.pk) == "nothing"
    assert ArchivedShare.objects.count() == 1 and ArchiveEvent.objects.count() == 1
    assert chain_problems(personas.organization.pk) == []


def test_another_organisations_chain_is_separate(personas):
    mine = _unknown_share(personas.teammate, approved_content(personas.organization))
    theirs = _unknown_share(personas.outsider, approved_content(personas.other_organization))
    a = ArchivedShare.objects.get(share_id=mine.pk)
    b = ArchivedShare.objects.get(share_id=theirs.pk)
    assert a.sequence == b.sequence == 1
    assert a.previous_hash == b.previous_hash == "0" * 64
