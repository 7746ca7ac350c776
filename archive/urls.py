"""Pages of the archive app."""

urlpatterns: list = []
