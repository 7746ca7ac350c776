"""The generator's databases: which one it may fill, and how it gets one quickly.

A generated database is named portevoix_bench_* and carries a `bench_generated` table; the
generator drops and recreates only such a database. It refuses the application's own
database (DATABASE_URL) and any database that holds tables without that marker. Django's
migrations run once into a template database (named after a hash of the migration files)
and each generated database is a copy of it: `CREATE DATABASE ... TEMPLATE` takes a second
where migrating takes several.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "portevoix_bench_"
MARKER = "bench_generated"
TEMPLATE_MARKER = "bench_template"
APPS = ("organizations", "notifications", "content", "advocacy", "challenges", "analytics")


class Refused(SystemExit):
    """The target database is not one the generator may write to."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    user: str
    name: str

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise Refused(f"--database-url must be a postgres:// URL, not {url!r}")
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise Refused(f"{url!r} names no database")
        return cls(
            url=url,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            name=name,
        )

    def with_name(self, name: str) -> Target:
        parts = urlsplit(self.url)
        return Target.parse(urlunsplit(parts._replace(path=f"/{name}")))

    def connect(self, name: str | None = None):  # type: ignore[no-untyped-def]
        parts = urlsplit(self.url)
        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=unquote(parts.password) if parts.password else None,
            dbname=name or self.name,
        )

    def same_database(self, other: Target) -> bool:
        local = {"127.0.0.1", "localhost", "::1"}
        same_host = self.host == other.host or (self.host in local and other.host in local)
        return same_host and self.port == other.port and self.name == other.name


def _exists(admin, name: str) -> bool:  # type: ignore[no-untyped-def]
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def _tables(target: Target) -> set[str]:
    with target.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {row[0] for row in cursor.fetchall()}
    connection.close()
    return tables


def check_target(target: Target, *, app_database_url: str | None) -> str:
    """Refuse what must never be overwritten; say what is there ("missing", "empty",
    "generated")."""
    if app_database_url:
        app = Target.parse(app_database_url)
        if app.same_database(target):
            raise Refused(
                f"Refusing {target.name!r}: it is the application's database (DATABASE_URL). "
                "Give the generator a separate database."
            )
    if not target.name.startswith(PREFIX):
        raise Refused(
            f"Refusing {target.name!r}: the generator only writes databases named {PREFIX}* "
            "(it drops and recreates them)."
        )
    admin = target.connect("postgres")
    admin.autocommit = True
    try:
        if not _exists(admin, target.name):
            return "missing"
    finally:
        admin.close()
    tables = _tables(target)
    if not tables:
        return "empty"
    if MARKER not in tables:
        raise Refused(
            f"Refusing {target.name!r}: it holds {len(tables)} tables that the generator did "
            f"not write (no {MARKER} table). Drop it yourself or choose another name."
        )
    return "generated"


def generated_manifest(target: Target) -> dict | None:
    """The manifest of a finished generation in `target`, or None."""
    admin = target.connect("postgres")
    admin.autocommit = True
    try:
        if not _exists(admin, target.name):
            return None
    finally:
        admin.close()
    if MARKER not in _tables(target):
        return None
    with target.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT manifest FROM {MARKER} WHERE finished")  # noqa: S608
        row = cursor.fetchone()
    connection.close()
    return row[0] if row else None


def migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for app in APPS:
        for path in sorted((ROOT / app / "migrations").glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    # Third-party migrations move with their pinned versions.
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:12]


def _drop(admin, name: str) -> None:  # type: ignore[no-untyped-def]
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _template(target: Target, log) -> str:  # type: ignore[no-untyped-def]
    """A migrated, empty database to copy; migrated once per set of migration files."""
    name = f"{PREFIX}template_{migrations_fingerprint()}"
    admin = target.connect("postgres")
    admin.autocommit = True
    try:
        if _exists(admin, name) and TEMPLATE_MARKER in _tables(target.with_name(name)):
            return name
        # Templates of older migrations are of no further use.
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [f"{PREFIX}template_%"],
            )
            for (stale,) in cursor.fetchall():
                _drop(admin, stale)
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()
    log(f"migrating a template database {name} (once per set of migrations)")
    env = dict(os.environ)
    env |= {
        "DATABASE_URL": target.with_name(name).url,
        "PORTEVOIX_ENV": "development",
        "DEBUG": "false",
        "REDIS_URL": "",
    }
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    with target.with_name(name).connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TEMPLATE_MARKER} (fingerprint text)")
    connection.close()
    return name


def recreate(target: Target, log) -> None:  # type: ignore[no-untyped-def]
    """Drop `target` (checked beforehand) and create it migrated, from the template."""
    template = _template(target, log)
    admin = target.connect("postgres")
    admin.autocommit = True
    try:
        _drop(admin, target.name)
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target.name), sql.Identifier(template)
                )
            )
    finally:
        admin.close()
    with target.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TEMPLATE_MARKER}")
        cursor.execute(
            f"CREATE TABLE {MARKER} (id int PRIMARY KEY, finished boolean NOT NULL, "
            "manifest jsonb NOT NULL)"
        )
        cursor.execute(f"INSERT INTO {MARKER} VALUES (1, false, '{{}}')")  # noqa: S608
    connection.close()


def drop(target: Target) -> None:
    """Drop a generated database (tests clean up with it)."""
    if not target.name.startswith(PREFIX):
        raise Refused(f"Refusing to drop {target.name!r}")
    admin = target.connect("postgres")
    admin.autocommit = True
    try:
        _drop(admin, target.name)
    finally:
        admin.close()
