"""The whole pipeline through the real X and LinkedIn adapters, over HTTP, against the
loopback fakes that answer as the networks' documentation and recorded exchanges show."""

from __future__ import annotations

import pytest

from advocacy.models import ShareStatus
from content.services import content_withdraw
from tests.advocacy import workers
from tests.advocacy.conftest import connect_real, make_content, network_app, share_now

pytestmark = pytest.mark.django_db(transaction=True)

dispatched = workers.dispatched  # a fixture


def test_x_share_goes_out_with_its_tracked_link_and_is_deleted_on_recall(
    personas, fake_x, dispatched
):
    network_app(personas.organization, "x")
    connect_real(personas.teammate, fake_x, "x")
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("x",))
    assert share.mode == "api"
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    [tweet] = fake_x.live_tweets()
    assert share.status == ShareStatus.PUBLISHED
    assert share.external_id == tweet.id
    assert share.external_url == f"https://x.com/i/web/status/{tweet.id}"
    assert any(u["expanded_url"].endswith(f"/s/{share.tracked_link.code}") for u in tweet.urls)

    content_withdraw(content=content, actor=personas.owner, reason="Crisis")
    assert dispatched.run() == ["deleted"]
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALLED
    assert fake_x.live_tweets() == []


def test_linkedin_share_is_an_article_with_the_tracked_link_and_is_deleted_on_recall(
    personas, fake_linkedin, dispatched
):
    network_app(personas.organization, "linkedin")
    connect_real(personas.teammate, fake_linkedin, "linkedin")
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("linkedin",))
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    [post] = fake_linkedin.live_posts()
    assert share.status == ShareStatus.PUBLISHED
    assert share.external_id == post.urn
    assert post.content["article"]["source"].endswith(f"/s/{share.tracked_link.code}")

    content_withdraw(content=content, actor=personas.owner, reason="Crisis")
    assert dispatched.run() == ["deleted"]
    assert fake_linkedin.live_posts() == []


def test_a_linkedin_article_takes_its_thumbnail_from_the_link_preview(
    personas, fake_linkedin, dispatched, settings, tmp_path
):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    network_app(personas.organization, "linkedin")
    connect_real(personas.teammate, fake_linkedin, "linkedin")
    content = make_content(
        personas.organization, author=personas.owner, preview_title="Our new plant"
    )
    buffer = io.BytesIO()
    Image.new("RGB", (120, 63), "teal").save(buffer, "JPEG")
    content.preview_image.save("preview.jpg", ContentFile(buffer.getvalue()))
    share_now(personas.teammate, content, networks=("linkedin",))
    assert dispatched.run() == ["published"]
    [post] = fake_linkedin.live_posts()
    article = post.content["article"]
    assert article["title"] == "Our new plant"
    assert article["thumbnail"].startswith("urn:li:image:")
    assert any(r.method == "PUT" for r in fake_linkedin.requests_log)
