"""The app's routes under /api/v1/ (config/urls.py includes them)."""

from __future__ import annotations

from messaging.api import urlpatterns as api_urlpatterns

urlpatterns = [*api_urlpatterns]
