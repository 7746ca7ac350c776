"""Dashboard pages: the numbers on screen, the period picker and htmx updates, bad
parameters, empty states, the content, challenge, what-works and report pages, the
earned-media settings, and bounded query counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from analytics.models import AnalyticsSettings
from organizations.models import AuditLogEntry
from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import client_for
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield build_world()


def card_value(html: str, key: str) -> str:
    match = re.search(rf'data-card="{key}".*?data-value>(.*?)</span>', html, re.S)
    assert match, key
    return re.sub(r"\s+", " ", match.group(1)).strip()


def test_the_dashboard_shows_the_cards_tables_and_chart_data(world):
    # LinkedIn gave no engagement for these shares: the page says clicks are the measure.
    rollup(world.employee, world.content, TODAY, shares=2, clicks=14, emv="21.00")
    rollup(world.seller, world.other_content, TODAY - timedelta(days=40), shares=1, clicks=5)
    response = client_for(world.manager).get(reverse("dashboards"))
    html = response.content.decode()
    assert response.status_code == 200
    assert card_value(html, "shares") == "2"
    assert card_value(html, "clicks") == "14"
    # Previous 30 days: 1 share, 5 clicks.
    assert "+100.0 %" in html and "+180.0 %" in html
    assert 'id="trend-data"' in html and "We are hiring" in html and "Nora North" in html
    assert "EMV = CPM × impressions / 1000 + CPC × clicks" in html
    assert "LinkedIn personal posts give no numbers without partner access" in html
    assert 'data-segment="regulars"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_the_period_picker_changes_the_numbers_and_htmx_gets_only_the_body(world):
    rollup(world.employee, world.content, TODAY - timedelta(days=20), shares=3, clicks=9)
    client = client_for(world.admin)
    month = client.get(reverse("dashboards"), {"period": "30d"}).content.decode()
    week = client.get(
        reverse("dashboards"), {"period": "7d"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert card_value(month, "clicks") == "9"
    assert card_value(week, "clicks") == "0"
    assert week.lstrip().startswith('<div id="dashboard-body"') and "<html" not in week
    custom = client.get(
        reverse("dashboards"),
        {"period": "custom", "start": "2026-02-26", "end": "2026-02-26"},
    ).content.decode()
    assert card_value(custom, "clicks") == "9"
    assert "Week of" not in custom


def test_bad_parameters_are_explained_not_a_server_error(world):
    client = client_for(world.admin)
    for params, message in [
        ({"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "comes before"),
        ({"period": "custom", "start": "bad"}, "Enter a valid date"),
        ({"period": "forever"}, "Select a valid choice"),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-03-01"}, "at most 366"),
        ({"team": "abc"}, "Enter a whole number"),
        ({"period": "custom", "start": "0001-01-01", "end": "0001-01-05"}, "cannot be before"),
    ]:
        response = client.get(reverse("dashboards"), params)
        assert response.status_code == 200, params
        assert message in response.content.decode(), params


def test_dates_whose_previous_period_does_not_exist_are_refused_everywhere(world):
    client = client_for(world.admin)
    params = {"period": "custom", "start": "0001-01-01", "end": "0001-01-05"}
    for name in ("dashboards", "dashboard_report"):
        response = client.get(reverse(name), params)
        assert response.status_code == 200, name
        assert "The first day cannot be before" in response.content.decode(), name
    response = client.get(reverse("dashboard_export", args=["summary"]), params)
    assert response.status_code == 200


def test_the_period_is_refused_beyond_a_year_from_today():
    from analytics.selectors import period_resolve
    from organizations.errors import DomainError

    today = TODAY
    with pytest.raises(DomainError) as error:
        period_resolve(key="custom", today=today, start=date(1999, 12, 31), end=today)
    assert error.value.field == "start"
    with pytest.raises(DomainError) as error:
        period_resolve(key="custom", today=today, start=today, end=today + timedelta(days=367))
    assert error.value.field == "end" and "cannot be after" in error.value.message
    ok = period_resolve(key="custom", today=today, start=date(2000, 1, 1), end=date(2000, 1, 5))
    assert ok.previous.end == date(1999, 12, 31)


def test_an_empty_organisation_gets_an_empty_state(world):
    html = client_for(world.admin).get(reverse("dashboards")).content.decode()
    assert "No activity in this period" in html


def test_a_manager_without_teams_is_told_why_the_page_is_empty(world):
    world.sales.managers.clear()
    html = client_for(world.manager).get(reverse("dashboards")).content.decode()
    assert "You do not manage any team yet" in html


def test_the_dashboard_query_count_does_not_grow_with_the_data(
    world, django_assert_max_num_queries
):
    client = client_for(world.admin)
    client.get(reverse("dashboards"))  # session and caches warmed
    for day in range(30):
        for person in (world.employee, world.seller, world.marketer, world.both):
            rollup(person, world.content, TODAY - timedelta(days=day), shares=1, clicks=day)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("dashboards"), {"period": "90d"})
    assert response.status_code == 200


def test_content_page_shows_who_shared_it_within_the_scope(world):
    rollup(world.employee, world.content, TODAY, shares=1, clicks=4)
    rollup(world.marketer, world.content, TODAY, shares=1, clicks=40)
    url = reverse("dashboard_content", args=[world.content.pk])
    manager_html = client_for(world.manager).get(url).content.decode()
    assert "Nora North" in manager_html and "Mia Marketer" not in manager_html
    admin_html = client_for(world.admin).get(url).content.decode()
    assert "Mia Marketer" in admin_html and card_value(admin_html, "clicks") == "44"


def test_what_works_is_for_the_comms_team_and_admins(world):
    rollup(world.employee, world.content, TODAY, shares=1, clicks=4)
    url = reverse("dashboard_what_works")
    html = client_for(world.editor).get(url).content.decode()
    assert "Hiring" in html and 'data-table="what-works-weekdays"' in html
    assert client_for(world.manager).get(url).status_code == 404


def test_the_report_page_prints_every_table(world):
    rollup(world.employee, world.content, TODAY, shares=1, clicks=4)
    html = (
        client_for(world.manager)
        .get(reverse("dashboard_report"), {"period": "7d"})
        .content.decode()
    )
    for table in ("summary", "trend", "top-contents", "top-ambassadors", "teams", "networks"):
        assert f'data-table="{table}"' in html
    assert "Regulars" in html and "Nora North" in html


def test_challenge_page_counts_the_challenges_days_audience_and_contents(world):
    from challenges.models import Challenge

    challenge = Challenge.objects.create(
        organization=world.organization,
        title="Hiring week",
        starts_at=datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 15, 20, 0, tzinfo=UTC),
        goal=10,
        status="ended",
    )
    challenge.audience_teams.set([world.marketing])
    challenge.contents.set([world.content])
    rollup(world.marketer, world.content, TODAY - timedelta(days=5), shares=2, clicks=6)
    rollup(world.marketer, world.other_content, TODAY - timedelta(days=5), shares=5, clicks=50)
    rollup(world.marketer, world.content, TODAY, shares=9, clicks=90)  # after the challenge
    rollup(world.employee, world.content, TODAY - timedelta(days=5), shares=7)  # not audience
    url = reverse("dashboard_challenge", args=[challenge.pk])
    html = client_for(world.admin).get(url).content.decode()
    assert card_value(html, "shares") == "2" and card_value(html, "clicks") == "6"
    # The manager of Sales: the audience (Marketing) is not one of their teams.
    manager_html = client_for(world.manager).get(url).content.decode()
    assert "This challenge is for teams outside yours" in manager_html
    assert 'data-card="shares"' not in manager_html
    # Once Marketing is theirs too, they see it.
    world.marketing.managers.add(world.manager)
    manager_html = client_for(world.manager).get(url).content.decode()
    assert card_value(manager_html, "shares") == "2"
    assert client_for(world.outsider).get(url).status_code == 404
    # The dashboard links to it while the period covers its days.
    assert url in client_for(world.admin).get(reverse("dashboards")).content.decode()
    assert (
        url
        not in client_for(world.admin)
        .get(
            reverse("dashboards"), {"period": "custom", "start": "2026-01-01", "end": "2026-01-31"}
        )
        .content.decode()
    )


def test_org_admin_changes_the_rates_and_it_is_audited(world):
    client = client_for(world.admin)
    url = reverse("analytics_settings")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"currency": "usd", "cpc": "2.10", "cpm_linkedin": "31", "cpm_x": "6", "cpm_facebook": "9"},
    )
    assert response.status_code == 302
    rates = AnalyticsSettings.objects.get(organization=world.organization)
    assert (rates.currency, str(rates.cpc), str(rates.cpm_linkedin)) == ("USD", "2.10", "31.00")
    assert AuditLogEntry.objects.filter(action="analytics.settings_updated").count() == 1
    html = client_for(world.admin).get(reverse("dashboards")).content.decode()
    assert "CPM LinkedIn 31.00" in html and "CPC 2.10 (USD)" in html


def test_bad_rates_are_refused_and_nothing_is_written(world):
    client = client_for(world.admin)
    response = client.post(
        reverse("analytics_settings"),
        {"currency": "EURO", "cpc": "-1", "cpm_linkedin": "x", "cpm_x": "6", "cpm_facebook": "9"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "three-letter currency code" in html and "greater than or equal to 0" in html
    assert not AuditLogEntry.objects.filter(action="analytics.settings_updated").exists()


def test_only_org_admins_reach_the_rates(world):
    for user in (world.manager, world.editor, world.employee):
        assert client_for(user).get(reverse("analytics_settings")).status_code == 404


def test_the_period_ends_on_the_organisations_today_not_the_servers():
    # 23:30 UTC on 17 March: already 18 March in Paris, still 17 March in New York.
    with time_machine.travel("2026-03-17T23:30:00+00:00", tick=False):
        w = build_world()
        rollup(w.employee, w.content, TODAY, shares=1, clicks=5)  # 18 March
        html = client_for(w.admin).get(reverse("dashboards"), {"period": "7d"}).content.decode()
        assert card_value(html, "clicks") == "5"
        w.organization.time_zone = "America/New_York"
        w.organization.save()
        html = client_for(w.admin).get(reverse("dashboards"), {"period": "7d"}).content.decode()
        assert card_value(html, "clicks") == "0"


def test_the_api_gives_the_numbers_on_the_page(world):
    from tests.conftest import api_client_for

    rollup(world.employee, world.content, TODAY, shares=2, clicks=14, reactions=4, emv="21.00")
    rollup(world.seller, world.content, TODAY - timedelta(days=9), link_confirmations=1, clicks=3)
    params = {"period": "30d", "team": world.sales.pk}
    html = client_for(world.manager).get(reverse("dashboards"), params).content.decode()
    data = api_client_for(world.manager).get(reverse("api_analytics_summary"), params).json()
    assert card_value(html, "shares") == str(data["totals"]["shares"]) == "3"
    assert card_value(html, "clicks") == str(data["totals"]["clicks"]) == "17"
    assert card_value(html, "engagement") == str(data["totals"]["engagement"]) == "4"
    assert card_value(html, "emv") == f"{data['totals']['emv']} EUR"
    assert card_value(html, "active_ambassadors") == f"{data['active_ambassadors_percent']} %"


@pytest.mark.parametrize("page", ["content", "what_works", "report"])
def test_other_pages_query_counts_are_bounded(world, page, django_assert_max_num_queries):
    url = {
        "content": reverse("dashboard_content", args=[world.content.pk]),
        "what_works": reverse("dashboard_what_works"),
        "report": reverse("dashboard_report"),
    }[page]
    client = client_for(world.admin)
    client.get(url)
    for day in range(30):
        for person in (world.employee, world.seller, world.marketer):
            rollup(person, world.content, TODAY - timedelta(days=day), shares=1, clicks=2)
    with django_assert_max_num_queries(20):
        assert client.get(url, {"period": "90d"}).status_code == 200


def test_a_challenge_without_a_sane_end_gets_its_numbers_not_a_server_error(world):
    from challenges.models import Challenge

    challenge = Challenge.objects.create(
        organization=world.organization,
        title="Forever",
        starts_at=datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        goal=10,
        status="active",
    )
    rollup(world.employee, world.content, TODAY, shares=2, clicks=6)
    response = client_for(world.admin).get(reverse("dashboard_challenge", args=[challenge.pk]))
    assert response.status_code == 200
    assert card_value(response.content.decode(), "shares") == "2"


def test_managers_do_not_see_the_numbers_of_draft_or_cancelled_challenges(world):
    from challenges.models import Challenge

    challenge = Challenge.objects.create(
        organization=world.organization,
        title="Secret plan",
        starts_at=datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 15, 20, 0, tzinfo=UTC),
        goal=10,
        status="draft",
    )
    url = reverse("dashboard_challenge", args=[challenge.pk])
    for status in ("draft", "cancelled"):
        Challenge.objects.filter(pk=challenge.pk).update(status=status)
        assert client_for(world.manager).get(url).status_code == 404, status
        assert (
            client_for(world.manager)
            .get(reverse("challenge_detail", args=[challenge.pk]))
            .status_code
            == 404
        )
        editor_response = client_for(world.editor).get(url)
        assert (
            editor_response.status_code == 200 and "Secret plan" in editor_response.content.decode()
        )
    Challenge.objects.filter(pk=challenge.pk).update(status="ended")
    assert client_for(world.manager).get(url).status_code == 200


def test_managers_see_the_numbers_of_published_content_only(world):
    from content.models import ContentStatus
    from tests.content.factories import ContentFactory

    export = reverse("dashboard_export", args=["summary"])
    later = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    for status, publish_at, visible in [
        (ContentStatus.DRAFT, None, False),
        (ContentStatus.IN_REVIEW, None, False),
        (ContentStatus.APPROVED, later, False),  # scheduled
        (ContentStatus.WITHDRAWN, later, False),  # withdrawn before it came out
        (ContentStatus.APPROVED, None, True),
        (ContentStatus.WITHDRAWN, None, True),
    ]:
        content = ContentFactory(
            organization=world.organization,
            author=world.editor,
            status=status,
            **({"publish_at": publish_at} if publish_at else {}),
        )
        url = reverse("dashboard_content", args=[content.pk])
        expected = 200 if visible else 404
        assert client_for(world.manager).get(url).status_code == expected, status
        exported = client_for(world.manager).get(export, {"content": content.pk})
        assert exported.status_code == expected, status
        assert client_for(world.editor).get(url).status_code == 200, status
    expired = ContentFactory(
        organization=world.organization,
        author=world.editor,
        publish_at=datetime(2026, 3, 1, tzinfo=UTC),
        expires_at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    url = reverse("dashboard_content", args=[expired.pk])
    assert client_for(world.manager).get(url).status_code == 200


def test_a_deep_tree_shows_two_levels_and_links_further_down(world):
    # Sales > North > Lyon > Lyon Est: the page shows the top two levels of what the
    # reader sees, a team with teams below links to them, the filter offers one more level
    # and, once a team is chosen, its own sub-teams; the CSV lists every team.
    lyon = TeamFactory(organization=world.organization, name="Lyon", parent=world.north)
    lyon_est = TeamFactory(organization=world.organization, name="Lyon Est", parent=lyon)
    client = client_for(world.admin)

    def table_and_options(**query) -> tuple[list[str], list[str], str]:
        html = client.get(reverse("dashboards"), {"period": "7d", **query}).content.decode()
        table = html[
            html.index('data-table="teams"') : html.index(
                "</table>", html.index('data-table="teams"')
            )
        ]
        rows = re.findall(r'<tr class="tree-depth-\d" data-team="(\d+)">', table)
        select = html[
            html.index('id="id_team"') : html.index("</select>", html.index('id="id_team"'))
        ]
        return rows, re.findall(r'<option value="(\d+)"', select), html

    rows, options, html = table_and_options()
    assert str(lyon.pk) not in rows and str(world.north.pk) in rows
    assert f'team={world.north.pk}">North</a>' in html
    assert "2 teams further down are not shown here" in html
    report = client.get(reverse("dashboard_report"), {"period": "7d"}).content.decode()
    assert "Lyon Est" not in report and "2 teams further down" in report
    assert str(lyon.pk) in options and str(lyon_est.pk) not in options

    rows, options, html = table_and_options(team=world.north.pk)
    assert rows == [str(world.north.pk), str(lyon.pk)]
    assert f'team={lyon.pk}">Lyon</a>' in html and "period=7d" in html
    rows, options, html = table_and_options(team=lyon.pk)
    assert rows == [str(lyon.pk), str(lyon_est.pk)]
    assert str(lyon_est.pk) in options and "further down" not in html

    csv = client.get(reverse("dashboard_export", args=["teams"]), {"period": "7d"})
    assert "Lyon Est" in csv.content.decode()
