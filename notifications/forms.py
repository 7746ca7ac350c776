from __future__ import annotations

from typing import Any

from django import forms

from notifications.kinds import kinds_all, kinds_pushable


class KnownKindsField(forms.MultipleChoiceField):
    """The kinds ticked; a kind that no longer exists (an old form, a tampered one) is
    dropped rather than refused, so saving never fails over it."""

    def clean(self, value: Any) -> list[str]:
        return [item for item in self.to_python(value) if self.valid_value(item)]


class NotificationPreferencesForm(forms.Form):
    email = KnownKindsField(required=False)
    push = KnownKindsField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].choices = [(kind.key, kind.label) for kind in kinds_all()]
        self.fields["push"].choices = [(kind.key, kind.label) for kind in kinds_pushable()]
