"""The SSO administration page and the login page's discovery (config/urls.py includes
them at the root). allauth serves the protocol endpoints: /accounts/oidc/sso-<slug>/… and
/accounts/saml/<slug>/…"""

from __future__ import annotations

from django.urls import path

from sso import views

urlpatterns = [
    path("admin/sso/", views.sso_admin, name="sso_admin"),
    path("accounts/sso/discover/", views.sso_discover, name="sso_discover"),
    path("accounts/sso/<slug:slug>/start/", views.sso_start, name="sso_start"),
]
