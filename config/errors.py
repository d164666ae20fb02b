"""Errors shared by every domain."""


class TelemartError(Exception):
    """Telemart failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class DatabaseUnavailable(TelemartError):
    """The database could not be reached."""


class MigrationError(TelemartError):
    """A migration could not be applied."""
