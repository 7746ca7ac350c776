"""The org admin's forms: the policy, and the confirmation of a reset."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class TwoFactorPolicyForm(forms.Form):
    require_admins = forms.BooleanField(label=gettext_lazy("Organisation admins"), required=False)
    require_editors = forms.BooleanField(label=gettext_lazy("Editors"), required=False)
    require_reviewers = forms.BooleanField(label=gettext_lazy("Reviewers"), required=False)


class TwoFactorResetForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked who is asking (in person or by a call I placed): reset their "
            "second factor."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm the reset.")},
    )
