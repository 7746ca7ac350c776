"""API paths of the archive app, mounted under /api/v1/."""

urlpatterns: list = []
