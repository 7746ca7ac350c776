"""CSV exports of every dashboard table: the same selectors as the pages, so the same
numbers and the same scope. Written for Excel: UTF-8 with a byte-order mark, semicolons
between cells (the separator Excel expects in French locales), quoting wherever a cell
holds one, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from analytics import selectors
from analytics.selectors import Period, Scope, Totals

Row = list[Any]


def _totals_headers() -> list[str]:
    return [
        _("Shares"),
        _("Posted through the network"),
        _("Share-link posts"),
        _("Clicks"),
        _("Unique clicks"),
        _("Clicks per share"),
        _("Reactions"),
        _("Comments"),
        _("Reshares"),
        _("Engagement"),
        _("Impressions"),
        _("Potential reach"),
        _("Earned media value"),
    ]


def _totals_cells(totals: Totals) -> Row:
    return [
        totals.all_shares,
        totals.shares,
        totals.link_confirmations,
        totals.clicks,
        totals.unique_clicks,
        totals.clicks_per_share if totals.clicks_per_share is not None else "",
        totals.reactions,
        totals.comments,
        totals.reshares,
        totals.engagement,
        totals.impressions,
        totals.potential_reach,
        totals.emv,
    ]


def summary_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    result = selectors.summary(scope, period)
    headers = [_("Measure"), _("This period"), _("Previous period"), _("Change (%)")]
    rows = [
        [card.label, _cell(card.value), _cell(card.previous), _cell(card.change)]
        for card in result.cards()
    ]
    rows.append([_("Employees in scope"), result.people, result.people, ""])
    return headers, rows


def timeseries_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    points = selectors.timeseries(scope, period, interval=interval)
    headers = [_("From"), _("To"), *_totals_headers()]
    rows = [[p.start.isoformat(), p.end.isoformat(), *_totals_cells(p.totals)] for p in points]
    return headers, rows


def top_contents_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    items = selectors.top_contents(scope, period, limit=1000)
    headers = [_("Content"), _("Ambassadors"), *_totals_headers()]
    return headers, [[c.title, c.ambassadors, *_totals_cells(c.totals)] for c in items]


def top_ambassadors_table(
    scope: Scope, period: Period, interval: str
) -> tuple[list[str], list[Row]]:
    items = selectors.top_ambassadors(scope, period, limit=100_000)
    headers = [_("Name"), _("Email"), _("Contents shared"), *_totals_headers()]
    return headers, [[p.name, p.email, p.contents, *_totals_cells(p.totals)] for p in items]


def teams_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    items = selectors.by_team(scope, period)
    headers = [
        _("Team"),
        _("Employees"),
        _("Active ambassadors"),
        _("Active ambassadors (%)"),
        *_totals_headers(),
    ]
    return headers, [
        [t.name, t.people, t.active, t.adoption, *_totals_cells(t.totals)] for t in items
    ]


def networks_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    items = selectors.by_network(scope, period)
    headers = [_("Network"), *_totals_headers(), _("Notes")]
    return headers, [[n.label, *_totals_cells(n.totals), " ".join(n.notes)] for n in items]


def segments_table(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
    headers = [
        _("Segment"),
        _("Name"),
        _("Email"),
        _("Shares in the period"),
        _("Weeks with a share"),
    ]
    rows = [
        [segment.label, m.name, m.email, m.shares, m.weeks]
        for segment in selectors.segments(scope, period)
        for m in segment.members
    ]
    return headers, rows


def _works_table(
    reader: Callable[[Scope, Period], list[selectors.WorksRow]], title: Callable[[], str]
) -> Callable[[Scope, Period, str], tuple[list[str], list[Row]]]:
    def build(scope: Scope, period: Period, interval: str) -> tuple[list[str], list[Row]]:
        return [title(), *_totals_headers()], [
            [row.label, *_totals_cells(row.totals)] for row in reader(scope, period)
        ]

    return build


def content_people_table(
    scope: Scope, period: Period, interval: str
) -> tuple[list[str], list[Row]]:
    items = selectors.content_people(scope, period)
    headers = [_("Name"), _("Email"), *_totals_headers()]
    return headers, [[p.name, p.email, *_totals_cells(p.totals)] for p in items]


TABLES: dict[str, Callable[[Scope, Period, str], tuple[list[str], list[Row]]]] = {
    "summary": summary_table,
    "trend": timeseries_table,
    "top-contents": top_contents_table,
    "top-ambassadors": top_ambassadors_table,
    "teams": teams_table,
    "networks": networks_table,
    "segments": segments_table,
    "what-works-topics": _works_table(selectors.what_works_by_topic, lambda: _("Topic")),
    "what-works-kinds": _works_table(selectors.what_works_by_kind, lambda: _("Kind")),
    "what-works-weekdays": _works_table(selectors.what_works_by_weekday, lambda: _("Weekday")),
    "content-people": content_people_table,
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return value


# Cells starting with these are run as formulas by spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def csv_text(headers: list[str], rows: Iterable[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([_safe(h) for h in headers])
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return buffer.getvalue()


def csv_response(*, table: str, scope: Scope, period: Period, interval: str) -> HttpResponse:
    headers, rows = TABLES[table](scope, period, interval)
    body = "\ufeff" + csv_text(headers, rows)
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    name = f"portevoix-{table}-{period.slug}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
