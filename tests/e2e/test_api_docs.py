"""The API documentation renders in a browser from local assets, under our CSP."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_offline(page, live_server):
    external: list[str] = []

    def record(request) -> None:
        if not request.url.startswith((live_server.url, "data:")):
            external.append(request.url)

    page.on("request", record)
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Portevoix API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/me/").count() >= 1
    assert external == []
    screenshot(page, "api-docs")
