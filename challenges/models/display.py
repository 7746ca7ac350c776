"""The lobby screen of an organisation: a secret URL (only its hash is kept) and the
intranet origins allowed to embed its widget."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

__all__ = ["DisplayScreen"]


class DisplayScreen(models.Model):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="display_screen"
    )
    # SHA-256 of the URL's secret (256 random bits, so no slow hash is needed): a leaked
    # database does not open the screen, and the admin sees the URL only once.
    secret_hash = models.CharField(max_length=64, unique=True)
    intranet_origins = models.JSONField(_("intranet origins"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("lobby screen")
        verbose_name_plural = _("lobby screens")

    def __str__(self) -> str:
        return str(_("Lobby screen"))
