"""Celery wiring, configured for reliability: a task is acknowledged only once it has run,
a worker that dies gives its task back, and each worker holds one message at a time."""

from __future__ import annotations

import os
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask gives every task delay_on_commit(): enqueue only once the transaction commits.
app = Celery("portevoix", task_cls="celery.contrib.django.task:DjangoTask")


# Queues by kind, so that each kind gets workers of its own when scaled out (see
# docs/operations.md, "Scaling out"): publishing must not wait behind a metrics poll or a
# rollup. Applied when CELERY_QUEUES_BY_KIND is on; every worker must then be started with
# -Q naming the queues it serves (`celery`, the default queue, keeps the rest).
TASK_ROUTES_BY_KIND: dict[str, dict[str, str]] = {
    "advocacy.tasks.publish_share": {"queue": "publishing"},
    "advocacy.tasks.delete_share": {"queue": "publishing"},
    "advocacy.tasks.sweep_shares": {"queue": "publishing"},
    "analytics.tasks.poll_metrics": {"queue": "metrics"},
    "advocacy.tasks.drain_clicks": {"queue": "metrics"},
    "notifications.tasks.*": {"queue": "notifications"},
    "content.announce.*": {"queue": "notifications"},
    "analytics.tasks.send_weekly_reports": {"queue": "notifications"},
    "analytics.tasks.fill_rollups": {"queue": "rollups"},
    "challenges.points_tasks.*": {"queue": "rollups"},
    "nudges.tasks.*": {"queue": "notifications"},
    "digests.tasks.*": {"queue": "notifications"},
    "messaging.tasks.*": {"queue": "notifications"},
    "archive.tasks.*": {"queue": "rollups"},
}


def _configure() -> None:
    from django.conf import settings

    transport_options: dict[str, object] = {}
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # kombu's filesystem transport carries messages between processes on one machine:
        # producer and consumer read and write the same folder.
        folder = settings.CELERY_BROKER_DIR
        (folder / "queue").mkdir(parents=True, exist_ok=True)
        (folder / "processed").mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(parents=True, exist_ok=True)
        transport_options = {
            "control_folder": str(folder / "control"),
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    else:
        # Redis redelivers an unacknowledged message after the visibility timeout; it must
        # outlast the longest time a task can wait plus its run time.
        transport_options = {
            "visibility_timeout": settings.CELERY_MAX_TASK_WAIT_SECONDS
            + settings.CELERY_TASK_TIME_LIMIT
            + 3600,
            # A producer whose broker is down fails at once, so that a request enqueueing a
            # task does not wait on it (the share row is the outbox; the sweeper sends it).
            # Without these, redis-py waits for the system's TCP timeout (minutes) on a host
            # that does not answer, and kombu tries to connect again 2 s later, until
            # broker_connection_timeout (4 s). A publish's own retry policy still applies, and
            # the worker's reconnection loop is not governed by them.
            "socket_connect_timeout": settings.CELERY_BROKER_CONNECT_TIMEOUT,
            "max_retries": 0,
        }

    app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_always_eager=settings.CELERY_TASK_ALWAYS_EAGER,
        task_eager_propagates=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.CELERY_TASK_TIME_LIMIT,
        task_soft_time_limit=settings.CELERY_TASK_TIME_LIMIT - 5,
        worker_hijack_root_logger=False,
        # Off by default: a worker started without -Q consumes only the default queue.
        task_routes=TASK_ROUTES_BY_KIND if settings.CELERY_QUEUES_BY_KIND else {},
        timezone=settings.TIME_ZONE,
        enable_utc=True,
        beat_schedule={
            "worker-heartbeat": {
                "task": "organizations.tasks.worker_heartbeat",
                "schedule": timedelta(seconds=settings.HEARTBEAT_INTERVAL_SECONDS),
            },
            "announce-due-content": {
                # Scheduled content announced to its audience once it goes live.
                "task": "content.announce.announce_due_content",
                "schedule": timedelta(seconds=60),
            },
            # RSS/Atom feeds: queue each feed whose next fetch is due (each run claims its feed).
            "fetch-due-feeds": {
                "task": "content.tasks.fetch_due_feeds",
                "schedule": timedelta(minutes=5),
            },
            # Approval chains: overdue steps remind their reviewers and the author (once).
            "remind-overdue-approval-steps": {
                "task": "content.tasks.remind_overdue_steps",
                "schedule": timedelta(minutes=15),
            },
            "sweep-shares": {
                "task": "advocacy.tasks.sweep_shares",
                "schedule": timedelta(seconds=settings.SHARE_SWEEP_INTERVAL_SECONDS),
            },
            # LinkedIn tokens last 60 days: reminders a week before and on the day.
            "remind-token-expiry": {
                "task": "advocacy.tasks.remind_token_expiry",
                "schedule": timedelta(hours=1),
            },
            "drain-clicks": {
                "task": "advocacy.tasks.drain_clicks",
                "schedule": timedelta(seconds=settings.CLICK_DRAIN_INTERVAL_SECONDS),
            },
            # Starts and ends challenges on time (pages also do it when read).
            "advance-challenges": {
                "task": "challenges.campaign_tasks.advance_challenges",
                "schedule": timedelta(seconds=60),
            },
            # analytics ingestion: metric polls are due on an hourly-or-slower cadence;
            # the rollups trail the events by a few minutes.
            "poll-metrics": {
                "task": "analytics.tasks.poll_metrics",
                "schedule": timedelta(minutes=5),
            },
            "fill-rollups": {
                "task": "analytics.tasks.fill_rollups",
                "schedule": timedelta(minutes=5),
            },
            # analytics dashboards: each manager's report of last week, Monday morning.
            "weekly-manager-reports": {
                "task": "analytics.tasks.send_weekly_reports",
                "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
            },
            # points: settled clicks pay every few minutes; leaderboard sets are rebuilt
            # from the ledger hourly; last month's top suggesters, daily (idempotent).
            "settle-clicks": {
                "task": "challenges.points_tasks.settle_clicks",
                "schedule": timedelta(minutes=5),
            },
            "rebuild-leaderboards": {
                "task": "challenges.points_tasks.rebuild_leaderboards",
                "schedule": timedelta(hours=1),
            },
            # Slack and Teams: messages whose retry time has come (429 Retry-After, 5xx), and
            # last week's leaderboard from Monday 09:00 in each organisation's zone (asked
            # hourly; once a week).
            "sweep-channel-messages": {
                "task": "messaging.tasks.sweep_messages",
                "schedule": timedelta(seconds=60),
            },
            "post-weekly-leaderboards": {
                "task": "messaging.tasks.post_weekly_leaderboards",
                "schedule": crontab(minute=0),
            },
            # email digests: the people whose digest hour has come in their time zone.
            "send-due-digests": {
                "task": "digests.tasks.send_due_digests",
                "schedule": timedelta(minutes=15),
            },
            # nudges: the scheduled-share reminder about an hour before; habit nudges in
            # each person's daytime, at most one a week by default.
            "send-due-nudges": {
                "task": "nudges.tasks.send_due_nudges",
                "schedule": timedelta(minutes=10),
            },
            # archive: shares that left without their record (a lost signal), exports
            # whose build was lost or crashed; and, daily, the purge of what is past its
            # retention date (and of expired export files).
            "sweep-archive": {
                "task": "archive.tasks.sweep_archive",
                "schedule": timedelta(minutes=5),
            },
            "sweep-archive-exports": {
                "task": "archive.tasks.sweep_archive_exports",
                "schedule": timedelta(minutes=5),
            },
            "purge-expired-archive": {
                "task": "archive.tasks.purge_expired_archive",
                "schedule": crontab(minute=15, hour=2),
            },
            "award-top-suggesters": {
                "task": "challenges.points_tasks.award_top_suggesters",
                "schedule": crontab(minute=30, hour=3),
            },
            # privacy: what has outlived its retention period (raw clicks already in the
            # rollups, old notifications, expired data exports), each organisation's periods.
            "apply-retention": {
                "task": "privacy.tasks.apply_retention",
                "schedule": crontab(minute=45, hour=2),
            },
            # privacy: data exports whose task was lost are sent again; stuck ones fail, so
            # that the person can ask for a new one.
            "sweep-data-exports": {
                "task": "privacy.tasks.sweep_data_exports",
                "schedule": timedelta(minutes=5),
            },
        },
    )


_configure()
app.autodiscover_tasks()

# Celery's Django fixup closes the database connection after every task unless this is set:
# a new PostgreSQL connection per task cost publishing half its time. The connection is
# kept (closed every 1,000 tasks), and each task starts as a web request does: a connection
# past CONN_MAX_AGE or broken is dropped first (the health check runs on first use).
app.conf.CELERY_DB_REUSE_MAX = 1000


@task_prerun.connect
def _fresh_database_connection(task: object = None, **_: object) -> None:
    # A task run in-process (eager) shares the caller's connection: leave it alone, as
    # Celery's own fixup does.
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
