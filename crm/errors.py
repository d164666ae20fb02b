"""The crm domain's exceptions: one root, each docstring is its message."""

from __future__ import annotations

from config.errors import doc_message


class CrmError(Exception):
    """The customer base refused or failed an operation."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(doc_message(type(self), detail))
        self.detail = detail


class SegmentFilterError(CrmError):
    """The segment filter is not valid."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path


class SegmentNotFound(CrmError):
    """No such segment."""


class ImportFailed(CrmError):
    """The file could not be imported."""


class InvalidPhone(CrmError):
    """Not a valid phone number."""


class CustomerNotFound(CrmError):
    """No such customer."""
