"""The org admin's two-factor page: who reaches it, the policy, the list of the people
concerned, and the reset of a lost device."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.sessions.models import Session
from knox.models import AuthToken

from organizations.models import AuditLogEntry, Membership, Role
from tests.conftest import client_for
from twofactor.models import TwoFactorPolicy

pytestmark = pytest.mark.django_db


def _give_totp(user) -> Authenticator:
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )


def test_only_org_admins_reach_the_page(tenant, client):
    assert client.get("/admin/two-factor/").status_code == 302
    for refused in (tenant.employee, tenant.editor, tenant.reviewer):
        assert client_for(refused).get("/admin/two-factor/").status_code == 403
        assert (
            client_for(refused).post("/admin/two-factor/", {"require_editors": "on"}).status_code
            == 403
        )
    assert client_for(tenant.admin).get("/admin/two-factor/").status_code == 200
    assert not TwoFactorPolicy.objects.exists()


def test_the_policy_is_off_by_default_then_saved_and_audited(tenant):
    client = client_for(tenant.admin)
    html = client.get("/admin/two-factor/").content.decode()
    assert (
        'name="require_admins"' in html
        and "checked" not in html.split("data-twofactor-policy")[1].split("</form>")[0]
    )
    answer = client.post("/admin/two-factor/", {"require_admins": "on", "require_editors": "on"})
    assert answer.status_code == 302
    policy = TwoFactorPolicy.objects.get(organization=tenant.organization)
    assert (policy.require_admins, policy.require_editors, policy.require_reviewers) == (
        True,
        True,
        False,
    )
    assert policy.updated_by == tenant.admin
    entry = AuditLogEntry.objects.get(action="twofactor.policy_updated")
    assert entry.organization == tenant.organization
    assert entry.details == {"roles": ["editor", "org_admin"]}
    # The other organisation is untouched.
    assert not TwoFactorPolicy.objects.filter(organization=tenant.other_organization).exists()
    # The admin is now held too, having no factor yet; with one, the audit log reads well.
    assert client.get("/admin/audit/")["Location"] == "/two-factor/required/"
    _give_totp(tenant.admin)
    audit = client.get("/admin/audit/").content.decode()
    assert "now requires two-factor sign-in of: organisation admins, editors." in audit


def test_the_list_shows_who_has_a_second_factor_in_this_organisation_only(
    tenant, django_assert_max_num_queries
):
    _give_totp(tenant.editor)
    _give_totp(tenant.outsider_editor)
    client = client_for(tenant.admin)
    with django_assert_max_num_queries(12):
        html = client.get("/admin/two-factor/").content.decode()
    assert f'data-person="{tenant.editor.pk}"' in html
    assert f'data-person="{tenant.reviewer.pk}"' in html
    assert f'data-person="{tenant.employee.pk}"' not in html  # not concerned
    assert f'data-person="{tenant.outsider_editor.pk}"' not in html
    missing = client.get("/admin/two-factor/?status=missing").content.decode()
    assert f'data-person="{tenant.editor.pk}"' not in missing
    assert f'data-person="{tenant.reviewer.pk}"' in missing
    enrolled = client.get("/admin/two-factor/?status=enrolled").content.decode()
    assert f'data-person="{tenant.editor.pk}"' in enrolled
    assert f'data-person="{tenant.reviewer.pk}"' not in enrolled
    # Unknown filter: everyone, no error.
    assert client.get("/admin/two-factor/?status=bogus").status_code == 200


def test_reset_removes_every_factor_ends_sessions_and_tokens_and_is_audited(tenant):
    _give_totp(tenant.editor)
    RecoveryCodes.activate(tenant.editor)
    editor_client = client_for(tenant.editor)
    AuthToken.objects.create(user=tenant.editor)
    assert editor_client.get("/accounts/2fa/").status_code == 200
    admin = client_for(tenant.admin)
    page = admin.get(f"/admin/two-factor/{tenant.editor.pk}/reset/")
    assert page.status_code == 200 and b"data-twofactor-reset" in page.content
    assert Authenticator.objects.filter(user=tenant.editor).count() == 2  # GET changes nothing
    # Not confirmed: nothing happens, a clear error.
    refused = admin.post(f"/admin/two-factor/{tenant.editor.pk}/reset/", {})
    assert refused.status_code == 400 and b"Tick the box to confirm the reset." in refused.content
    assert Authenticator.objects.filter(user=tenant.editor).count() == 2
    done = admin.post(f"/admin/two-factor/{tenant.editor.pk}/reset/", {"confirm": "on"})
    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=tenant.editor).exists()
    assert not AuthToken.objects.filter(user=tenant.editor).exists()
    live = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(tenant.editor.pk) not in live and str(tenant.admin.pk) in live
    assert editor_client.get("/accounts/2fa/").status_code == 302  # signed out
    entry = AuditLogEntry.objects.get(action="twofactor.reset")
    assert entry.actor == tenant.admin and entry.target_id == str(tenant.editor.pk)
    assert entry.details["authenticators"] == 2 and entry.details["types"] == [
        "recovery_codes",
        "totp",
    ]
    assert "reset the two-factor sign-in of" in admin.get("/admin/audit/").content.decode()


def test_an_admin_cannot_reset_their_own_second_factor(tenant):
    _give_totp(tenant.admin)
    client = client_for(tenant.admin)
    page = client.get(f"/admin/two-factor/{tenant.admin.pk}/reset/")
    assert b"data-own-reset" in page.content and b"data-twofactor-reset" not in page.content
    answer = client.post(f"/admin/two-factor/{tenant.admin.pk}/reset/", {"confirm": "on"})
    assert answer.status_code == 400
    assert Authenticator.objects.filter(user=tenant.admin).exists()
    assert not AuditLogEntry.objects.filter(action="twofactor.reset").exists()
    # Another admin can.
    other = client_for(tenant.second_admin)
    assert (
        other.post(f"/admin/two-factor/{tenant.admin.pk}/reset/", {"confirm": "on"}).status_code
        == 302
    )
    assert not Authenticator.objects.filter(user=tenant.admin).exists()


def test_another_organisation_s_person_is_a_404(tenant):
    _give_totp(tenant.outsider_editor)
    client = client_for(tenant.admin)
    url = f"/admin/two-factor/{tenant.outsider_editor.pk}/reset/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "on"}).status_code == 404
    assert client.post("/admin/two-factor/999999999/reset/", {"confirm": "on"}).status_code == 404
    assert Authenticator.objects.filter(user=tenant.outsider_editor).exists()
    # And an employee may not reset anyone.
    assert (
        client_for(tenant.employee)
        .post(f"/admin/two-factor/{tenant.editor.pk}/reset/", {"confirm": "on"})
        .status_code
        == 403
    )


def test_reset_is_post_only_for_the_change(tenant):
    _give_totp(tenant.editor)
    client = client_for(tenant.admin)
    client.get(f"/admin/two-factor/{tenant.editor.pk}/reset/?confirm=on")
    assert Authenticator.objects.filter(user=tenant.editor).exists()
    assert client.put(f"/admin/two-factor/{tenant.editor.pk}/reset/").status_code == 405


def test_switching_every_role_off_is_saved_and_audited(tenant):
    TwoFactorPolicy.objects.create(organization=tenant.organization, require_editors=True)
    client = client_for(tenant.admin)
    assert client.post("/admin/two-factor/", {}).status_code == 302
    policy = TwoFactorPolicy.objects.get(organization=tenant.organization)
    assert policy.required_roles == frozenset()
    assert AuditLogEntry.objects.get(action="twofactor.policy_updated").details == {"roles": []}
    assert client_for(tenant.editor).get("/feed/").status_code == 200
    audit = client.get("/admin/audit/").content.decode()
    assert "no longer requires two-factor sign-in of anyone." in audit
    # Saving the same policy again writes no second entry.
    client.post("/admin/two-factor/", {})
    assert AuditLogEntry.objects.filter(action="twofactor.policy_updated").count() == 1


def test_a_person_without_any_factor_cannot_be_reset(tenant):
    editor_client = client_for(tenant.editor)
    AuthToken.objects.create(user=tenant.editor)
    admin = client_for(tenant.admin)
    url = f"/admin/two-factor/{tenant.editor.pk}/reset/"
    page = admin.get(url)
    assert page.status_code == 200
    assert b"data-reset-refused" in page.content and b"data-twofactor-reset" not in page.content
    answer = admin.post(url, {"confirm": "on"})
    assert answer.status_code == 400
    assert "has no second factor: there is nothing to reset" in answer.content.decode()
    # Nothing changed: the token and the session live on, nothing audited.
    assert AuthToken.objects.filter(user=tenant.editor).exists()
    assert editor_client.get("/accounts/2fa/").status_code == 200
    assert not AuditLogEntry.objects.filter(action="twofactor.reset").exists()


def _guest(tenant, role=Role.EDITOR):
    """An editor of the other organisation who is a guest member here."""
    Membership.objects.create(
        user=tenant.outsider_editor, organization=tenant.organization, role=role
    )
    return tenant.outsider_editor


def test_guest_members_with_a_covered_role_are_listed_as_guests(tenant):
    guest = _guest(tenant)
    _give_totp(guest)
    Membership.objects.create(
        user=tenant.outsider_admin, organization=tenant.organization, role=Role.EMPLOYEE
    )
    client = client_for(tenant.admin)
    html = client.get("/admin/two-factor/").content.decode()
    row = html[html.index(f'data-person="{guest.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "data-guest" in row and "Editor" in row
    assert "Reset by their home organisation’s admin" in row and "/reset/" not in row
    assert f'data-person="{tenant.outsider_admin.pk}"' not in html  # employee here
    assert (
        f'data-person="{guest.pk}"'
        in client.get("/admin/two-factor/?status=enrolled").content.decode()
    )
    assert (
        f'data-person="{guest.pk}"'
        not in client.get("/admin/two-factor/?status=missing").content.decode()
    )
    # Home people are not marked as guests.
    home = html[html.index(f'data-person="{tenant.editor.pk}"') :]
    assert "data-guest" not in home[: home.index("</tr>")]


def test_a_guest_s_second_factor_is_reset_by_their_home_organisation_only(tenant):
    guest = _guest(tenant)
    _give_totp(guest)
    client = client_for(tenant.admin)
    url = f"/admin/two-factor/{guest.pk}/reset/"
    page = client.get(url)
    assert page.status_code == 200 and b"data-twofactor-reset" not in page.content
    assert "ask their home organisation’s admin" in page.content.decode().replace("&#x27;", "’")
    answer = client.post(url, {"confirm": "on"})
    assert answer.status_code == 400
    assert Authenticator.objects.filter(user=guest).exists()
    assert not AuditLogEntry.objects.filter(action="twofactor.reset").exists()
    # Their home organisation's admin can.
    home = client_for(tenant.outsider_admin)
    assert home.post(url, {"confirm": "on"}).status_code == 302
    assert not Authenticator.objects.filter(user=guest).exists()
