"""API paths of the privacy app, mounted under /api/v1/ (before the router, so that
`users/<id>/erase/` is ours)."""

from __future__ import annotations

from privacy import api

urlpatterns = [*api.urlpatterns]
