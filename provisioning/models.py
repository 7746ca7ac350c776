"""SCIM provisioning: the organisation's bearer tokens, and the people an identity
provider deleted (kept here as deactivated, gone for SCIM)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


class ScimToken(models.Model):
    """A bearer token an org admin created for their identity provider. Only the SHA-256
    digest of the token is stored: the clear token is shown once, when it is created."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="scim_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, to recognise it in the list and the audit log.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("SCIM token")
        verbose_name_plural = _("SCIM tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ScimPerson(models.Model):
    """What SCIM knows of a person beyond the User row: the language the identity provider
    set (unassigned when it set none, while the person keeps a language of their own), and
    whether the identity provider deleted them (SCIM answers 404 for them from then on,
    while Portevoix keeps the account, deactivated, with its history)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_person"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    preferred_language = models.CharField(max_length=5, blank=True, default="")
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("person provisioned by SCIM")
        verbose_name_plural = _("people provisioned by SCIM")

    def __str__(self) -> str:
        return str(self.user)
