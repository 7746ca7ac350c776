from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from content.models import ContentKind, Network, RuleKind, Topic
from content.services import ContentInput
from organizations.forms import OrgScopedForm
from organizations.images import validate_image
from organizations.models import Language, Team

CAPTION_SEPARATOR = "---"
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def split_captions(raw: str) -> list[str]:
    """Several captions for one network are separated by a line holding only ---."""
    parts, current = [], []
    for line in raw.replace("\r\n", "\n").split("\n"):
        if line.strip() == CAPTION_SEPARATOR:
            parts.append("\n".join(current))
            current = []
        else:
            current.append(line)
    parts.append("\n".join(current))
    return [part.strip() for part in parts if part.strip()]


class ContentForm(OrgScopedForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    why_it_matters = forms.CharField(
        label=_("Why it matters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Explain to employees why this post matters and to whom."),
    )
    link_url = forms.URLField(
        label=_("Link"), required=False, max_length=1000, assume_scheme="https"
    )
    image = forms.ImageField(
        label=_("Image"),
        required=False,
        validators=[validate_image],
        help_text=_("JPEG, PNG, WebP or GIF. Location data is removed."),
    )
    linkedin_captions = forms.CharField(
        label=_("LinkedIn captions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Several captions? Separate them with a line holding only ---."),
    )
    x_captions = forms.CharField(
        label=_("X captions"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    facebook_captions = forms.CharField(
        label=_("Facebook captions"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    hashtags = forms.CharField(
        label=_("Hashtags"),
        required=False,
        help_text=_("Separated by spaces, e.g. #health #careers"),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    audience_teams = forms.ModelMultipleChoiceField(
        label=_("Audience"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Leave empty for the whole organisation. A team includes its sub-teams."),
    )
    publish_at = forms.DateTimeField(label=_("Publish at"), widget=DATETIME_WIDGET)
    expires_at = forms.DateTimeField(label=_("Expires at"), required=False, widget=DATETIME_WIDGET)
    pinned = forms.BooleanField(label=_("Pinned at the top of the feed"), required=False)
    evergreen = forms.BooleanField(label=_("Evergreen (our positions)"), required=False)
    caption_locked = forms.BooleanField(
        label=_("Employees cannot edit the caption"), required=False
    )

    def to_input(self) -> ContentInput:
        data = self.cleaned_data
        return ContentInput(
            kind=data["kind"],
            title=data["title"],
            why_it_matters=data["why_it_matters"],
            link_url=data["link_url"],
            hashtags=data["hashtags"].split(),
            topics=list(data["topics"]),
            language=data["language"],
            audience_teams=list(data["audience_teams"]),
            publish_at=data["publish_at"],
            expires_at=data["expires_at"],
            pinned=data["pinned"],
            evergreen=data["evergreen"],
            caption_locked=data["caption_locked"],
            captions={
                network: texts
                for network in Network.values
                if (texts := split_captions(data.get(f"{network}_captions", "")))
            },
            image=data.get("image"),
        )

    @staticmethod
    def initial_for(content: Any) -> dict[str, Any]:
        captions: dict[str, list[str]] = {}
        for caption in content.captions.all():
            captions.setdefault(caption.network, []).append(caption.text)
        separator = f"\n{CAPTION_SEPARATOR}\n"
        return {
            "kind": content.kind,
            "title": content.title,
            "why_it_matters": content.why_it_matters,
            "link_url": content.link_url,
            "hashtags": " ".join(content.hashtags),
            "topics": list(content.topics.all()),
            "language": content.language,
            "audience_teams": list(content.audience_teams.all()),
            "publish_at": content.publish_at,
            "expires_at": content.expires_at,
            "pinned": content.pinned,
            "evergreen": content.evergreen,
            "caption_locked": content.caption_locked,
            **{f"{n}_captions": separator.join(captions.get(n, [])) for n in Network.values},
        }


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class SuggestionForm(forms.Form):
    url = forms.URLField(label=_("Link"), required=False, max_length=1000, assume_scheme="https")
    text = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    comment = forms.CharField(
        label=_("Why should colleagues share it?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("url") and not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Give a link or a text to suggest."))
        return data


class GuidelineForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Changing the charter's text asks every employee to accept it again."),
    )


class PolicyForm(forms.Form):
    required_approvals = forms.IntegerField(label=_("Approvals required"), min_value=1, max_value=5)
    disclosure = forms.CharField(label=_("Mandatory disclosure"), required=False, max_length=100)
    linkedin_max_length = forms.IntegerField(
        label=_("LinkedIn length limit"), min_value=50, max_value=3000
    )
    x_max_length = forms.IntegerField(label=_("X length limit"), min_value=50, max_value=280)
    facebook_max_length = forms.IntegerField(
        label=_("Facebook length limit"), min_value=50, max_value=63206
    )


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    value = forms.CharField(label=_("Term or domain"), max_length=200)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
