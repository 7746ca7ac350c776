"""The demo: its shares that left are archived (once, whatever the number of seeds), so the
demo's compliance officer finds /archive/ alive."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from advocacy.models import Share
from archive.chain import chain_problems
from archive.models import ArchivedShare
from archive.services import ARCHIVED_STATUSES
from organizations.models import Organization, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_demo_shares_are_archived_once_for_the_compliance_officer(demo_clock):
    call_command("seed_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug="demo")
    left = Share.objects.filter(organization=organization, status__in=ARCHIVED_STATUSES)
    assert left.count() > 10
    assert set(
        ArchivedShare.objects.filter(organization_id=organization.pk).values_list(
            "share_id", flat=True
        )
    ) == set(left.values_list("pk", flat=True))
    call_command("seed_demo", stdout=io.StringIO())
    assert ArchivedShare.objects.filter(organization_id=organization.pk).count() == left.count()
    assert chain_problems(organization.pk) == []

    officer = User.objects.get(email="compliance@demo.portevoix.test")
    page = client_for(officer).get("/archive/")
    assert page.status_code == 200
    assert page.content.decode().count("data-share=") == 25
