"""The domain error family. Services raise these; the API maps them to problem JSON and
HTML views to a message on the page."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out, with a message fit for the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, errors: list | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or []


class PermissionDeniedError(DomainError):
    status_code = 403


class NotFoundError(DomainError):
    status_code = 404


class ConflictError(DomainError):
    status_code = 409
