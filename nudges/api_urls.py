"""The app's routes under /api/v1/ (config/urls.py includes them)."""

from __future__ import annotations

from nudges import api

urlpatterns = [*api.urlpatterns]
