"""Dates read the same way in both languages once FORMAT_MODULE_PATH points at
config/formats: day month year, 24-hour clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, translation
from django.utils.formats import date_format

MOMENT = datetime(2026, 12, 5, 14, 32, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _our_formats(settings):
    # Django does not drop its format cache when FORMAT_MODULE_PATH changes.
    settings.FORMAT_MODULE_PATH = ["config.formats"]
    formats.reset_format_cache()
    yield
    formats.reset_format_cache()


@pytest.mark.parametrize(
    ("language", "format_name", "expected"),
    [
        ("en", "DATE_FORMAT", "5 December 2026"),
        ("en", "DATETIME_FORMAT", "5 December 2026 at 14:32"),
        ("en", "SHORT_DATETIME_FORMAT", "5 Dec. 2026, 14:32"),
        ("en", "TIME_FORMAT", "14:32"),
        ("fr", "DATE_FORMAT", "5 décembre 2026"),
        ("fr", "DATETIME_FORMAT", "5 décembre 2026 à 14:32"),
        ("fr", "SHORT_DATETIME_FORMAT", "5 déc. 2026, 14:32"),
    ],
)
def test_formats(language, format_name, expected):
    with translation.override(language):
        assert date_format(MOMENT, format_name) == expected
