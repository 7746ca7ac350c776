"""Levels ("paliers"): defaults in both languages, progress, a level-up announced once, and
the admin's edits with their validation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from challenges.models import Level, Score
from challenges.services.levels import DEFAULT_LEVELS, level_progress, levels_for
from challenges.services.points import points_award, points_reverse
from notifications.models import Notification
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _award(user, points: int, key: str):
    return points_award(
        user=user, reason="adjustment", points=points, source_key=key, occurred_at=timezone.now()
    )


def test_the_default_levels_speak_both_languages(personas):
    levels = levels_for(personas.organization.pk)
    assert [lv.threshold for lv in levels] == [t for t, _en, _fr in DEFAULT_LEVELS]
    with translation.override("fr"):
        assert levels[3].name == "Ambassadeur"
    with translation.override("en"):
        assert levels[3].name == "Ambassador"


def test_progress_to_the_next_level(personas):
    levels = levels_for(personas.organization.pk)
    progress = level_progress(levels, 100)
    assert (progress.current.threshold, progress.next.threshold) == (50, 150)
    assert (progress.points_to_next, progress.percent) == (50, 50)
    top = level_progress(levels, 10_000)
    assert (top.next, top.percent) == (None, 100)


def test_a_level_up_is_announced_once_in_the_employee_language(personas):
    user = personas.teammate
    user.language = "fr"
    user.save()
    _award(user, 40, "a")
    assert not Notification.objects.filter(kind="challenges.level_up").exists()
    _award(user, 20, "b")  # 60: Messager
    _award(user, 30, "c")  # 90: still Messager
    notes = list(Notification.objects.filter(recipient=user, kind="challenges.level_up"))
    assert len(notes) == 1
    assert "Messager" in notes[0].title
    # Dropping below and climbing back does not announce the same level again.
    points_reverse(source_key="c", reversal_key="rc")
    points_reverse(source_key="b", reversal_key="rb")
    _award(user, 30, "d")
    assert Notification.objects.filter(recipient=user, kind="challenges.level_up").count() == 1
    assert Score.objects.get(user=user).level_threshold == 50


def test_jumping_several_levels_announces_the_highest(personas):
    _award(personas.teammate, 500, "big")
    notes = Notification.objects.filter(recipient=personas.teammate, kind="challenges.level_up")
    assert [n.title for n in notes] == ["You reached a new level: Ambassador"]


def _levels_post(rows, extra: int = 0) -> dict[str, str]:
    data = {
        "section": "levels",
        "levels-TOTAL_FORMS": str(len(rows) + extra),
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "30",
    }
    for index, (threshold, en, fr) in enumerate(rows):
        data[f"levels-{index}-threshold"] = str(threshold)
        data[f"levels-{index}-name_en"] = en
        data[f"levels-{index}-name_fr"] = fr
    return data


def test_an_org_admin_replaces_the_levels(personas):
    response = client_for(personas.owner).post(
        reverse("points_admin"),
        _levels_post([(0, "Rookie", "Recrue"), (100, "Pro", "Pro"), (300, "Star", "Étoile")], 2),
    )
    assert response.status_code == 302
    levels = list(Level.objects.filter(organization=personas.organization))
    assert [(lv.threshold, lv.name_fr) for lv in levels] == [
        (0, "Recrue"),
        (100, "Pro"),
        (300, "Étoile"),
    ]
    assert levels_for(personas.other_organization.pk)[1].name_en == "Messenger"


@pytest.mark.parametrize(
    "rows",
    [
        [(10, "Rookie", "Recrue")],  # the first level must start at 0
        [(0, "Rookie", "Recrue"), (0, "Again", "Encore")],  # same threshold twice
    ],
)
def test_bad_levels_are_refused_and_nothing_changes(personas, rows):
    response = client_for(personas.owner).post(reverse("points_admin"), _levels_post(rows))
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    assert not Level.objects.exists()


def test_an_employee_cannot_edit_levels(personas):
    response = client_for(personas.teammate).post(
        reverse("points_admin"), _levels_post([(0, "Me", "Moi")])
    )
    assert response.status_code == 404
    assert not Level.objects.exists()
