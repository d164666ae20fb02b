"""Where a recording's audio is: on the Asterisk that recorded it (read and deleted over
ARI), or in a folder (the sim carrier writes its recordings there)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dialer.telephony.ari import AriClient, ari_settings
from dialer.telephony.ari.recordings import StoredRecordings

if TYPE_CHECKING:
    from config.settings import Settings


class RecordingFiles(Protocol):
    async def audio(self, name: str) -> bytes | None:
        """The file's bytes (WAV), None when it is not there."""

    async def delete(self, name: str) -> bool:
        """Delete it; False when it was already gone."""


class FolderRecordings:
    """`<folder>/<name>.wav` (the sim carrier's recordings)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad recording name {name!r}")
        return self.folder / f"{name}.wav"

    async def audio(self, name: str) -> bytes | None:
        path = self.path(name)
        return path.read_bytes() if path.is_file() else None

    async def delete(self, name: str) -> bool:
        path = self.path(name)
        if not path.is_file():
            return False
        path.unlink()
        return True


def sim_folder(settings: Settings) -> Path:
    return settings.home / "recordings"


@contextlib.asynccontextmanager
async def recording_files(settings: Settings) -> AsyncIterator[RecordingFiles]:
    """The recordings of the telephony the settings name."""
    if settings.telephony == "ari":
        ari = ari_settings(settings)
        client = AriClient(url=ari.url, user=ari.user, password=ari.password, app=ari.app)
        try:
            yield StoredRecordings(client, file_format=ari.recording_format)
        finally:
            await client.close()
    else:
        yield FolderRecordings(sim_folder(settings))
