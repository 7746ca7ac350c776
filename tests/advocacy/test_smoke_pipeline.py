from __future__ import annotations

from unittest import mock

import pytest

from advocacy.models import ShareStatus
from advocacy.services.pipeline import share_publish
from tests.advocacy.conftest import connect, make_content, share_now

pytestmark = pytest.mark.django_db(transaction=True)


def test_share_now_posts_once(personas, fake_network):
    content = make_content(personas.organization)
    connect(personas.teammate)
    with mock.patch("advocacy.services.pipeline._enqueue"):
        [share] = share_now(personas.teammate, content)
    assert share.status == ShareStatus.SCHEDULED
    assert share_publish(share_id=share.pk) == "published"
    assert share_publish(share_id=share.pk) == "not-scheduled"
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    [post] = fake_network.live_posts()
    assert post.link.endswith(f"/s/{share.tracked_link.code}")
    assert share.attempts.count() == 1
