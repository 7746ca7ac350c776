"""Two-factor data in the privacy registry: the export says which methods the person had
(never their secrets); erasure deletes them, removes the person as a single sign-on
break-glass admin and keeps the organisation's policy."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from privacy.services.erasure import person_erase
from privacy.services.exports import export_collect
from sso.models import SsoConnection
from twofactor.models import TwoFactorPolicy

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXP"


def test_the_export_lists_the_methods_without_their_secrets(tenant, clock):
    TOTP.activate(tenant.editor, SECRET)
    RecoveryCodes.activate(tenant.editor)
    rows = export_collect(user=tenant.editor)["two_factor"]
    assert sorted(row["type"] for row in rows) == ["recovery_codes", "totp"]
    assert all("data" not in row for row in rows)
    assert export_collect(user=tenant.employee)["two_factor"] == []


def test_erasure_deletes_factors_and_unnames_the_break_glass_admin(tenant, clock):
    TOTP.activate(tenant.second_admin, SECRET)
    RecoveryCodes.activate(tenant.second_admin)
    connection = SsoConnection.objects.create(
        organization=tenant.organization, break_glass_admin=tenant.second_admin
    )
    policy = TwoFactorPolicy.objects.create(
        organization=tenant.organization, require_admins=True, updated_by=tenant.second_admin
    )
    export = export_collect(user=tenant.second_admin)
    assert [row["id"] for row in export["sso_break_glass"]] == [connection.pk]
    assert [row["id"] for row in export["two_factor_policy_updated"]] == [policy.pk]

    person_erase(
        actor=tenant.admin, user=tenant.second_admin, confirm_email=tenant.second_admin.email
    )

    assert not Authenticator.objects.filter(user=tenant.second_admin).exists()
    connection.refresh_from_db()
    assert connection.break_glass_admin_id is None
    policy.refresh_from_db()
    # Kept, on the account erasure turned into an opaque id.
    assert policy.updated_by_id == tenant.second_admin.pk
