"""Every model that refers to a person is in the registry of personal data (how it is
exported and erased) or in the reasoned exclusions: a new model with a user field fails
here until someone decides what happens to it."""

from __future__ import annotations

from django.apps import apps

from privacy.registry import (
    DELETE,
    EXCLUDED,
    EXCLUDED_APPS,
    KEEP,
    REGISTRY,
    SPECIAL,
    UNLINK,
    installed_entries,
    user_fields_of,
)


def test_every_model_with_a_user_field_is_registered_or_excluded_with_a_reason():
    registered = {entry.model.lower(): entry for entry in REGISTRY}
    missing = []
    for model in apps.get_models():
        fields = user_fields_of(model)
        if not fields:
            continue
        label = model._meta.label_lower
        if model._meta.app_label in EXCLUDED_APPS or label in {k.lower() for k in EXCLUDED}:
            continue
        entry = registered.get(label)
        if entry is None:
            missing.append(f"{model._meta.label} ({', '.join(fields)})")
            continue
        # Every user field of the model is one the export reads (the person's own row
        # is read by its id).
        if entry.user_fields != ("pk",):
            uncovered = set(fields) - set(entry.user_fields)
            assert not uncovered, f"{model._meta.label}: {sorted(uncovered)} not exported"
    assert not missing, "Not in privacy.registry: " + "; ".join(missing)


def test_the_user_model_itself_is_exported():
    assert "organizations.user" in {entry.model.lower() for entry in installed_entries()}


def test_each_entry_names_a_strategy_and_kept_rows_say_why():
    kinds = [entry.kind for entry in REGISTRY]
    assert len(kinds) == len(set(kinds)), "two entries write the same file"
    for entry in REGISTRY:
        assert entry.erase in (DELETE, KEEP, SPECIAL, UNLINK)
        if entry.erase in (KEEP, SPECIAL, UNLINK):
            assert str(entry.reason), f"{entry.model} is kept without a reason"
    for reason in [*EXCLUDED_APPS.values(), *EXCLUDED.values()]:
        assert str(reason)


def test_the_export_never_writes_secrets():
    for entry in installed_entries():
        names = {name for name, _column in entry.columns()}
        assert not names & {"password", "access_token", "refresh_token", "digest", "token"}, (
            entry.model
        )
