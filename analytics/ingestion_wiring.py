"""Metric polling and rollups: signal receivers and demo data, connected from
AnalyticsConfig.ready()."""

from __future__ import annotations


def connect() -> None:
    pass
