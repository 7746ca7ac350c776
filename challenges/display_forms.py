"""The org admin's form of the lobby screen: the intranet origins allowed to embed the
widget."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from challenges.display import display_origins_parse
from organizations.errors import DomainError


class DisplayOriginsForm(forms.Form):
    origins = forms.CharField(
        label=_("Intranet origins"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "spellcheck": "false",
                "autocomplete": "off",
                "aria-describedby": "id_origins-help",
            }
        ),
        help_text=_(
            "One per line, such as https://intranet.example.com: only these sites may show "
            "the widget in a frame. Leave empty to allow none."
        ),
    )

    def clean_origins(self) -> list[str]:
        try:
            return display_origins_parse(self.cleaned_data.get("origins") or "")
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
