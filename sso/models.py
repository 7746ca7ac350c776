"""Single sign-on of one organisation: its identity provider (SAML 2.0 or OpenID Connect),
the email domains it has proved it owns, and the SAML assertions already used.

allauth's own SocialApp table is not used for these: it would keep the OpenID client secret
in clear, and an admin would have to edit it. The adapter builds each organisation's
SocialApp in memory from SsoConnection (sso.adapter), as advocacy does for network apps."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization, Role


class Protocol(models.TextChoices):
    NONE = "", _("Off")
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")


class TeamMatch(models.TextChoices):
    NAME = "name", _("team name")
    EXTERNAL_ID = "external_id", _("team external id")


class SsoConnection(models.Model):
    """One per organisation. Attribute names left blank take the protocol's usual ones
    (sso.mapping)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="sso_connection"
    )
    protocol = models.CharField(
        _("protocol"), max_length=4, choices=Protocol.choices, blank=True, default=""
    )
    # OpenID Connect: the issuer (discovery at <issuer>/.well-known/openid-configuration).
    oidc_issuer = models.URLField(_("issuer URL"), max_length=500, blank=True)
    oidc_client_id = models.CharField(_("client id"), max_length=255, blank=True)
    # Encrypted with FIELD_ENCRYPTION_KEYS (advocacy.token_vault); never stored in clear.
    oidc_client_secret = models.TextField(blank=True)
    # The discovery document's endpoints as checked when the connection was saved: given
    # to allauth so that sign-in never follows endpoints that were not checked.
    oidc_endpoints = models.JSONField(default=dict, blank=True)
    # SAML: the IdP's metadata as given (file or URL), and what was read from it.
    saml_metadata_url = models.URLField(_("metadata URL"), max_length=500, blank=True)
    saml_metadata_xml = models.TextField(blank=True)
    saml_idp_entity_id = models.CharField(max_length=500, blank=True)
    saml_idp_sso_url = models.URLField(max_length=500, blank=True)
    saml_idp_x509cert = models.TextField(blank=True)
    # Attribute mapping.
    attr_email = models.CharField(_("email"), max_length=255, blank=True)
    attr_first_name = models.CharField(_("first name"), max_length=255, blank=True)
    attr_last_name = models.CharField(_("last name"), max_length=255, blank=True)
    attr_language = models.CharField(_("language"), max_length=255, blank=True)
    attr_team = models.CharField(_("team"), max_length=255, blank=True)
    team_match = models.CharField(
        _("teams are matched by"), max_length=12, choices=TeamMatch.choices, default="name"
    )
    create_unknown_teams = models.BooleanField(_("create unknown teams"), default=False)
    attr_groups = models.CharField(_("groups"), max_length=255, blank=True)
    # {"group name": "role"}: the strongest role among the person's groups applies.
    group_roles = models.JSONField(default=dict, blank=True)
    # Enforcement: password sign-in refused for the organisation's verified domains.
    require_sso = models.BooleanField(_("require single sign-on"), default=False)
    break_glass_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("break-glass administrator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(protocol="")
                | Q(protocol="oidc", oidc_issuer__gt="", oidc_client_id__gt="")
                | Q(protocol="saml", saml_idp_entity_id__gt="", saml_idp_sso_url__gt=""),
                name="sso_connection_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_protocol_display()})"

    @property
    def enabled(self) -> bool:
        return bool(self.protocol)

    @property
    def oidc_provider_id(self) -> str:
        """allauth's provider id: /accounts/oidc/sso-<slug>/login/callback/."""
        return f"sso-{self.organization.slug}"


def _verification_token() -> str:
    return secrets.token_urlsafe(24)


class ClaimedDomain(models.Model):
    """An email domain the organisation says is its own. Only a verified one routes the
    login page to its IdP, lets SSO match an existing person, and is enforced."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="claimed_domains"
    )
    domain = models.CharField(_("domain"), max_length=253)
    token = models.CharField(max_length=64, default=_verification_token)
    verified_at = models.DateTimeField(null=True, blank=True)
    # "dns" (the TXT record was found) or "operator" (confirmed by the platform operator).
    verified_by = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "domain"], name="claimed_domain_unique_per_org"
            ),
            # Two organisations may claim a domain; only one may prove it.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="claimed_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def record_name(self) -> str:
        return f"_portevoix.{self.domain}"

    @property
    def record_value(self) -> str:
        return f"portevoix-verification={self.token}"


class SamlAssertion(models.Model):
    """Every SAML assertion accepted, until it expires: the same assertion presented again
    (a replay) is refused by the unique id."""

    assertion_id = models.CharField(max_length=255, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    not_on_or_after = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.assertion_id


ROLE_STRENGTH = [
    Role.EMPLOYEE,
    Role.MANAGER,
    Role.COMPLIANCE_OFFICER,
    Role.REVIEWER,
    Role.EDITOR,
    Role.ORG_ADMIN,
]
