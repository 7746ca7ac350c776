from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.images import validate_image
from organizations.models import Language, Organization, Role, Team, TeamKind, User


class OrgScopedForm(forms.Form):
    """A form whose team and people choices come from one organisation only."""

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.organization = organization
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                model = field.queryset.model
                field.queryset = model.objects.filter(organization=organization)


class TeamForm(OrgScopedForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    parent = forms.ModelChoiceField(
        label=_("Parent team"), queryset=Team.objects.none(), required=False
    )
    managers = forms.ModelMultipleChoiceField(
        label=_("Managers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )


class InvitationForm(OrgScopedForm):
    email = forms.EmailField(label=_("Email address"))
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EMPLOYEE)
    job_title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )


class MemberForm(OrgScopedForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    job_title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: email (required), first_name, last_name, role, teams, job_title, language. "
            "Teams as “Department > Site > Team”, several separated by “|”."
        ),
    )


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password_confirm = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return data


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    job_title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Emails and reminders arrive at the hour set in this zone."),
    )
    avatar = forms.ImageField(
        label=_("Avatar"),
        required=False,
        validators=[validate_image],
        help_text=_("JPEG, PNG, WebP or GIF."),
    )

    def __init__(self, *args: object, organization_zone: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        same = _("The organisation's (%(zone)s)") % {"zone": organization_zone or "UTC"}
        self.fields["time_zone"].choices = [("", same)] + [  # type: ignore[attr-defined]
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "default_language", "time_zone", "brand_colour", "logo"]
        widgets = {"brand_colour": forms.TextInput(attrs={"type": "color"})}


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class DesignSampleForm(forms.Form):
    """The form shown on the design system's page (/design/), never saved."""

    name = forms.CharField(label=_("Title"), help_text=_("Shown on the feed card."))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    caption = forms.CharField(label=_("Caption"), widget=forms.Textarea(attrs={"rows": 3}))
    pinned = forms.BooleanField(label=_("Pin to the top of the feed"), required=False)


class OperatorOrganizationForm(forms.Form):
    """A platform operator creates an organisation and invites its first administrator."""

    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the name when left empty."),
    )
    admin_email = forms.EmailField(label=_("First administrator’s email address"))
    language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, initial=Language.FRENCH
    )
