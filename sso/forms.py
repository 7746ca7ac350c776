"""The admin's forms on /admin/sso/ and the login page's "work email" form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from organizations.models import Role, User
from sso.models import TeamMatch

MAX_METADATA_BYTES = 1_000_000


class HttpUrlField(forms.URLField):
    """An address typed as given: no scheme added, the service checks https."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class OidcForm(forms.Form):
    oidc_issuer = HttpUrlField(
        label=gettext_lazy("Issuer URL"),
        max_length=500,
        help_text=gettext_lazy(
            "For example https://login.microsoftonline.com/<tenant>/v2.0 or "
            "https://example.okta.com. Its discovery document is read at once."
        ),
    )
    oidc_client_id = forms.CharField(label=gettext_lazy("Client id"), max_length=255)
    oidc_client_secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Stored encrypted. Leave blank to keep the saved one."),
    )


class SamlForm(forms.Form):
    saml_metadata_file = forms.FileField(
        label=gettext_lazy("Metadata file (XML)"),
        required=False,
        help_text=gettext_lazy("The federation metadata your identity provider offers."),
    )
    saml_metadata_url = HttpUrlField(
        label=gettext_lazy("…or the metadata URL"), max_length=500, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("saml_metadata_file")
        url = data.get("saml_metadata_url")
        if self.errors:
            return data
        if not upload and not url:
            raise forms.ValidationError(
                gettext_lazy("Give either the metadata file or its URL (one of the two).")
            )
        if upload:
            # A new file wins over the URL kept in the field from the last time.
            data["saml_metadata_url"] = ""
            if upload.size > MAX_METADATA_BYTES:
                self.add_error("saml_metadata_file", gettext_lazy("This file is too large."))
                return data
            raw = upload.read()
            try:
                data["metadata_xml"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("saml_metadata_file", gettext_lazy("This file is not UTF-8 XML."))
        return data


class MappingForm(forms.Form):
    attr_email = forms.CharField(label=gettext_lazy("Email"), max_length=255, required=False)
    attr_first_name = forms.CharField(
        label=gettext_lazy("First name"), max_length=255, required=False
    )
    attr_last_name = forms.CharField(
        label=gettext_lazy("Last name"), max_length=255, required=False
    )
    attr_language = forms.CharField(label=gettext_lazy("Language"), max_length=255, required=False)
    attr_team = forms.CharField(
        label=gettext_lazy("Team"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Blank: teams are left as they are."),
    )
    team_match = forms.ChoiceField(
        label=gettext_lazy("Teams are matched by"), choices=TeamMatch.choices
    )
    create_unknown_teams = forms.BooleanField(
        label=gettext_lazy("Create the teams that do not exist yet"), required=False
    )
    attr_groups = forms.CharField(
        label=gettext_lazy("Groups (for the role)"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Blank: roles are managed here, not by the identity provider."),
    )
    group_roles = forms.CharField(
        label=gettext_lazy("Group → role"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line, such as “comms-team = editor”. Roles: employee, editor, reviewer, "
            "manager, org_admin, compliance. The strongest role of the person’s groups applies."
        ),
    )

    def __init__(self, *args: Any, protocol: str = "", **kwargs: Any) -> None:
        """The names used when a field is left blank, shown as placeholders."""
        from sso.mapping import OIDC_DEFAULTS, SAML_DEFAULTS

        super().__init__(*args, **kwargs)
        defaults = SAML_DEFAULTS if protocol == "saml" else OIDC_DEFAULTS
        for key, names in defaults.items():
            if names:
                self.fields[f"attr_{key}"].widget.attrs["placeholder"] = names[0]

    def clean_group_roles(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["group_roles"].splitlines(), 1):
            if not line.strip():
                continue
            group, sep, role = line.partition("=")
            group, role = group.strip(), role.strip()
            if not sep or not group or role not in Role.values:
                raise forms.ValidationError(
                    gettext_lazy("Line %(number)s is not “group = role” with a known role.")
                    % {"number": number}
                )
            mapping[group] = role
        return mapping


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=gettext_lazy("Email domain"),
        max_length=253,
        help_text=gettext_lazy("For example acme.com (what follows the @ of your addresses)."),
    )


class EnforcementForm(forms.Form):
    require_sso = forms.BooleanField(
        label=gettext_lazy(
            "Require single sign-on for the verified domains (password sign-in refused)"
        ),
        required=False,
    )
    break_glass_admin = forms.ModelChoiceField(
        label=gettext_lazy("Break-glass administrator"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Nobody"),
        help_text=gettext_lazy(
            "One admin who may still sign in with a password on the login page, if the "
            "identity provider is down. Each such sign-in is flagged in the audit log."
        ),
    )

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["break_glass_admin"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = candidates


class DiscoverForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Your work email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
