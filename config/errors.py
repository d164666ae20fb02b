"""Errors shared by every domain."""


def doc_message(cls: type, detail: str | None = None) -> str:
    """An exception class's docstring as its message, `detail` after a colon
    ("The file could not be imported: no phone column")."""
    message = (cls.__doc__ or "").strip()
    return f"{message.rstrip('.')}: {detail}" if detail else message


class TelemartError(Exception):
    """Telemart failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class DatabaseUnavailable(TelemartError):
    """The database could not be reached."""


class MigrationError(TelemartError):
    """A migration could not be applied."""
