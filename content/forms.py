from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from content import compliance
from content.chains import MAX_APPROVALS, MAX_DEADLINE_HOURS, RuleInput, StepInput
from content.feeds import FeedInput
from content.models import (
    ApprovalChain,
    ContentKind,
    FeedMode,
    FeedSubscription,
    Lifecycle,
    Network,
    ReviewerGroup,
    RuleKind,
    Topic,
)
from content.services import ContentInput, compliance_rules_for
from organizations.forms import OrgScopedForm
from organizations.images import validate_image
from organizations.models import Language, Role, Team, User

CAPTION_SEPARATOR = "---"
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Segment:
    """A piece of a caption as shown after a refused save: `problem` is the rule it breaks
    ("" for the text around)."""

    text: str
    problem: str = ""


def highlight_segments(text: str, violations: list[compliance.Violation]) -> list[Segment]:
    """The caption cut at its violations' positions, overlapping spans merged, so that the
    offending words can be marked where they are."""
    spans: list[tuple[int, int, list[str]]] = []
    for violation in sorted(violations, key=lambda v: (v.start, v.end)):
        start, end = max(0, violation.start), min(len(text), violation.end)
        if end <= start:
            continue
        if spans and start < spans[-1][1]:
            last_start, last_end, messages = spans[-1]
            spans[-1] = (last_start, max(last_end, end), [*messages, violation.message])
        else:
            spans.append((start, end, [violation.message]))
    segments: list[Segment] = []
    position = 0
    for start, end, messages in spans:
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], "; ".join(dict.fromkeys(messages))))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


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

    def clean(self) -> dict[str, Any]:
        """Captions that break the organisation's rules are refused here, on their own
        field, with the offending words kept for the page to mark."""
        data = super().clean() or {}
        rules = compliance_rules_for(self.organization)
        link_url = data.get("link_url") or ""
        for network in Network.values:
            name = f"{network}_captions"
            refused = []
            for text in split_captions(data.get(name) or ""):
                violations = compliance.caption_check(
                    text=text, network=network, rules=rules, link_url=link_url
                )
                if violations:
                    refused.append({"text": text, "segments": highlight_segments(text, violations)})
                    for message in dict.fromkeys(v.message for v in violations):
                        if message not in self.errors.get(name, []):
                            self.add_error(name, message)
            if refused:
                field = self.fields[name]
                field.after_template = "content/_caption_preview.html"  # type: ignore[attr-defined]
                field.after_items = refused  # type: ignore[attr-defined]
        return data

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


class LibraryFilterForm(forms.Form):
    """The library's filter bar (GET). Each field stands alone: a value that is not among
    the choices is named as an error and that filter alone is left out."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(label=_("State"), required=False)
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    author = forms.TypedChoiceField(label=_("Author"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, topics: Any, authors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Title or text")
        choices: dict[str, list[tuple[Any, Any]]] = {
            "status": [("", _("All states")), *Lifecycle.choices],
            "topic": [("", _("All topics")), *((t.slug, t.name) for t in topics)],
            "language": [("", _("All languages")), *Language.choices],
            "kind": [("", _("All kinds")), *ContentKind.choices],
            "author": [("", _("All authors")), *((a.pk, str(a)) for a in authors)],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def filters(self) -> dict[str, Any]:
        """The valid filters, for selectors.library_list (call after is_valid())."""
        data = getattr(self, "cleaned_data", {})
        filters: dict[str, Any] = {
            name: data.get(name) or "" for name in ("status", "topic", "language", "kind")
        }
        filters["q"] = (data.get("q") or "").strip()
        filters["author"] = data.get("author")
        return filters

    @property
    def active_count(self) -> int:
        return sum(1 for value in self.filters().values() if value)


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


class FeedForm(OrgScopedForm):
    """Add or edit an RSS or Atom subscription (content.feeds)."""

    url = forms.URLField(
        label=_("Feed address"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("The RSS or Atom address, e.g. https://blog.example.com/feed.xml"),
    )
    title = forms.CharField(
        label=_("Name"), max_length=200, required=False, help_text=_("Empty: the feed's own title.")
    )
    mode = forms.ChoiceField(label=_("New items"), choices=FeedMode.choices)
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Guess from each item")), *Language.choices],
        required=False,
        help_text=_("When nothing tells, the organisation's language."),
    )

    def to_input(self) -> FeedInput:
        data = self.cleaned_data
        return FeedInput(
            url=data["url"],
            title=data["title"],
            mode=data["mode"],
            topics=list(data["topics"]),
            language=data["language"],
        )

    @staticmethod
    def initial_for(subscription: FeedSubscription) -> dict[str, Any]:
        return {
            "url": subscription.url,
            "title": subscription.title,
            "mode": subscription.mode,
            "topics": list(subscription.topics.all()),
            "language": subscription.language,
        }


# --- Approval chains (organisation admins) -----------------------------------------------


def _reviewer_choices(form: forms.Form, organization: Any) -> None:
    people = User.objects.filter(
        organization=organization, is_active=True, role__in=[Role.REVIEWER, Role.ORG_ADMIN]
    ).order_by("first_name", "last_name", "email")
    for name in ("reviewers", "members"):
        if name in form.fields:
            form.fields[name].queryset = people  # type: ignore[attr-defined]
            form.fields[name].label_from_instance = lambda u: (  # type: ignore[attr-defined]
                f"{u.get_full_name()} ({u.email})" if u.get_full_name() else u.email
            )


class ChainForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    is_default = forms.BooleanField(
        label=_("Default chain (used when no rule chooses another)"), required=False
    )


class StepForm(OrgScopedForm):
    name = forms.CharField(label=_("Step name"), max_length=80, help_text=_("For example Medical."))
    required_approvals = forms.IntegerField(
        label=_("Approvals required"), min_value=1, max_value=MAX_APPROVALS, initial=1
    )
    deadline_hours = forms.IntegerField(
        label=_("Deadline (hours)"),
        min_value=1,
        max_value=MAX_DEADLINE_HOURS,
        required=False,
        help_text=_("Empty: no deadline. Once it passes, reviewers and the author are reminded."),
    )
    reviewers = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("With neither reviewers nor a group, every reviewer may approve at this step."),
    )
    reviewer_group = forms.ModelChoiceField(
        label=_("Reviewer group"), queryset=ReviewerGroup.objects.none(), required=False
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        _reviewer_choices(self, organization)

    def step_input(self) -> StepInput:
        data = self.cleaned_data
        return StepInput(
            name=data["name"],
            required_approvals=data["required_approvals"],
            deadline_hours=data.get("deadline_hours"),
            reviewers=list(data.get("reviewers") or []),
            reviewer_group=data.get("reviewer_group"),
        )


class ReviewerGroupForm(OrgScopedForm):
    name = forms.CharField(label=_("Group name"), max_length=80)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        _reviewer_choices(self, organization)


class ChainRuleForm(OrgScopedForm):
    chain = forms.ModelChoiceField(label=_("Chain"), queryset=ApprovalChain.objects.none())
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=1000,
        initial=10,
        help_text=_("Rules are tried from the lowest number; the first that matches wins."),
    )
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.none(), required=False, empty_label=_("Any")
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any")), *ContentKind.choices], required=False
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("Any")), *Language.choices], required=False
    )
    network = forms.ChoiceField(
        label=_("Network"), choices=[("", _("Any")), *Network.choices], required=False
    )

    def rule_input(self) -> RuleInput:
        data = self.cleaned_data
        return RuleInput(
            priority=data["priority"],
            topic=data.get("topic"),
            kind=data.get("kind", ""),
            language=data.get("language", ""),
            network=data.get("network", ""),
        )
