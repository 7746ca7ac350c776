"""Every way a share leaves Portevoix leaves exactly one archived record with the final
text, and what happens afterwards is appended as events: the real pipeline against the
fake network, the signal sent on commit, and the sweep for a lost signal."""

from __future__ import annotations

import pytest

from advocacy.models import Share, ShareStatus
from advocacy.services.sharing import share_confirm, share_dismiss
from archive.chain import chain_problems
from archive.models import ArchivedShare, ArchiveEvent
from archive.services import shares_archive_sweep
from content.services import content_withdraw
from organizations.models import Role
from tests.advocacy import conftest as sharing
from tests.advocacy import workers
from tests.advocacy.conftest import connect, make_content, share_now
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Fixtures: captured broker calls, the fake network and the settings pointing at it.
dispatched = workers.dispatched
fake_network = sharing.fake_network
sharing_settings = sharing.sharing_settings


def _events(share: Share) -> list[str]:
    return list(ArchiveEvent.objects.filter(share_id=share.pk).values_list("kind", flat=True))


def test_api_post_published_is_archived_once_with_the_text_as_sent(
    personas, fake_network, dispatched
):
    content = make_content(personas.organization, author=personas.owner)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert not ArchivedShare.objects.exists()  # scheduled: nothing has left yet
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    [record] = ArchivedShare.objects.all()
    assert record.share_id == share.pk
    assert record.text == share.text
    assert "Proud of our teams." in record.text
    [post] = fake_network.live_posts()
    assert record.external_id == post.id == share.external_id
    assert record.outcome == "published"
    assert record.mode == "api"
    assert record.person_email == personas.teammate.email
    assert record.tracked_url.endswith(f"/s/{share.tracked_link.code}")
    assert record.destination_url == share.tracked_link.destination
    assert record.account_external_id == share.account.external_id
    assert record.team_names == ["Communication"]
    assert record.published_at == share.published_at
    # Observed again (the sweep, a second signal): still one record, no event.
    assert shares_archive_sweep() == {"record": 0, "event": 0, "failed": 0}
    assert ArchivedShare.objects.count() == 1 and not ArchiveEvent.objects.exists()


def test_share_link_confirmed_is_archived_once(personas, fake_network):
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    assert share.status == ShareStatus.AWAITING_CONFIRMATION
    assert not ArchivedShare.objects.exists()
    share_confirm(user=personas.teammate, share=share)
    [record] = ArchivedShare.objects.all()
    assert record.share_id == share.pk and record.mode == "link"
    assert record.text == Share.objects.get(pk=share.pk).text
    assert record.outcome == "published"
    assert record.network == "facebook"


def test_share_link_dismissed_never_left_and_is_not_archived(personas, fake_network):
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    share_dismiss(user=personas.teammate, share=share)
    assert shares_archive_sweep() == {"record": 0, "event": 0, "failed": 0}
    assert not ArchivedShare.objects.exists()


def test_rejected_share_is_archived_as_failed(personas, fake_network, dispatched):
    content = make_content(personas.organization, author=personas.owner)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    fake_network.script({"status": 400})
    assert dispatched.run() == ["failed"]
    [record] = ArchivedShare.objects.all()
    assert record.share_id == share.pk
    assert record.outcome == "failed"
    assert record.published_at is None and record.external_id == ""
    assert record.text == Share.objects.get(pk=share.pk).text
    assert record.error


def test_recalled_share_keeps_one_record_and_its_events(personas, fake_network, dispatched):
    content = make_content(personas.organization, author=personas.owner)
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]
    link_sharer = UserFactory(organization=personas.organization, role=Role.EMPLOYEE)
    [link_share] = share_now(link_sharer, content, networks=("facebook",))
    share_confirm(user=link_sharer, share=link_share)

    content_withdraw(actor=editor, content=content, reason="Wrong figures")
    assert dispatched.run() == ["deleted"]
    assert Share.objects.get(pk=share.pk).status == ShareStatus.RECALLED
    assert not fake_network.live_posts()

    assert ArchivedShare.objects.count() == 2
    record = ArchivedShare.objects.get(share_id=share.pk)
    assert record.outcome == "published"
    assert _events(share) == ["recall_pending", "recalled"]
    assert _events(link_share) == ["recall_asked"]
    assert chain_problems(personas.organization.pk) == []


@pytest.fixture
def lost_signals():
    """The archive's receiver unplugged: as if every worker died between commit and signal."""
    from advocacy.signals import share_state_changed
    from archive.services import on_share_state_changed

    share_state_changed.disconnect(dispatch_uid="archive-share-state")
    yield
    share_state_changed.connect(on_share_state_changed, dispatch_uid="archive-share-state")


def test_the_sweep_archives_shares_whose_signal_was_lost(
    personas, fake_network, dispatched, lost_signals
):
    content = make_content(personas.organization, author=personas.owner)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]
    [link_share] = share_now(personas.owner, content, networks=("facebook",))
    share_confirm(user=personas.owner, share=link_share)
    assert not ArchivedShare.objects.exists()

    assert shares_archive_sweep() == {"record": 2, "event": 0, "failed": 0}
    assert shares_archive_sweep() == {"record": 0, "event": 0, "failed": 0}
    assert set(ArchivedShare.objects.values_list("share_id", "text")) == {
        (share.pk, Share.objects.get(pk=share.pk).text),
        (link_share.pk, Share.objects.get(pk=link_share.pk).text),
    }
    # A later change whose signal was lost too is caught up as an event.
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    content_withdraw(actor=editor, content=content, reason="Wrong figures")
    assert shares_archive_sweep() == {"record": 0, "event": 2, "failed": 0}
    assert _events(link_share) == ["recall_asked"]
    assert _events(share) == ["recall_pending"]
    assert chain_problems(personas.organization.pk) == []
