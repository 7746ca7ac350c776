"""No user-facing string is translated once, at import: a module-level `gettext` call
freezes the language of whoever imported the module first (the share confirmations were
French on the English interface). Every such string must be lazy or translated inside
the function that uses it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
APPS = ["organizations", "notifications", "content", "advocacy", "challenges", "analytics"]
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def _eager_names(tree: ast.Module) -> set[str]:
    """The local names bound to an eager gettext function."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in EAGER:
                    names.add(alias.asname or alias.name)
    return names


def _import_time_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    eager = _eager_names(tree)
    found: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function = True
        if (
            not in_function
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in eager
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return found


def test_no_string_is_translated_at_import_time():
    offenders = [
        where
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for where in _import_time_calls(path)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_share_confirmation_speaks_the_language_of_the_page(personas):
    from tests.advocacy.conftest import make_content
    from tests.conftest import client_for

    content = make_content(personas.organization, author=personas.owner)
    from advocacy.services.sharing import ShareRequest, share_create

    [share] = share_create(
        user=personas.teammate,
        data=ShareRequest(content_id=content.pk, networks=["facebook"], captions={}),
    )
    messages = {}
    for language in ("fr", "en"):
        personas.teammate.language = language
        personas.teammate.save(update_fields=["language"])
        client: Client = client_for(personas.teammate)
        with translation.override(language):
            response = client.post(f"/shares/{share.pk}/cancel/", follow=True)
        messages[language] = [str(m) for m in response.context["messages"]]
        share.refresh_from_db()
        share.status = "awaiting_confirmation"
        share.save(update_fields=["status"])
    assert messages["en"] == ["Cancelled."]
    assert messages["fr"] != messages["en"]
