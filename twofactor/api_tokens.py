"""The two-factor policy at the API's token endpoint: a password alone must not buy a
token for a person who signs in with a second factor, nor let a person the policy covers
skip setting one up. Registered in organizations.api.token_issue_checks (TwoFactorConfig)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.request import Request

from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import User
from twofactor.selectors import two_factor_enrolled, two_factor_required_anywhere
from twofactor.services import two_factor_code_use


def token_issue_check(user: User, request: Request, data: Mapping[str, Any]) -> None:
    """Refuse the token unless the request carries a valid second-factor code (for a person
    who has a factor), and refuse it outright to a person the policy covers who has none."""
    if two_factor_enrolled(user):
        code = str(data.get("code") or "").strip()
        if not code:
            raise DomainError(
                _(
                    "This account uses two-factor sign-in: send a current code from your "
                    "authenticator app, or one of your unused recovery codes, in the “code” "
                    "field."
                ),
                field="code",
            )
        if not two_factor_code_use(user=user, code=code, request=request._request):
            raise DomainError(
                _("This code is incorrect, or it was already used. Send a new code."),
                field="code",
            )
        return
    if two_factor_required_anywhere(user):
        raise PermissionDeniedError(
            _(
                "Your organisation requires two-factor sign-in for your role: set it up in "
                "the web app first, then ask for a token again."
            )
        )
