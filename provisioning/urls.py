"""The SCIM endpoint and the administration page (config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import path, re_path

from provisioning import views

urlpatterns = [
    # Every SCIM path, with or without a trailing slash: the library routes and answers
    # 404 in SCIM JSON for what it does not serve.
    re_path(r"^scim/v2(?P<path>/.*)?$", views.scim_endpoint, name="scim_endpoint"),
    path("admin/scim/", views.scim_admin, name="scim_admin"),
]
