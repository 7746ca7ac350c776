"""The org admin's form: a name for a new SCIM token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class ScimTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the token"),
        help_text=gettext_lazy("For example, the identity provider that will use it."),
        max_length=100,
    )
