"""Fill a separate PostgreSQL database with a company's worth of Portevoix data, fast.

    .venv/bin/python -m bench.generate --scale small \
        --database-url postgres://postgres@127.0.0.1:5432/portevoix_bench_small

One large organisation (a 5-level team tree, contents in French and English with captions
and topics, two years of shares with their tracked links, attempts, clicks, activities,
point-ledger entries, metric polls and snapshots of the API shares, charter acceptances)
and 20 small organisations beside it. Everything is derived from a seeded random generator
and a fixed anchor date (`--anchor`, never today), so two runs write the same rows.

Rows are written with COPY (psycopg2 `copy_expert`) from generated text streams, parents
before children, with every constraint and trigger in place; sequences are reset after.
The scores are summed from the ledger in SQL, and the daily rollups are built by the
project's own rollup job (`analytics.services.rollups.rollups_fill`), as production does.

Bots: link-preview fetchers and crawlers are redirected but never stored as clicks (the
product classifies them: `advocacy.services.clicks.click_ignored_reason`); the generator
draws them among the requests and counts them in the manifest (`bot_requests`), while
the sharer's own clicks are stored with `is_self` set, as the product stores them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import databases

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = 2
DEFAULT_ANCHOR = "2026-07-01T00:00:00+00:00"
DEFAULT_SEED = 14
# Not secrets: fixed so that the generated tokens and the benchmarked app agree.
BENCH_SECRET_KEY = "portevoix-bench-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
BENCH_FIELD_ENCRYPTION_KEY = "cG9ydGV2b2l4LWJlbmNoLWZpZWxkLWtleS0zMmJ5dGU="
BENCH_PASSWORD = "portevoix-bench"  # noqa: S105 - every generated account's password
ZONE = ZoneInfo("Europe/Paris")
NETWORKS = ("linkedin", "x", "facebook")
NETWORK_WEIGHTS = (0.6, 0.25, 0.15)
# The large organisation's rule pays one unique click per share and day: with the repeat
# visits, the ledger holds about half as many entries as there are clicks (5 M for 10 M).
CLICK_CAP_PER_SHARE_AND_DAY = 1
SMALL_ORGANIZATIONS = 20


@dataclass(frozen=True)
class Size:
    people: int
    contents: int
    shares: int
    clicks: int
    branching: tuple[int, int, int, int, int]


# The large organisation at each scale; medium is a tenth of full, small a hundredth,
# tiny (the tests') about a thousandth with enough people and contents to share on.
SCALES: dict[str, Size] = {
    "full": Size(50_000, 20_000, 2_000_000, 10_000_000, (6, 5, 4, 6, 7)),
    "medium": Size(5_000, 2_000, 200_000, 1_000_000, (4, 3, 3, 4, 4)),
    "small": Size(500, 200, 20_000, 100_000, (2, 2, 2, 3, 2)),
    "tiny": Size(100, 40, 2_000, 10_000, (2, 1, 2, 2, 2)),
}


def small_size(big: Size) -> Size:
    return Size(
        people=max(8, big.people // 200),
        contents=max(6, big.contents // 200),
        shares=max(5, big.shares // 400),
        clicks=max(25, big.clicks // 400),
        branching=(1, 2, 1, 1, 2),
    )


FIRST = [
    "Camille",
    "Léa",
    "Hugo",
    "Lucas",
    "Chloé",
    "Manon",
    "Louis",
    "Emma",
    "Jules",
    "Inès",
    "Arthur",
    "Zoé",
    "Nathan",
    "Sarah",
    "Paul",
    "Alice",
    "Adam",
    "Lina",
    "Théo",
    "Jade",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Harry",
    "Grace",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Walker",
    "Wright",
    "Green",
    "Hall",
]
DIVISIONS = [
    "Operations",
    "Sales",
    "Research",
    "Engineering",
    "Finance",
    "People",
    "Marketing",
    "Legal",
]
DEPARTMENTS = ["North", "South", "East", "West", "Central", "Overseas"]
SITES = ["Paris", "Lyon", "Lille", "Nantes", "Bordeaux", "Toulouse", "Marseille", "Strasbourg"]
TOPICS = [
    "Innovation",
    "Careers",
    "Sustainability",
    "Customers",
    "Events",
    "Products",
    "Research",
    "Culture",
    "Diversity",
    "Safety",
    "Partnerships",
    "Awards",
    "Community",
    "Health",
    "Digital",
    "Finance",
    "Talent",
    "Quality",
]
JOBS = ("Engineer", "Analyst", "Sales representative", "Technician", "Consultant", "Designer")
REFERRERS = {"linkedin": "www.linkedin.com", "x": "t.co", "facebook": "l.facebook.com"}
# Requests as the redirect sees them: people's browsers (in-app ones too) and the
# fetchers that are redirected but never counted.
HUMAN_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [LinkedInApp]",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36 [FBAN/EMA;FBLC/fr_FR]",
)
BOT_AGENTS = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
BOT_SHARE = 0.35  # of the requests a shared link receives
SELF_SHARE = 0.03  # of the counted clicks


# --- COPY ---------------------------------------------------------------------------------


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def fmt(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _escape(json.dumps(value, ensure_ascii=False))
    return str(value)


def ts(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat()


class Table:
    """One table's rows, as COPY text. Columns a row does not give are filled with the
    field's constant default (auto_now fields with the anchor); a NOT NULL column with
    neither is an error here rather than a failed COPY."""

    def __init__(self, model: Any, columns: Iterable[str], *, anchor: datetime) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.columns = list(columns)
        known = {field.attname: field for field in model._meta.concrete_fields}
        extra_names: list[str] = []
        extra_values: list[str] = []
        for attname, field in known.items():
            if attname in self.columns:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = anchor
            elif field.has_default() and not callable(field.default):
                value = field.get_default()
            elif field.null:
                continue
            elif field.blank and field.empty_strings_allowed:
                value = ""
            else:
                raise ValueError(f"{self.table}.{field.column} needs a value")
            extra_names.append(attname)
            extra_values.append(fmt(value))
        unknown = set(self.columns) - set(known)
        if unknown:
            raise ValueError(f"{self.table} has no {sorted(unknown)}")
        self.sql_columns = [known[name].column for name in self.columns + extra_names]
        self.suffix = "".join("\t" + value for value in extra_values)
        self.buffer = io.StringIO()
        self.pending = 0
        self.rows = 0

    def add(self, *values: Any) -> None:
        self.buffer.write("\t".join(map(fmt, values)) + self.suffix + "\n")
        self.pending += 1

    def add_line(self, line: str) -> None:
        """A row already formatted (hot paths): tab-separated, escaped, no newline."""
        self.buffer.write(line + self.suffix + "\n")
        self.pending += 1

    def flush(self, cursor: Any) -> None:
        if not self.pending:
            return
        self.buffer.seek(0)
        columns = ", ".join(f'"{column}"' for column in self.sql_columns)
        cursor.copy_expert(f'COPY "{self.table}" ({columns}) FROM STDIN', self.buffer)
        self.rows += self.pending
        self.pending = 0
        self.buffer = io.StringIO()


class Writer:
    """Every table, flushed together parents first (foreign keys are checked at each
    COPY's commit), whenever the rows waiting grow large."""

    FLUSH_ROWS = 200_000

    def __init__(
        self, connection: Any, anchor: datetime, log: Callable[[str], None] = print
    ) -> None:
        self.connection = connection
        self.anchor = anchor
        self.log = log
        self.tables: dict[str, Table] = {}
        self.started = time.perf_counter()
        self.reported = 0

    def table(self, key: str, model: Any, columns: Iterable[str]) -> Table:
        self.tables[key] = Table(model, columns, anchor=self.anchor)
        return self.tables[key]

    def maybe_flush(self) -> None:
        if sum(table.pending for table in self.tables.values()) >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        with self.connection.cursor() as cursor:
            for table in self.tables.values():
                table.flush(cursor)
        self.connection.commit()
        rows = sum(table.rows for table in self.tables.values())
        if rows - self.reported >= 1_000_000:
            self.reported = rows
            seconds = time.perf_counter() - self.started
            self.log(f"  … {rows:,} rows written in {seconds:.0f} s ({rows / seconds:,.0f} rows/s)")

    def foreign_keys_drop(self) -> list[tuple[str, str, str]]:
        """Drop the foreign keys of the loaded tables: checked row by row they are most of
        a COPY's cost. `foreign_keys_restore` puts back the same definitions, which
        validates every row in one pass per key."""
        names = [table.table for table in self.tables.values()]
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
                [names],
            )
            keys = cursor.fetchall()
            for table, name, _definition in keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        self.connection.commit()
        return keys

    def foreign_keys_restore(self, keys: list[tuple[str, str, str]]) -> None:
        with self.connection.cursor() as cursor:
            for table, name, definition in keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.connection.commit()


# --- The plan -------------------------------------------------------------------------------


class Ids:
    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, key: str) -> int:
        self.last[key] = self.last.get(key, 0) + 1
        return self.last[key]


def link_code(share_id: int) -> str:
    """Unique by construction (a bijection of the id), shaped like the product's codes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    number = (share_id * 0x9E3779B97F4A7C15 + 0x5DEECE66D) % (1 << 48)
    digits = []
    for _ in range(8):
        digits.append(alphabet[number & 63])
        number >>= 6
    return "".join(digits)


def distribute(total: int, weights: list[float], cap: int, rng: random.Random) -> list[int]:
    """`total` split in proportion to `weights`, no part above `cap`."""
    if not weights or total <= 0:
        return [0] * len(weights)
    total = min(total, cap * len(weights))
    shares = [0.0] * len(weights)
    free = list(range(len(weights)))
    left = float(total)
    while free and left > 1e-9:
        weight_sum = sum(weights[i] for i in free) or 1.0
        capped = []
        for i in free:
            shares[i] += left * weights[i] / weight_sum
        left = 0.0
        for i in free:
            if shares[i] > cap:
                left += shares[i] - cap
                shares[i] = cap
                capped.append(i)
        free = [i for i in free if i not in set(capped)]
    counts = [int(value) for value in shares]
    remainder = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], rng.random()))
    for i in order:
        if remainder <= 0:
            break
        if counts[i] < cap:
            counts[i] += 1
            remainder -= 1
    return counts


class Generator:
    def __init__(
        self,
        *,
        connection: Any,
        scale: str,
        seed: int,
        anchor: datetime,
        log: Callable[[str], None],
    ) -> None:
        from django.contrib.auth.hashers import make_password

        self.connection = connection
        self.size = SCALES[scale]
        self.seed = seed
        self.anchor = anchor
        self.end = anchor.timestamp()
        self.start = (anchor - timedelta(days=730)).timestamp()
        self.log = log
        self.ids = Ids()
        self.writer = Writer(connection, anchor, log)
        self.password = make_password(BENCH_PASSWORD, salt=f"bench{seed}")
        self.accounts: dict[str, str] = {}
        self.bot_requests = 0
        self._tables()

    def _tables(self) -> None:
        from advocacy.models import (
            Activity,
            Click,
            Share,
            ShareAttempt,
            SocialAccount,
            TrackedLink,
        )
        from analytics.models import MetricPoll, MetricSnapshot
        from challenges.models import Level, PointEntry, ScoringRule
        from content.models import Caption as CaptionModel
        from content.models import CharterAcceptance, Content, Guideline, Topic
        from organizations.models import Organization, Team, User

        w = self.writer
        self.t_org = w.table(
            "organization", Organization, ["id", "name", "slug", "default_language", "created_at"]
        )
        self.t_team = w.table(
            "team", Team, ["id", "organization_id", "name", "kind", "parent_id", "created_at"]
        )
        self.t_user = w.table(
            "user",
            User,
            [
                "id",
                "password",
                "email",
                "first_name",
                "last_name",
                "organization_id",
                "role",
                "language",
                "job_title",
                "date_joined",
            ],
        )
        self.t_user_teams = w.table("user_teams", User.teams.through, ["id", "user_id", "team_id"])
        self.t_managers = w.table(
            "team_managers", Team.managers.through, ["id", "team_id", "user_id"]
        )
        self.t_guideline = w.table(
            "guideline", Guideline, ["id", "organization_id", "kind", "title", "body", "version"]
        )
        self.t_acceptance = w.table(
            "acceptance",
            CharterAcceptance,
            ["id", "user_id", "guideline_id", "version", "accepted_at"],
        )
        self.t_topic = w.table("topic", Topic, ["id", "organization_id", "name", "slug"])
        self.t_content = w.table(
            "content",
            Content,
            [
                "id",
                "organization_id",
                "kind",
                "title",
                "why_it_matters",
                "link_url",
                "preview_status",
                "preview_title",
                "preview_description",
                "preview_site_name",
                "hashtags",
                "language",
                "publish_at",
                "expires_at",
                "pinned",
                "evergreen",
                "status",
                "author_id",
                "created_at",
                "updated_at",
            ],
        )
        self.t_content_topics = w.table(
            "content_topics", Content.topics.through, ["id", "content_id", "topic_id"]
        )
        self.t_audience = w.table(
            "audience", Content.audience_teams.through, ["id", "content_id", "team_id"]
        )
        self.t_caption = w.table(
            "caption", CaptionModel, ["id", "content_id", "network", "text", "position"]
        )
        self.t_account = w.table(
            "account",
            SocialAccount,
            [
                "id",
                "organization_id",
                "user_id",
                "network",
                "adapter",
                "external_id",
                "display_name",
                "access_token",
                "expires_at",
                "status",
                "connected_at",
            ],
        )
        self.t_rule = w.table(
            "rule", ScoringRule, ["id", "organization_id", "event", "points", "daily_cap_per_share"]
        )
        self.t_level = w.table(
            "level", Level, ["id", "organization_id", "threshold", "name_en", "name_fr"]
        )
        self.t_share = w.table(
            "share",
            Share,
            [
                "id",
                "organization_id",
                "user_id",
                "content_id",
                "network",
                "mode",
                "account_id",
                "text",
                "status",
                "scheduled_at",
                "claimed_at",
                "request_sent_at",
                "attempt_count",
                "idempotency_key",
                "external_id",
                "external_url",
                "published_at",
                "last_error",
                "created_at",
                "updated_at",
            ],
        )
        self.t_link = w.table(
            "link",
            TrackedLink,
            [
                "id",
                "organization_id",
                "share_id",
                "code",
                "destination",
                "utm_source",
                "utm_campaign",
                "created_at",
            ],
        )
        self.t_attempt = w.table(
            "attempt",
            ShareAttempt,
            [
                "id",
                "share_id",
                "kind",
                "outcome",
                "status_code",
                "body",
                "duration_ms",
                "started_at",
            ],
        )
        self.t_click = w.table(
            "click",
            Click,
            [
                "id",
                "event_id",
                "organization_id",
                "link_id",
                "share_id",
                "content_id",
                "sharer_id",
                "team_id",
                "network",
                "visitor",
                "is_self",
                "referrer_host",
                "clicked_at",
                "recorded_at",
            ],
        )
        self.t_activity = w.table(
            "activity",
            Activity,
            [
                "id",
                "organization_id",
                "kind",
                "source_key",
                "user_id",
                "share_id",
                "content_id",
                "click_id",
                "network",
                "occurred_at",
            ],
        )
        self.t_entry = w.table(
            "entry",
            PointEntry,
            [
                "id",
                "organization_id",
                "user_id",
                "reason",
                "points",
                "spendable_delta",
                "source_key",
                "share_id",
                "content_id",
                "note",
                "occurred_at",
                "created_at",
            ],
        )
        self.t_poll = w.table(
            "poll",
            MetricPoll,
            [
                "id",
                "organization_id",
                "share_id",
                "next_poll_at",
                "last_polled_at",
                "poll_count",
                "status",
                "followers",
                "created_at",
            ],
        )
        self.t_snapshot = w.table(
            "snapshot",
            MetricSnapshot,
            [
                "id",
                "organization_id",
                "share_id",
                "network",
                "fetched_at",
                "impressions",
                "reactions",
                "comments",
                "reshares",
                "clicks",
                "followers",
                "raw",
                "recorded_at",
            ],
        )

    # --- organisations ----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        keys = self.writer.foreign_keys_drop()
        extra = self._organizations()
        started = time.perf_counter()
        self.writer.foreign_keys_restore(keys)
        self.log(
            f"{len(keys)} foreign keys restored and validated in {time.perf_counter() - started:.1f} s"
        )
        return extra

    def _organizations(self) -> dict[str, Any]:
        big = self.size
        self._organization(0, "Groupe Lumière", "bench-lumiere", big, main=True)
        small = small_size(big)
        for index in range(1, SMALL_ORGANIZATIONS + 1):
            self._organization(index, f"Bench Org {index:02d}", f"bench-org-{index:02d}", small)
        self.writer.flush()
        return {"accounts": self.accounts, "bot_requests": self.bot_requests}

    def _organization(
        self, index: int, name: str, slug: str, size: Size, *, main: bool = False
    ) -> None:
        from organizations.models import Role

        rng = random.Random(f"{self.seed}:{index}")  # noqa: S311 - reproducible data, not secrets
        org = self.ids.next("organization")
        started = time.perf_counter()
        self.t_org.add(org, name, slug, "fr", ts(self.start - 86400 * 30))

        # The team tree: 5 levels, people in the leaves, a manager in every other team.
        kinds = ("department", "department", "site", "team", "team")
        teams_by_level: list[list[int]] = [[] for _ in range(5)]
        parent_of: dict[int, int | None] = {}

        def grow(parent: int | None, level: int, label: str) -> None:
            for number in range(size.branching[level]):
                team = self.ids.next("team")
                if level == 0:
                    team_name = DIVISIONS[number % len(DIVISIONS)] + (
                        f" {number // len(DIVISIONS) + 1}" if number >= len(DIVISIONS) else ""
                    )
                elif level == 1:
                    team_name = f"{label} {DEPARTMENTS[number % len(DEPARTMENTS)]}"
                elif level == 2:
                    team_name = f"{SITES[number % len(SITES)]} {number + 1}"
                elif level == 3:
                    team_name = f"Team {chr(65 + number % 26)}{number // 26 or ''}"
                else:
                    team_name = f"Squad {number + 1}"
                self.t_team.add(
                    team, org, team_name, kinds[level], parent, ts(self.start - 86400 * 29)
                )
                parent_of[team] = parent
                teams_by_level[level].append(team)
                if level < 4:
                    grow(team, level + 1, team_name if level == 0 else label)

        grow(None, 0, "")
        leaves = teams_by_level[4]
        member_of: dict[int, list[int]] = {}
        roles: dict[int, str] = {}
        users: list[int] = []

        def person(role: str, team: int | None) -> int:
            user = self.ids.next("user")
            first, last = rng.choice(FIRST), rng.choice(LAST)
            joined = self.start - rng.uniform(0, 86400 * 365)
            self.t_user.add(
                user,
                self.password,
                f"u{user}@{slug}.bench.portevoix.test",
                first,
                last,
                org,
                role,
                "fr" if rng.random() < 0.7 else "en",
                rng.choice(JOBS),
                ts(joined),
            )
            roles[user] = role
            users.append(user)
            if team is not None:
                member_of[user] = [team]
                self.t_user_teams.add(self.ids.next("user_teams"), user, team)
            return user

        admin = person(Role.ORG_ADMIN, teams_by_level[0][0])
        editors = [
            person(Role.EDITOR, teams_by_level[0][0]) for _ in range(1 + size.people // 5000)
        ]
        for _ in range(1 + size.people // 5000):
            person(Role.REVIEWER, teams_by_level[0][0])
        managers: dict[int, int] = {}
        for level in range(4):
            for team in teams_by_level[level]:
                manager = person(Role.MANAGER, team)
                managers[team] = manager
                self.t_managers.add(self.ids.next("team_managers"), team, manager)
        while len(users) < size.people:
            user = person(Role.EMPLOYEE, rng.choice(leaves))
            if rng.random() < 0.1:
                other = rng.choice(leaves)
                if other not in member_of[user]:
                    member_of[user].append(other)
                    self.t_user_teams.add(self.ids.next("user_teams"), user, other)
        # Clicks are credited to the sharer's first team by id, as the product does.
        first_team = {user: min(teams) for user, teams in member_of.items()}
        if main:
            division = teams_by_level[0][0]
            employee = next(
                u
                for u in users
                if roles[u] == Role.EMPLOYEE and self._under(first_team[u], division, parent_of)
            )
            self.accounts = {
                "organization_id": org,
                "admin": admin,
                "manager": managers[division],
                "managed_team": division,
                "employee": employee,
                "email_domain": f"{slug}.bench.portevoix.test",
            }

        # The charter, accepted by most, each acceptance paid once.
        guideline = self.ids.next("guideline")
        self.t_guideline.add(
            guideline, org, "charter", "Social media charter", "Be kind. Be yourself.", 1
        )
        self.writer.maybe_flush()
        charter_points: list[tuple[int, float]] = []
        for user in users:
            if rng.random() < 0.7:
                at = self.start + rng.uniform(0, 86400 * 60)
                self.t_acceptance.add(self.ids.next("acceptance"), user, guideline, 1, ts(at))
                charter_points.append((user, at))

        topics = []
        for number, topic_name in enumerate(
            TOPICS[: max(4, min(len(TOPICS), size.contents // 10))]
        ):
            topic = self.ids.next("topic")
            self.t_topic.add(topic, org, topic_name, f"{topic_name.lower()}-{number}")
            topics.append((topic, topic_name))
        for threshold, en, fr in (
            (0, "Newcomer", "Débutant"),
            (100, "Voice", "Voix"),
            (1000, "Ambassador", "Ambassadeur"),
        ):
            self.t_level.add(self.ids.next("level"), org, threshold, en, fr)
        self.t_rule.add(self.ids.next("rule"), org, "click", 1, CLICK_CAP_PER_SHARE_AND_DAY)

        contents = self._contents(rng, org, slug, size, topics, editors, teams_by_level)
        accounts, followers = self._accounts(rng, org, users, roles)
        self.writer.maybe_flush()
        self._shares_and_clicks(
            rng,
            org,
            size,
            users,
            contents,
            accounts,
            followers,
            first_team,
            charter_points,
            guideline,
        )
        self.writer.flush()
        self.log(
            f"  {name}: {len(users)} people, {len(contents)} contents ({time.perf_counter() - started:.1f} s)"
        )

    @staticmethod
    def _under(team: int, ancestor: int, parent_of: dict[int, int | None]) -> bool:
        current: int | None = team
        while current is not None:
            if current == ancestor:
                return True
            current = parent_of[current]
        return False

    def _contents(self, rng, org, slug, size, topics, editors, teams_by_level):  # type: ignore[no-untyped-def]
        """Contents over the two years (a few still in draft or review, a few withdrawn,
        one in eight aimed at some teams), each with captions per network and topics."""
        contents = []
        for number in range(size.contents):
            content = self.ids.next("content")
            language = "fr" if number % 2 == 0 else "en"
            topic, topic_name = rng.choice(topics)
            publish = (
                self.start
                - 86400 * 5
                + (self.end - self.start) * (number + rng.random()) / size.contents
            )
            roll = rng.random()
            status = (
                "approved"
                if roll < 0.9
                else "draft"
                if roll < 0.94
                else "in_review"
                if roll < 0.97
                else "withdrawn"
            )
            expires = publish + 86400 * rng.randint(30, 180) if rng.random() < 0.15 else None
            if language == "fr":
                title = f"{topic_name} : notre actualité n° {number + 1}"
                why = "Parce que nos équipes y ont travaillé pendant des mois.\nPartagez-le !"
            else:
                title = f"{topic_name}: our news #{number + 1}"
                why = "Because our teams worked on it for months.\nPlease share it!"
            link = f"https://www.example.com/{slug}/news/{number + 1}?ref=bench"
            self.t_content.add(
                content,
                org,
                "link" if rng.random() < 0.8 else "text",
                title,
                why,
                link,
                "ready",
                title,
                why[:80],
                "Example",
                [f"#{topic_name.lower()}"],
                language,
                ts(publish),
                ts(expires) if expires else None,
                number >= size.contents - 2,
                rng.random() < 0.05,
                status,
                rng.choice(editors),
                ts(publish - 86400),
                ts(publish - 3600),
            )
            for extra in {
                topic,
                *(t for t, _n in rng.sample(topics, min(2, len(topics))) if rng.random() < 0.4),
            }:
                self.t_content_topics.add(self.ids.next("content_topics"), content, extra)
            if rng.random() < 0.125:
                level = rng.choice((0, 1, 2))
                self.t_audience.add(
                    self.ids.next("audience"), content, rng.choice(teams_by_level[level])
                )
            for network in NETWORKS:
                for position in range(1 + (rng.random() < 0.5)):
                    text = f"{title} — {'à lire' if language == 'fr' else 'worth a read'} ({network} {position + 1})"
                    self.t_caption.add(self.ids.next("caption"), content, network, text, position)
            if status == "approved" and publish < self.end - 3600:
                contents.append((content, publish, title, link))
            self.writer.maybe_flush()
        return contents

    def _accounts(self, rng, org, users, roles):  # type: ignore[no-untyped-def]
        """Connected accounts (LinkedIn for most, X for some; Facebook profiles are shared
        through share links), tokens encrypted with the product's vault."""
        from advocacy.token_vault import token_encrypt

        accounts: dict[tuple[int, str], int] = {}
        followers: dict[tuple[int, str], int] = {}
        for user in users:
            for network, chance in (("linkedin", 0.55), ("x", 0.25)):
                followers[(user, network)] = int(rng.lognormvariate(6, 1))
                if rng.random() < chance:
                    account = self.ids.next("account")
                    accounts[(user, network)] = account
                    self.t_account.add(
                        account,
                        org,
                        user,
                        network,
                        network,
                        f"{network}-{user}",
                        f"User {user}",
                        token_encrypt(f"bench-token-{network}-{user}"),
                        ts(self.end + 86400 * 40),
                        "active",
                        ts(self.start - 86400 * 10),
                    )
            followers[(user, "facebook")] = int(rng.lognormvariate(5.5, 1))
        return accounts, followers

    def _shares_and_clicks(  # type: ignore[no-untyped-def]
        self,
        rng,
        org,
        size,
        users,
        contents,
        accounts,
        followers,
        first_team,
        charter_points,
        guideline,
    ) -> None:
        employees = users
        popularity = [1.0 / (rank + 1) ** 0.6 for rank in range(len(contents))]
        rng.shuffle(popularity)
        per_content = distribute(size.shares, popularity, len(employees), rng)
        shares = []
        for (content, publish, title, link), count in zip(contents, per_content, strict=True):
            for user in rng.sample(employees, count):
                network = rng.choices(NETWORKS, NETWORK_WEIGHTS)[0]
                at = publish + rng.expovariate(1 / (86400 * 2))
                if at >= self.end:
                    at = rng.uniform(publish, self.end)
                shares.append((at, user, content, network, title, link))
        shares.sort()
        share_rows = []  # (share, user, content, network, published_at, link_id)
        for at, user, content, network, title, link in shares:
            share = self.ids.next("share")
            account = accounts.get((user, network))
            api = account is not None and rng.random() < 0.7
            key = uuid.UUID(int=rng.getrandbits(128), version=4)
            text = f"{title} {link}"
            if api:
                outcome = rng.random()
                status = (
                    "published"
                    if outcome < 0.95
                    else "failed"
                    if outcome < 0.99
                    else "needs_reconnect"
                )
                published = at + rng.uniform(1, 20) if status == "published" else None
                self.t_share.add(
                    share,
                    org,
                    user,
                    content,
                    network,
                    "api",
                    account,
                    text,
                    status,
                    ts(at),
                    ts(at),
                    ts(at),
                    1,
                    key,
                    f"{network}-post-{share}" if published else "",
                    f"https://{network}.example/posts/{share}" if published else "",
                    ts(published) if published else None,
                    "" if published else "The network refused the post (bench)",
                    ts(at),
                    ts(published or at),
                )
                self.t_attempt.add(
                    self.ids.next("attempt"),
                    share,
                    "publish",
                    "published" if published else "rejected",
                    201 if published else 422,
                    "",
                    rng.randint(80, 900),
                    ts(at),
                )
            else:
                status = "published" if rng.random() < 0.85 else "dismissed"
                published = at + rng.uniform(5, 600) if status == "published" else None
                self.t_share.add(
                    share,
                    org,
                    user,
                    content,
                    network,
                    "link",
                    None,
                    text,
                    status,
                    ts(at),
                    None,
                    None,
                    0,
                    key,
                    "",
                    "",
                    ts(published) if published else None,
                    "",
                    ts(at),
                    ts(published or at),
                )
            link_id = self.ids.next("link")
            self.t_link.add(
                link_id, org, share, link_code(share), link, network, f"content-{content}", ts(at)
            )
            if published is not None:
                kind = "share_published" if api else "share_link_confirmed"
                self.t_activity.add(
                    self.ids.next("activity"),
                    org,
                    kind,
                    f"{kind}:{share}",
                    user,
                    share,
                    content,
                    None,
                    network,
                    ts(published),
                )
                self.t_entry.add(
                    self.ids.next("entry"),
                    org,
                    user,
                    kind,
                    10 if api else 8,
                    10 if api else 8,
                    f"share:{share}",
                    share,
                    content,
                    "",
                    ts(published),
                    ts(published + 1),
                )
                share_rows.append((share, user, content, network, published, link_id))
                if api and network != "facebook":
                    self._metrics(rng, org, share, network, published, followers[(user, network)])
            self.writer.maybe_flush()
        for user, at in charter_points:
            self.t_entry.add(
                self.ids.next("entry"),
                org,
                user,
                "charter_accepted",
                5,
                5,
                f"charter:{guideline}:{user}",
                None,
                None,
                "",
                ts(at),
                ts(at + 1),
            )
        self._clicks(rng, org, size, share_rows, first_team)

    def _metrics(self, rng, org, share, network, published, followers) -> None:  # type: ignore[no-untyped-def]
        """The polls of one API share: cumulative counts, LinkedIn personal posts without
        impressions (no partner access), the first snapshot giving the followers."""
        reach = followers * rng.uniform(0.05, 0.4)
        moments = [
            published + hours * 3600
            for hours in (2, 24, 72, 168)
            if published + hours * 3600 < self.end
        ]
        poll = self.ids.next("poll")
        last = moments[-1] if moments else None
        self.t_poll.add(
            poll,
            org,
            share,
            ts(published + 7200)
            if not moments
            else (None if len(moments) == 4 else ts(published + 168 * 3600)),
            ts(last) if last else None,
            len(moments),
            "ok" if moments else "pending",
            followers if moments else None,
            ts(published + 1),
        )
        for step, moment in enumerate(moments, start=1):
            part = step / 4
            impressions = int(reach * part) if network == "x" else None
            reactions = int(reach * 0.03 * part)
            comments = int(reach * 0.004 * part)
            reshares = int(reach * 0.002 * part)
            self.t_snapshot.add(
                self.ids.next("snapshot"),
                org,
                share,
                network,
                ts(moment),
                impressions,
                reactions,
                comments,
                reshares,
                int(reach * 0.01 * part),
                followers if step == 1 else None,
                {},
                ts(moment + 2),
            )

    def _clicks(self, rng, org, size, share_rows, first_team) -> None:  # type: ignore[no-untyped-def]
        """Clicks of the published shares (heavy-tailed, most on the first day), each with
        its activity; the first unique click of a visitor pays a point, up to the daily
        cap per share, as the settling job pays them."""
        if not share_rows:
            return
        weights = [rng.lognormvariate(0, 1.2) for _ in share_rows]
        scale = size.clicks / sum(weights)
        t_click, t_activity, t_entry = self.t_click, self.t_activity, self.t_entry
        next_id = self.ids.next
        for (share, user, content, network, published, link_id), weight in zip(
            share_rows, weights, strict=True
        ):
            expected = weight * scale
            count = int(expected) + (rng.random() < expected - int(expected))
            if not count:
                continue
            self.bot_requests += int(count * BOT_SHARE / (1 - BOT_SHARE) + rng.random())
            team = first_team.get(user)
            team_text = str(team) if team is not None else "\\N"
            referrer = REFERRERS[network]
            head = f"{org}\t{link_id}\t{share}\t{content}\t{user}\t{team_text}\t{network}"
            seen: dict[str, list[str]] = {}
            paid_keys: set[str] = set()
            paid_per_day: dict[date, int] = {}
            for _ in range(count):
                at = published + rng.expovariate(1 / 86400)
                if at >= self.end:
                    at = rng.uniform(published, self.end)
                day = datetime.fromtimestamp(at, ZONE).date()
                day_key = day.isoformat()
                is_self = rng.random() < SELF_SHARE
                known = seen.setdefault(day_key, [])
                if is_self:
                    visitor = hashlib.sha256(
                        f"{self.seed}:self:{user}:{day_key}".encode()
                    ).hexdigest()[:32]
                elif known and rng.random() < 0.5:
                    visitor = rng.choice(known)  # the same person again that day
                else:
                    visitor = hashlib.sha256(
                        f"{self.seed}:{share}:{rng.random()}".encode()
                    ).hexdigest()[:32]
                    known.append(visitor)
                click = next_id("click")
                event = uuid.UUID(int=rng.getrandbits(128), version=4)
                moment = ts(at)
                t_click.add_line(
                    f"{click}\t{event}\t{head}\t{visitor}\t{'t' if is_self else 'f'}\t"
                    f"{referrer if rng.random() < 0.6 else ''}\t{moment}\t{ts(at + rng.uniform(0.5, 20))}"
                )
                t_activity.add_line(
                    f"{next_id('activity')}\t{org}\tclick_recorded\tclick_recorded:{event}\t{user}\t"
                    f"{share}\t{content}\t{click}\t{network}\t{moment}"
                )
                key = f"click:{share}:{visitor}"
                if (
                    not is_self
                    and key not in paid_keys
                    and paid_per_day.get(day, 0) < CLICK_CAP_PER_SHARE_AND_DAY
                ):
                    paid_keys.add(key)
                    paid_per_day[day] = paid_per_day.get(day, 0) + 1
                    t_entry.add_line(
                        f"{next_id('entry')}\t{org}\t{user}\tclick\t1\t1\t{key}\t{share}\t\\N\t\t"
                        f"{moment}\t{ts(at + 900)}"
                    )
            self.writer.maybe_flush()


# --- After the rows -------------------------------------------------------------------------


def finish(
    connection: Any, anchor: datetime, log: Callable[[str], None], *, rollups: bool = True
) -> None:
    """Sequences, scores summed from the ledger, statistics, then the rollups."""
    from django.core.management.color import no_style
    from django.db import connection as django_connection

    from analytics.services.rollups import rollups_fill
    from challenges.models import Level, PointEntry, Score
    from organizations.models import User

    started = time.perf_counter()
    from django.apps import apps

    models = [model for model in apps.get_models(include_auto_created=True)]
    with django_connection.cursor() as cursor:
        for statement in django_connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute(
            f"""
            INSERT INTO {Score._meta.db_table} (user_id, organization_id, lifetime_points,
                spendable_points, hidden_from_rankings, share_count, click_count,
                current_streak_weeks, longest_streak_weeks, level_threshold, updated_at)
            SELECT u.id, u.organization_id, COALESCE(SUM(e.points), 0),
                COALESCE(SUM(e.spendable_delta), 0), false,
                COUNT(e.id) FILTER (WHERE e.reason IN ('share_published', 'share_link_confirmed')),
                COUNT(e.id) FILTER (WHERE e.reason = 'click'), 0, 0, 0, %s
            FROM {User._meta.db_table} u
            LEFT JOIN {PointEntry._meta.db_table} e
                ON e.user_id = u.id AND e.organization_id = u.organization_id
            WHERE u.organization_id IS NOT NULL
            GROUP BY u.id, u.organization_id
            """,  # noqa: S608 - table names from the models
            [anchor],
        )
        # Every level reached was announced already: the next award announces nothing old.
        cursor.execute(
            f"""
            UPDATE {Score._meta.db_table} s SET level_threshold = COALESCE((
                SELECT max(l.threshold) FROM {Level._meta.db_table} l
                WHERE l.organization_id = s.organization_id AND l.threshold <= s.lifetime_points
            ), 0)
            """  # noqa: S608 - table names from the models
        )
        cursor.execute("ANALYZE")
    log(f"sequences, scores and ANALYZE in {time.perf_counter() - started:.1f} s")
    if not rollups:
        return
    started = time.perf_counter()
    buckets = rollups_fill(rebuild=True, now=anchor)
    log(f"rollups: {buckets} (organisation, day) buckets in {time.perf_counter() - started:.1f} s")


CHECKED_TABLES = (
    "organizations_organization",
    "organizations_team",
    "organizations_user",
    "organizations_user_teams",
    "content_content",
    "content_caption",
    "content_content_topics",
    "advocacy_socialaccount",
    "advocacy_share",
    "advocacy_trackedlink",
    "advocacy_shareattempt",
    "advocacy_click",
    "advocacy_activity",
    "challenges_pointentry",
    "challenges_score",
    "analytics_metricpoll",
    "analytics_metricsnapshot",
    "analytics_dailyrollup",
)


def table_figures(connection: Any) -> tuple[dict[str, int], dict[str, str]]:
    """Rows and an order-independent checksum of every row's text, per table (the token
    column is left out: encryption is randomised)."""
    counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    with connection.cursor() as cursor:
        for table in CHECKED_TABLES:
            row = "t::text"
            if table == "advocacy_socialaccount":
                row = "(t.id, t.user_id, t.network, t.external_id, t.expires_at)::text"
            if table == "challenges_score":
                row = "(t.user_id, t.lifetime_points, t.share_count, t.click_count)::text"
            cursor.execute(
                f"SELECT count(*), COALESCE(sum(('x' || substr(md5({row}), 1, 15))::bit(60)::bigint), 0) "  # noqa: S608
                f"FROM {table} t"
            )
            count, checksum = cursor.fetchone()
            counts[table] = int(count)
            checksums[table] = str(checksum)
    return counts, checksums


# --- Command line ---------------------------------------------------------------------------


def default_url(scale: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{databases.PREFIX}{scale}"


def parse_anchor(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["PORTEVOIX_ENV"] = "development"
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = BENCH_SECRET_KEY
    os.environ["FIELD_ENCRYPTION_KEYS"] = BENCH_FIELD_ENCRYPTION_KEY
    # No Redis and no broker: nothing here enqueues or caches for others to see.
    os.environ["REDIS_URL"] = ""
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("PORTEVOIX_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def generate(
    *,
    database_url: str,
    scale: str,
    seed: int = DEFAULT_SEED,
    anchor: datetime | None = None,
    reuse: bool = False,
    rollups: bool = True,
    app_database_url: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Generate (or, with `reuse`, keep a finished generation of the same parameters) and
    return the manifest."""
    anchor = anchor or parse_anchor(DEFAULT_ANCHOR)
    target = databases.Target.parse(database_url)
    state = databases.check_target(target, app_database_url=app_database_url)
    params = {
        "scale": scale,
        "seed": seed,
        "anchor": anchor.isoformat(),
        "generator_version": GENERATOR_VERSION,
        "migrations": databases.migrations_fingerprint(),
        "rollups": rollups,
    }
    if reuse and state == "generated":
        manifest = databases.generated_manifest(target)
        if manifest and manifest.get("params") == params:
            log(f"{target.name} already holds the {scale} scale: reused")
            return manifest
    started = time.perf_counter()
    log(f"generating the {scale} scale into {target.name} (seed {seed}, anchor {anchor:%Y-%m-%d})")
    databases.recreate(target, log)
    log(f"database created and migrated in {time.perf_counter() - started:.1f} s")
    _setup_django(database_url)
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    loading = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    generator = Generator(connection=raw, scale=scale, seed=seed, anchor=anchor, log=log)
    extra = generator.run()
    seconds = time.perf_counter() - loading
    # Every table is written in one interleaved pass: a table's rate is its rows over the
    # pass's time.
    rows = 0
    for key, table in generator.writer.tables.items():
        rows += table.rows
        log(f"  {key:<15} {table.rows:>11,} rows  {table.rows / seconds:>11,.0f} rows/s")
    log(f"{rows:,} rows loaded in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    finish(raw, anchor, log, rollups=rollups)
    counts, checksums = table_figures(raw)
    total = time.perf_counter() - started
    manifest = {
        "params": params,
        "counts": counts,
        "checksums": checksums,
        "bot_requests": extra["bot_requests"],
        "accounts": extra["accounts"],
        "seconds": round(total, 1),
    }
    with raw.cursor() as cursor:
        cursor.execute(
            f"UPDATE {databases.MARKER} SET finished = true, manifest = %s WHERE id = 1",  # noqa: S608
            [json.dumps(manifest)],
        )
    raw.commit()
    connection.close()
    log(f"done: {target.name} at the {scale} scale in {total:.1f} s")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=list(SCALES), default="small")
    parser.add_argument("--database-url", help="default: postgres://…/portevoix_bench_<scale>")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR, help="the data's 'now' (ISO 8601)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a finished generation with the same parameters"
    )
    parser.add_argument(
        "--skip-rollups", action="store_true", help="leave the rollups empty (tests only)"
    )
    parser.add_argument("--manifest", help="also write the manifest (JSON) to this file")
    args = parser.parse_args(argv)
    try:
        anchor = parse_anchor(args.anchor)
    except ValueError:
        parser.error(f"--anchor {args.anchor!r} is not an ISO 8601 date")
    try:
        manifest = generate(
            database_url=args.database_url or default_url(args.scale),
            scale=args.scale,
            seed=args.seed,
            anchor=anchor,
            reuse=args.reuse,
            rollups=not args.skip_rollups,
            app_database_url=os.environ.get("DATABASE_URL"),
            log=lambda line: print(line, flush=True),
        )
    except databases.Refused as refusal:
        print(refusal, file=sys.stderr)
        return 2
    if args.manifest:
        Path(args.manifest).write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
