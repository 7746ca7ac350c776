"""What events pay: clicks only once settled, never the sharer's own, one per visitor,
capped per share and day in the organisation's time zone; fraud reversal; suggestions
and charters; the rules page (org admins only) and its validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from advocacy.models import ShareStatus
from challenges.models import PointEntry, PointReason, Score, ScoringRule
from challenges.services.scoring import (
    CLICK_SETTLE_SECONDS,
    clicks_settle,
    points_click_reverse,
    scoring_rules_of,
)
from content.services import charter_accept
from organizations.audit import AuditLogEntry
from organizations.errors import PermissionDeniedError
from tests.challenges.conftest import click, make_share
from tests.conftest import client_for
from tests.content.factories import GuidelineFactory, SuggestionFactory

pytestmark = pytest.mark.django_db

SETTLE = timedelta(seconds=CLICK_SETTLE_SECONDS)


def _click_points(user) -> int:
    return sum(
        PointEntry.objects.filter(user=user, reason=PointReason.CLICK).values_list(
            "points", flat=True
        )
    )


def test_a_click_pays_only_after_the_settle_window(personas):
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        share = make_share(personas.teammate)
        click(share)
        assert clicks_settle() == 0
    with time_machine.travel(start + SETTLE - timedelta(seconds=1), tick=False):
        assert clicks_settle() == 0
        assert _click_points(personas.teammate) == 0
    with time_machine.travel(start + SETTLE + timedelta(seconds=1), tick=False):
        assert clicks_settle() == 1
        assert clicks_settle() == 0  # a second run pays nothing more
    assert _click_points(personas.teammate) == 1
    assert Score.objects.get(user=personas.teammate).click_count == 1
    # The entry names the share and its content, for the employee's history.
    paid = PointEntry.objects.get(reason=PointReason.CLICK)
    assert (paid.share_id, paid.content_id) == (share.pk, share.content_id)


def test_self_clicks_repeat_visitors_and_unpublished_shares_do_not_pay(personas):
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        share = make_share(personas.teammate)
        recalled = make_share(personas.teammate, status=ShareStatus.RECALLED)
        click(share, is_self=True)
        click(share, visitor="same-visitor")
        click(share, visitor="same-visitor")
        click(recalled)
    with time_machine.travel(start + SETTLE * 2, tick=False):
        assert clicks_settle() == 1
    assert _click_points(personas.teammate) == 1


def test_clicks_are_capped_per_share_and_day_in_the_organisation_time_zone(personas):
    ScoringRule.objects.create(
        organization=personas.organization, event="click", points=2, daily_cap_per_share=3
    )
    # Paris is UTC+1 in March: 23:30 UTC on 10 March is already 11 March there.
    evening = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    with time_machine.travel(evening - timedelta(hours=12), tick=False):
        share = make_share(personas.teammate)
        other = make_share(personas.teammate)
    with time_machine.travel(evening, tick=False):
        for minute in range(5):
            click(share, at=evening - timedelta(hours=2, minutes=minute))  # 10 March, Paris
        for minute in range(5):
            click(share, at=evening + timedelta(minutes=minute))  # 11 March, Paris
        click(other, at=evening)
    with time_machine.travel(evening + SETTLE * 2, tick=False):
        assert clicks_settle() == 7
    per_share = {
        share.pk: PointEntry.objects.filter(share=share, reason="click").count(),
        other.pk: PointEntry.objects.filter(share=other, reason="click").count(),
    }
    assert per_share == {share.pk: 6, other.pk: 1}
    assert _click_points(personas.teammate) == 14


def test_an_inactive_rule_pays_nothing(personas):
    ScoringRule.objects.create(
        organization=personas.organization, event="click", points=1, is_active=False
    )
    start = timezone.now()
    share = make_share(personas.teammate)
    click(share)
    with time_machine.travel(start + SETTLE * 2, tick=False):
        assert clicks_settle() == 0


def test_a_fraudulent_click_is_reversed_once_by_an_org_admin(personas):
    start = timezone.now()
    share = make_share(personas.teammate)
    bad = click(share)
    with time_machine.travel(start + SETTLE * 2, tick=False):
        clicks_settle()
    with pytest.raises(PermissionDeniedError):
        points_click_reverse(click=bad, actor=personas.teammate)
    with pytest.raises(PermissionDeniedError):
        points_click_reverse(click=bad, actor=personas.outsider)
    entry = points_click_reverse(click=bad, actor=personas.owner)
    assert (entry.reason, entry.points) == (PointReason.CLICK_FRAUD, -1)
    assert points_click_reverse(click=bad, actor=personas.owner) is None
    assert Score.objects.get(user=personas.teammate).lifetime_points == 0
    assert AuditLogEntry.objects.filter(action="points.click_reversed").count() == 1


def test_an_accepted_suggestion_pays_its_author_once(personas, django_capture_on_commit_callbacks):
    from content.services import suggestion_decide

    suggestion = SuggestionFactory(organization=personas.organization, author=personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        suggestion_decide(actor=personas.owner, suggestion=suggestion, accept=True, note="")
    with django_capture_on_commit_callbacks(execute=True):
        from content.signals import suggestion_accepted

        suggestion_accepted.send(sender=type(suggestion), suggestion=suggestion)
    entries = PointEntry.objects.filter(user=personas.teammate)
    assert [(e.reason, e.points) for e in entries] == [("suggestion_accepted", 15)]


def test_accepting_the_charter_pays_once_even_for_a_new_version(
    personas, django_capture_on_commit_callbacks
):
    charter = GuidelineFactory(organization=personas.organization)
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=personas.teammate)
    charter.version = 2
    charter.save()
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=personas.teammate)
    entries = PointEntry.objects.filter(user=personas.teammate)
    assert [(e.reason, e.points) for e in entries] == [("charter_accepted", 5)]


# --- the rules page ---------------------------------------------------------------------


def test_the_rules_page_shows_the_defaults_to_an_org_admin(personas):
    response = client_for(personas.owner).get(reverse("points_admin"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="points_share_published" value="10"' in body
    assert 'name="click_cap" value="20"' in body
    assert "Ambassador" in body  # the default levels


def test_an_employee_cannot_see_or_edit_the_rules(personas):
    client = client_for(personas.teammate)
    assert client.get(reverse("points_admin")).status_code == 404
    response = client.post(
        reverse("points_admin"), {"section": "rules", "points_share_published": "500"}
    )
    assert response.status_code == 404
    assert not ScoringRule.objects.exists()


def _rules_post(**overrides) -> dict[str, str]:
    data = {"section": "rules", "click_cap": "5"}
    for rule in scoring_rules_of(0):
        data[f"points_{rule.event}"] = str(rule.points)
        data[f"active_{rule.event}"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_org_admin_changes_the_rules_and_it_is_audited(personas):
    client = client_for(personas.owner)
    response = client.post(
        reverse("points_admin"),
        _rules_post(points_share_published="12", active_charter_accepted=None),
    )
    assert response.status_code == 302
    rules = {r.event: r for r in ScoringRule.objects.filter(organization=personas.organization)}
    assert rules["share_published"].points == 12
    assert rules["charter_accepted"].is_active is False
    assert rules["click"].daily_cap_per_share == 5
    assert AuditLogEntry.objects.filter(action="points.rules_changed").count() == 1
    # The outsider's organisation keeps its defaults.
    assert not ScoringRule.objects.filter(organization=personas.other_organization).exists()


def test_bad_rules_are_refused_with_the_field_named_and_nothing_saved(personas):
    response = client_for(personas.owner).post(
        reverse("points_admin"), _rules_post(points_click="-3", click_cap="0")
    )
    assert response.status_code == 200
    assert response.context["rules_form"].errors.keys() == {"points_click", "click_cap"}
    assert not ScoringRule.objects.exists()


def test_staff_reverse_click_points_from_the_django_admin(personas):
    from django.contrib.auth import get_user_model

    start = timezone.now()
    share = make_share(personas.teammate)
    click(share)
    click(share)
    with time_machine.travel(start + SETTLE * 2, tick=False):
        clicks_settle()
    staff = get_user_model().objects.create_superuser("staff@example.test", "x")
    entry = PointEntry.objects.filter(reason=PointReason.CLICK).first()
    response = client_for(staff).post(
        reverse("admin:challenges_pointentry_changelist"),
        {"action": "reverse_as_fraudulent", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    reversal = PointEntry.objects.get(reason=PointReason.CLICK_FRAUD)
    assert (reversal.reversal_of_id, reversal.points) == (entry.pk, -1)
    assert Score.objects.get(user=personas.teammate).lifetime_points == 1


def test_a_burst_larger_than_a_batch_is_worked_through_and_then_overlap_is_harmless(personas):
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        shares = [make_share(personas.teammate) for _ in range(3)]
        for share in shares:  # seven clicks recorded at the very same moment
            for _ in range(2 if share != shares[-1] else 3):
                click(share)
    later = start + SETTLE * 2
    with time_machine.travel(later, tick=False):
        runs = [clicks_settle(batch_size=3) for _ in range(4)]
    assert runs == [3, 3, 1, 0]
    assert _click_points(personas.teammate) == 7
    with time_machine.travel(later + timedelta(minutes=5), tick=False):
        assert clicks_settle(batch_size=3) == 0  # re-reads the overlap, pays nothing twice
