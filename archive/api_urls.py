"""API paths of the archive app, mounted under /api/v1/."""

from __future__ import annotations

from archive import api

urlpatterns = [*api.urlpatterns]
