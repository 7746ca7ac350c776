"""A real Celery worker posting through the real LinkedIn adapter, over HTTP, to the loopback
fake of LinkedIn, killed after LinkedIn accepted the post: the sweeper takes the claim back,
LinkedIn cannot say whether the post exists (no r_member_social), so the employee is asked and
nothing is posted again."""

from __future__ import annotations

import pytest

from advocacy.models import Share, ShareStatus
from advocacy.services.pipeline import shares_sweep
from notifications.models import Notification
from tests.advocacy import workers
from tests.advocacy.conftest import connect_real, make_content, network_app, share_now
from tests.advocacy.workers import queue_length, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

celery_queue = workers.celery_queue  # a fixture
celery_worker = workers.celery_worker  # a fixture


def _post_requests(fake) -> list:
    return [r for r in fake.requests_log if r.method == "POST" and r.path == "/rest/posts"]


def test_worker_killed_after_linkedin_accepted_the_post_leaves_exactly_one_post(
    personas, fake_linkedin, celery_worker, settings
):
    network_app(personas.organization, "linkedin")
    connect_real(personas.teammate, fake_linkedin, "linkedin")
    content = make_content(personas.organization, author=personas.owner)
    fake_linkedin.script({"accept_then_hang": 30, "on": "posts"})
    linkedin_env = {
        "LINKEDIN_API_BASE_URL": settings.LINKEDIN_API_BASE_URL,
        "LINKEDIN_OAUTH_BASE_URL": settings.LINKEDIN_OAUTH_BASE_URL,
    }
    settings.NETWORK_READ_TIMEOUT = 60  # the worker must still be waiting when it dies
    worker = celery_worker.start(**linkedin_env)
    settings.NETWORK_READ_TIMEOUT = 2
    [share] = share_now(personas.teammate, content, networks=("linkedin",))
    [post] = wait_for(
        lambda: fake_linkedin.live_posts(), timeout=30, what="the fake to hold the post"
    )
    worker.kill()
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHING
    assert share.request_sent_at is not None
    assert post.content["article"]["source"].endswith(f"/s/{share.tracked_link.code}")

    settings.SHARE_CLAIM_TIMEOUT_SECONDS = 1
    celery_worker.start(**linkedin_env)  # a new worker is running while recovery happens
    wait_for(lambda: shares_sweep()["recovered"] == 1, timeout=10, what="the recovery")
    share.refresh_from_db()
    # LinkedIn lets no ordinary app read a member's posts: the employee settles it.
    assert share.status == ShareStatus.OUTCOME_UNKNOWN
    assert share.external_id == ""
    assert [a.kind for a in share.attempts.all()] == ["reconcile"]
    assert Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.share_problem"
    ).exists()

    # Nothing sends it again: not the sweeper, not the new worker.
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    assert shares_sweep() == {"dispatched": 0, "recovered": 0}
    # The new worker drains its queue (the employee's notification email) and posts nothing.
    wait_for(lambda: queue_length(celery_worker.queue) == 0, timeout=10, what="an empty queue")
    assert Share.objects.get(pk=share.pk).status == ShareStatus.OUTCOME_UNKNOWN
    assert [p.urn for p in fake_linkedin.live_posts()] == [post.urn]
    assert len(_post_requests(fake_linkedin)) == 1
