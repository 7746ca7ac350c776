"""Pages of the privacy app."""

urlpatterns: list = []
