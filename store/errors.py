"""Errors raised by the domain rules, each carrying a message a person can read."""

from __future__ import annotations


class RollcallError(Exception):
    """A request that broke a rule or carried bad input; nothing was changed.

    `field` names the input the message is about (``"email"``, ``"capacity"``)
    so a form can show the message next to that field.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Pickled (a list's second process reports it to the first) as it was made.
        return type(self), (self.message, self.field)

    def __str__(self) -> str:
        if self.field and not self.message.startswith(self.field):
            return f"{self.field}: {self.message}"
        return self.message


class ValidationError(RollcallError):
    """An input value is malformed or out of range."""


class NotFound(RollcallError):
    """A person, trainer, session or pathway named by the request does not exist."""


class RuleViolation(RollcallError):
    """The request is well formed but a business rule forbids it."""


class ServiceUnavailable(Exception):
    """A service (database, SMTP, IMAP) could not be reached; nothing was lost."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), (self.service, self.detail)


class StorageError(ServiceUnavailable):
    """The database refused a read or write: disk full, read-only, locked, I/O error.

    Nothing was half-written (the transaction rolled back); the CLI exits 3
    with one line and the app shows it in the status line.
    """

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"the database {where}", detail)
        self.where = where

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), (self.where, self.detail)


class PlaceClash(RuleViolation):
    """An in-person session would overlap another one in the same place.

    A rule, like a trainer's clash, but one an admin may knowingly override
    (two small groups sharing a hall): callers pass ``allow_clash=True``.
    """

    def __init__(self, message: str, session_id: int) -> None:
        super().__init__(message, field="location")
        self.session_id = session_id
        """The session already booked into the place."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return type(self), (self.message, self.session_id)
