"""The registry of personal data: for every model that refers to a person (a foreign key,
one-to-one or many-to-many to the user model), what the export writes and what erasure
does with it.

It lives here, in the top layer, rather than as hooks that each app registers: the
privacy app may import every app, and one table that lists every kind side by side is
what a data-protection officer (and the coverage test) reads. A model with a user field
that is in neither `REGISTRY` nor `EXCLUDED` fails `tests/privacy/test_registry.py`:
adding such a model means deciding here what happens to it.

Erasure strategies:
- DELETE: the person's rows go (preferences, deliveries, notifications…).
- UNLINK: many-to-many memberships (teams managed, reviewer groups): the person leaves
  them, the rows stay.
- KEEP: the rows stay on the account, which erasure turns into an opaque id (no name, no
  email): the points ledger, shares and clicks, so that totals, leaderboards and
  analytics do not move. `reason` says why they are kept.
- SPECIAL: `privacy.services.erasure` handles the model by name (the account itself, the
  audit log, connected accounts, the person's exports, SCIM's record of the person, the
  archive's export requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DELETE = "delete"
KEEP = "keep"
UNLINK = "unlink"  # many-to-many: the person is taken out of the relation, the rows stay
SPECIAL = "special"

# Never written into an export: secrets, and third parties' data.
ALWAYS_HIDDEN = {"password", "access_token", "refresh_token", "digest", "p256dh", "auth"}


@dataclass(frozen=True)
class PersonalData:
    model: str  # "app_label.ModelName"
    kind: str  # the file name in the ZIP (kind.json, kind.csv)
    title: Any  # what the README calls it (lazy, translated)
    user_fields: tuple[str, ...]
    erase: str
    reason: Any = ""
    # Exported columns: every concrete field (foreign keys as ids) but these.
    hidden_fields: tuple[str, ...] = ()
    # Extra filter on the rows (e.g. the audit log: only the person's organisation).
    scope_organization: bool = False
    about_person: bool = False
    # When set, only these columns (records of the organisation's work: enough to say
    # what the person did, not the whole object).
    only_fields: tuple[str, ...] = ()

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def rows_of(self, user: Any) -> models.QuerySet:
        model = self.model_class()
        if self.user_fields == ("pk",):
            rows = model._default_manager.filter(pk=user.pk)
        else:
            condition = Q()
            for name in self.user_fields:
                condition |= Q(**{name: user})
            if self.about_person:
                # Rows whose object is the person (the audit log's "about them").
                condition |= Q(target_type=user._meta.label_lower, target_id=str(user.pk))
            rows = model._default_manager.filter(condition)
        if self.scope_organization and user.organization_id is not None:
            rows = rows.filter(organization_id=user.organization_id)
        return rows.distinct().order_by("pk")

    def columns(self) -> list[tuple[str, str]]:
        """(field name, column name in the export) of the exported fields."""
        hidden = ALWAYS_HIDDEN | set(self.hidden_fields)
        return [
            (f.attname, f.attname)
            for f in self.model_class()._meta.concrete_fields
            if f.name not in hidden
            and f.attname not in hidden
            and (not self.only_fields or f.name in self.only_fields)
        ]


REGISTRY: list[PersonalData] = [
    # --- organizations ---------------------------------------------------------------------
    PersonalData(
        "organizations.User",
        "profile",
        _("Your profile"),
        ("pk",),
        SPECIAL,
        _("Name, job title, time zone and photo wiped, the address replaced by an opaque one."),
        hidden_fields=("is_superuser",),
    ),
    PersonalData(
        "organizations.Team",
        "managed_teams",
        _("Teams you manage"),
        ("managers",),
        UNLINK,
        _("The person is removed from the teams' managers."),
        only_fields=("id", "name", "kind"),
    ),
    PersonalData(
        "organizations.Invitation",
        "invitations_sent",
        _("Invitations you sent"),
        ("invited_by",),
        KEEP,
        _("Who invited whom belongs to the organisation; the link points to the opaque id."),
        hidden_fields=("token",),
    ),
    PersonalData(
        "organizations.Membership",
        "memberships",
        _("Your memberships of other organisations"),
        ("user",),
        DELETE,
        _("The person leaves the organisations they belonged to besides their own."),
    ),
    PersonalData(
        "organizations.AuditLogEntry",
        "audit_entries",
        _("Audit log entries by you or about you"),
        ("actor",),
        SPECIAL,
        _(
            "Kept (the audit trail is append-only) with the name and address replaced by the "
            "pseudonym."
        ),
        scope_organization=True,
        about_person=True,
    ),
    # --- notifications ---------------------------------------------------------------------
    PersonalData(
        "notifications.Notification",
        "notifications",
        _("Notifications"),
        ("recipient",),
        DELETE,
    ),
    PersonalData(
        "notifications.EmailPreference",
        "email_preferences",
        _("Email preferences"),
        ("user",),
        DELETE,
    ),
    PersonalData(
        "notifications.PushPreference", "push_preferences", _("Push preferences"), ("user",), DELETE
    ),
    PersonalData(
        "notifications.PushSubscription",
        "push_subscriptions",
        _("Devices receiving push notifications"),
        ("user",),
        DELETE,
        hidden_fields=("endpoint",),
    ),
    # --- content ---------------------------------------------------------------------------
    PersonalData(
        "content.Content",
        "content_written",
        _("Content you wrote or suggested"),
        ("author", "suggested_by"),
        KEEP,
        _("Published content belongs to the organisation; the link points to the opaque id."),
        only_fields=("id", "title", "status", "author", "suggested_by", "created_at"),
    ),
    PersonalData(
        "content.ContentVersion",
        "content_versions",
        _("Versions of content you edited"),
        ("author",),
        KEEP,
        _("The content's history belongs to the organisation."),
        only_fields=("id", "content", "number", "author", "created_at"),
    ),
    PersonalData(
        "content.Review",
        "reviews",
        _("Reviews you made"),
        ("reviewer",),
        KEEP,
        _("Approvals are a compliance record of the organisation."),
    ),
    PersonalData(
        "content.Suggestion",
        "suggestions",
        _("Your suggestions"),
        ("author", "decided_by"),
        KEEP,
        _("A suggestion may have become content; it stays, on the opaque id."),
    ),
    PersonalData(
        "content.Guideline",
        "guidelines_updated",
        _("Guidelines you updated"),
        ("updated_by",),
        KEEP,
        _("The guidelines belong to the organisation."),
        only_fields=("id", "kind", "title", "version", "updated_by", "updated_at"),
    ),
    PersonalData(
        "content.CharterAcceptance",
        "consents_charter",
        _("Your acceptances of the social media charter"),
        ("user",),
        KEEP,
        _(
            "Kept on the opaque id if the person's data is erased. Leaving the programme "
            "deletes them (the consent is withdrawn; sharing asks for the charter again); "
            "when the person joined and left, and which version they accepted, stay in "
            "their participation and the audit log."
        ),
    ),
    PersonalData(
        "content.ReviewerGroup",
        "reviewer_groups",
        _("Reviewer groups you belong to"),
        ("members",),
        UNLINK,
        _("The person is removed from the groups."),
        only_fields=("id", "name"),
    ),
    PersonalData(
        "content.ApprovalStep",
        "approval_steps",
        _("Approval steps you review"),
        ("reviewers",),
        UNLINK,
        _("The person is removed from the steps' reviewers."),
        only_fields=("id", "chain", "position", "name"),
    ),
    PersonalData("content.FeedVisit", "feed_visits", _("Your last feed visit"), ("user",), DELETE),
    PersonalData(
        "content.FeedSubscription",
        "feeds_added",
        _("News feeds you added"),
        ("created_by",),
        KEEP,
        _("The organisation's feeds stay."),
    ),
    # --- advocacy --------------------------------------------------------------------------
    PersonalData(
        "advocacy.SocialAccount",
        "connected_accounts",
        _("Connected network accounts"),
        ("user",),
        SPECIAL,
        _("Disconnected: the network token is revoked where the network allows it and deleted."),
    ),
    PersonalData(
        "advocacy.Share",
        "shares",
        _("Your shares"),
        ("user",),
        SPECIAL,
        _(
            "Scheduled shares are cancelled; the others stay on the opaque id so that the "
            "organisation's counts do not change."
        ),
        hidden_fields=("idempotency_key",),
    ),
    PersonalData(
        "advocacy.Click",
        "clicks",
        _("Clicks on your shares"),
        ("sharer",),
        KEEP,
        _("Counted in the totals; no visitor's address is stored."),
        hidden_fields=("visitor", "event_id"),
    ),
    PersonalData(
        "advocacy.Activity",
        "activity",
        _("Your activity"),
        ("user",),
        KEEP,
        _("The events points and analytics derive from."),
    ),
    PersonalData(
        "advocacy.PostingSlot", "posting_slots", _("Your posting times"), ("user",), DELETE
    ),
    PersonalData(
        "advocacy.SharingPause",
        "sharing_pauses",
        _("Sharing pauses you started"),
        ("paused_by",),
        KEEP,
        _("A record of the organisation's crisis mode."),
    ),
    PersonalData(
        "advocacy.SharingPreference",
        "sharing_preferences",
        _("Your sharing preferences"),
        ("user",),
        DELETE,
    ),
    # --- challenges ------------------------------------------------------------------------
    PersonalData(
        "challenges.PointEntry",
        "points",
        _("Your points"),
        ("user",),
        KEEP,
        _("The ledger stays on the opaque id: totals and leaderboards do not change."),
    ),
    PersonalData(
        "challenges.Score",
        "score",
        _("Your totals"),
        ("user",),
        KEEP,
        _("Derived from the ledger."),
    ),
    PersonalData(
        "challenges.BadgeAward", "badges", _("Your badges"), ("user",), KEEP, _("Part of totals.")
    ),
    PersonalData(
        "challenges.ChallengeResult",
        "challenge_results",
        _("Your challenge results"),
        ("user",),
        KEEP,
        _("Past rankings stay consistent."),
    ),
    PersonalData(
        "challenges.Redemption",
        "rewards",
        _("Rewards you requested"),
        ("user", "decided_by"),
        KEEP,
        _("Points spent stay spent."),
    ),
    PersonalData(
        "challenges.Challenge",
        "challenges_created",
        _("Challenges you created"),
        ("created_by",),
        KEEP,
        _("The organisation's challenges stay."),
        only_fields=("id", "title", "status", "created_by", "created_at"),
    ),
    PersonalData(
        "challenges.DisplayScreen",
        "display_screens",
        _("Lobby screens you set up"),
        ("created_by", "rotated_by"),
        KEEP,
        _("The organisation's screens stay."),
        only_fields=("id", "created_by", "created_at", "rotated_by", "rotated_at"),
    ),
    # --- analytics, digests, nudges, messaging ---------------------------------------------
    PersonalData(
        "analytics.DailyRollup",
        "daily_numbers",
        _("Your daily numbers"),
        ("user",),
        KEEP,
        _("Dashboards' totals do not change."),
    ),
    PersonalData(
        "digests.DigestPreference",
        "consents_digest",
        _("Your digest choice"),
        ("user",),
        DELETE,
    ),
    PersonalData("digests.DigestDelivery", "digests", _("Digests sent to you"), ("user",), DELETE),
    PersonalData(
        "nudges.NudgeOptOut", "consents_nudges", _("Reminders you turned off"), ("user",), DELETE
    ),
    PersonalData("nudges.NudgeDelivery", "nudges", _("Reminders sent to you"), ("user",), DELETE),
    PersonalData(
        "nudges.NudgeSettings",
        "nudge_settings_updated",
        _("Reminder settings you changed"),
        ("updated_by",),
        KEEP,
        _("The organisation's settings stay."),
    ),
    PersonalData(
        "messaging.SlackConnection",
        "chat_connections",
        _("Chat workspaces you connected"),
        ("connected_by",),
        KEEP,
        _("The organisation's connection stays."),
        only_fields=("id", "team_name", "connected_by", "connected_at"),
    ),
    PersonalData(
        "messaging.Destination",
        "chat_destinations",
        _("Chat channels you added"),
        ("created_by",),
        KEEP,
        _("The organisation's channels stay."),
        only_fields=("id", "kind", "label", "created_by", "created_at"),
    ),
    # --- provisioning (SCIM) ----------------------------------------------------------------
    PersonalData(
        "provisioning.ScimToken",
        "provisioning_tokens",
        _("Provisioning tokens you created or revoked"),
        ("created_by", "revoked_by"),
        KEEP,
        _("The organisation's identity-provider tokens stay."),
        only_fields=("id", "name", "created_by", "created_at", "revoked_by", "revoked_at"),
    ),
    PersonalData(
        "provisioning.ScimPerson",
        "provisioning_person",
        _("What your identity provider set"),
        ("user",),
        SPECIAL,
        _(
            "Kept, marked as deleted for the identity provider (SCIM no longer lists or "
            "updates the erased account, so it cannot write the person's details back); "
            "the language it set is wiped, as is the account's external id."
        ),
    ),
    # --- privacy ---------------------------------------------------------------------------
    PersonalData(
        "privacy.Participation",
        "consents_participation",
        _("Your participation in the programme"),
        ("user",),
        KEEP,
        _(
            "The proof of consent (when the person joined and left, which charter version) "
            "is kept, on the opaque id."
        ),
    ),
    PersonalData(
        "privacy.DataExport",
        "data_exports",
        _("Your data exports"),
        ("user",),
        SPECIAL,
        _("Deleted with their files."),
        hidden_fields=("file",),
    ),
    PersonalData(
        "privacy.PrivacySettings",
        "privacy_settings_updated",
        _("Privacy settings you changed"),
        ("updated_by",),
        KEEP,
        _("The organisation's settings stay."),
    ),
    # --- archive ---------------------------------------------------------------------------
    PersonalData(
        "archive.ArchiveExport",
        "archive_exports_requested",
        _("Archive exports you requested"),
        ("requested_by",),
        SPECIAL,
        _(
            "Kept (a record of the organisation's compliance work) without the requester: "
            "the link to the person and their address are removed. ZIPs already built keep "
            "the address until they expire."
        ),
        only_fields=(
            "id",
            "requested_by",
            "requested_by_email",
            "date_from",
            "date_to",
            "status",
            "created_at",
            "completed_at",
        ),
    ),
    # --- sso, twofactor ----------------------------------------------------------------------
    PersonalData(
        "sso.SsoConnection",
        "sso_break_glass",
        _("Single sign-on connections where you were the break-glass administrator"),
        ("break_glass_admin",),
        SPECIAL,
        _(
            "The organisation's connection stays; the erased account is removed from it as "
            "break-glass administrator (an admin names another)."
        ),
        only_fields=("id", "organization", "break_glass_admin", "updated_at"),
    ),
    PersonalData(
        "twofactor.TwoFactorPolicy",
        "two_factor_policy_updated",
        _("Two-factor sign-in policies you changed"),
        ("updated_by",),
        KEEP,
        _("The organisation's settings stay."),
    ),
    # --- third-party apps ------------------------------------------------------------------
    PersonalData(
        "knox.AuthToken",
        "api_tokens",
        _("Your API tokens"),
        ("user",),
        DELETE,
    ),
    PersonalData(
        "account.EmailAddress",
        "email_addresses",
        _("Your sign-in addresses"),
        ("user",),
        DELETE,
    ),
    PersonalData(
        "socialaccount.SocialAccount",
        "sign_in_accounts",
        _("Accounts you sign in with"),
        ("user",),
        DELETE,
    ),
    PersonalData(
        "mfa.Authenticator",
        "two_factor",
        _("Your two-factor sign-in methods (authenticator app, security keys, recovery codes)"),
        ("user",),
        DELETE,
        # The secrets themselves (app secret, recovery seed, key credential) never leave.
        hidden_fields=("data",),
    ),
    PersonalData(
        "admin.LogEntry",
        "platform_admin_actions",
        _("Your actions in the platform's technical administration"),
        ("user",),
        KEEP,
        _("The platform operator's security record; entries about the person are pseudonymised."),
    ),
]

# Models with a user field that are deliberately outside the registry, with the reason
# (by app, or by "app_label.Model"). Each is named in the export's README and on the
# erasure page. None today: the archive's export requests are in the registry above.
EXCLUDED_APPS: dict[str, Any] = {}
EXCLUDED: dict[str, Any] = {}

# What is kept under legal retention and is neither exported as rows nor erased: the
# archive's records and events of what was shared (`archive_archivedshare`,
# `archive_archiveevent`). They hold plain ids, not foreign keys to the person, so the
# coverage test does not see them; the export lists them in archive.json.
LEGAL_RETENTION: dict[str, Any] = {
    "archive": _(
        "The archive of what was shared is kept under legal retention and cannot be changed; "
        "the export lists it and says until when it is kept."
    ),
}
LEGALLY_RETAINED_TABLES = ("archive_archivedshare", "archive_archiveevent")


def entry_for(label: str) -> PersonalData:
    for entry in REGISTRY:
        if entry.model.lower() == label.lower():
            return entry
    raise KeyError(label)


def installed_entries() -> list[PersonalData]:
    """The entries whose model is installed (allauth's optional apps may be absent)."""
    found = []
    for entry in REGISTRY:
        try:
            entry.model_class()
        except LookupError:
            continue
        found.append(entry)
    return found


def user_fields_of(model: type[models.Model]) -> list[str]:
    """The fields of `model` that refer to a person."""
    user_model = get_user_model()
    return [
        f.name
        for f in model._meta.get_fields()
        if getattr(f, "concrete", False)
        and f.is_relation
        and f.related_model is user_model
        and not f.auto_created
    ]
