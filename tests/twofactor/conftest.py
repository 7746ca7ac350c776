"""Builders for the two-factor tests. The clock: Tuesday 8 December 2026, 09:00:10 UTC,
stopped, so that a TOTP code computed here is the one allauth expects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime

import pytest

from organizations.models import Role
from tests.factories import OrganizationFactory, UserFactory

NOW = datetime(2026, 12, 8, 9, 0, 10, tzinfo=UTC)


def totp_code(secret: str, moment: datetime = NOW, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 (HMAC-SHA1), computed here independently of allauth."""
    counter = int(moment.timestamp()) // step
    key = base64.b32decode(secret.encode(), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


class Tenant:
    def __init__(self) -> None:
        self.organization = OrganizationFactory(name="Acme Santé", slug="acme")
        self.admin = UserFactory(organization=self.organization, role=Role.ORG_ADMIN)
        self.second_admin = UserFactory(organization=self.organization, role=Role.ORG_ADMIN)
        self.editor = UserFactory(organization=self.organization, role=Role.EDITOR)
        self.reviewer = UserFactory(organization=self.organization, role=Role.REVIEWER)
        self.employee = UserFactory(organization=self.organization, role=Role.EMPLOYEE)
        self.other_organization = OrganizationFactory(name="Other Corp", slug="other")
        self.outsider_admin = UserFactory(organization=self.other_organization, role=Role.ORG_ADMIN)
        self.outsider_editor = UserFactory(organization=self.other_organization, role=Role.EDITOR)


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant()


@pytest.fixture(autouse=True)
def _english_for_visitors(settings):
    """The assertions read the English messages: visitors (the login page, the token
    endpoint) get the site's default language, French, unless told otherwise."""
    settings.LANGUAGE_CODE = "en"
