"""Django admin pages of the ledger (staff only). Entries are read-only; a click entry
can be reversed as fraudulent, which writes the reversal entry."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from challenges.models import BadgeAward, Level, PointEntry, PointReason, Score, ScoringRule


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "organization", "user", "reason", "points", "spendable_delta"]
    list_filter = ["organization", "reason"]
    search_fields = ["source_key", "user__email"]
    raw_id_fields = ["user", "share", "content", "reversal_of"]
    actions = ["reverse_as_fraudulent"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Reverse selected click points as fraudulent"))
    def reverse_as_fraudulent(self, request: HttpRequest, queryset: QuerySet[PointEntry]) -> None:
        from challenges.services.points import points_reverse

        reversed_count = 0
        for entry in queryset.filter(reason=PointReason.CLICK, reversed_by__isnull=True):
            done = points_reverse(
                source_key=entry.source_key,
                reversal_key=f"click-fraud:{entry.source_key.removeprefix('click:')}",
                note=str(_("Click found fraudulent")),
                reason=PointReason.CLICK_FRAUD,
            )
            reversed_count += done is not None
        self.message_user(
            request,
            ngettext(
                "%(count)d click entry reversed.",
                "%(count)d click entries reversed.",
                reversed_count,
            )
            % {"count": reversed_count},
            messages.SUCCESS,
        )


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "organization",
        "lifetime_points",
        "spendable_points",
        "hidden_from_rankings",
    ]
    list_filter = ["organization", "hidden_from_rankings"]
    readonly_fields = ["lifetime_points", "spendable_points", "share_count", "click_count"]
    raw_id_fields = ["user"]


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["organization", "event", "points", "daily_cap_per_share", "is_active"]
    list_filter = ["organization", "event"]


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["organization", "threshold", "name_en", "name_fr"]
    list_filter = ["organization"]


@admin.register(BadgeAward)
class BadgeAwardAdmin(admin.ModelAdmin):
    list_display = ["awarded_at", "organization", "user", "badge"]
    list_filter = ["organization", "badge"]
    raw_id_fields = ["user"]
