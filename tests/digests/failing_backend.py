"""A mail backend whose server refuses every message (the SMTP backend raises so)."""

from __future__ import annotations

import smtplib

from django.core import mail
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPRecipientsRefused({"x@example.test": (550, b"refused")})


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs (BaseException, so no
    `except Exception` in the job catches it)."""


class DyingBackend(locmem.EmailBackend):
    """Delivers `survive` messages, then the worker dies in the middle of the batch."""

    survive = 25

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if len(mail.outbox) >= self.survive:
            raise WorkerKilled
        return super().send_messages(messages)

    def close(self) -> None:
        if len(mail.outbox) >= self.survive:
            raise WorkerKilled  # dead: not even the clean-up runs
