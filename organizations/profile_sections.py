"""Sections that higher apps add to the profile page (points and badges, the employee's
own numbers), registered in their AppConfig.ready(), so the profile never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from organizations.models import User


@dataclass(frozen=True)
class ProfileSection:
    key: str
    template_name: str
    context: Callable[[User], dict[str, Any]]
    order: int


_sections: dict[str, ProfileSection] = {}


def profile_section_register(
    *,
    key: str,
    template_name: str,
    context: Callable[[User], dict[str, Any]],
    order: int,
) -> None:
    """`context(user)` returns the variables of `template_name`; it runs once per page
    view, so it should cost a bounded number of queries."""
    _sections[key] = ProfileSection(key, template_name, context, order)


def profile_sections_for(user: User) -> list[tuple[str, dict[str, Any]]]:
    return [
        (section.template_name, section.context(user))
        for section in sorted(_sections.values(), key=lambda s: s.order)
    ]
