"""Call recordings on Asterisk: the agent's bridge is recorded while a call is in it,
named by the call id (campaign and attempt), the announcement first; stored files are
read and deleted over ARI (`/recordings/stored`)."""

from __future__ import annotations

import logging

from dialer.errors import TelephonyUnavailable
from dialer.telephony.ari.client import AriClient, AriHttpError
from dialer.telephony.ari.stasis import Lines, Tasks, quietly

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, client: AriClient, lines: Lines, tasks: Tasks, *, file_format: str,
                 announcement: str | None, language: str) -> None:
        self.client, self.lines, self.tasks = client, lines, tasks
        self.format = file_format
        self.announcement = announcement  # media URI, None: no announcement
        self.language = language

    def start(self, call_id: str, bridge_id: str) -> None:
        self.tasks.spawn(self._start(call_id, bridge_id), f"record-{call_id}")

    def follow(self, call_id: str, bridge_id: str) -> None:
        """The call moved to another bridge (transfer): close this part, start the next."""
        self.stop(call_id)
        self.tasks.spawn(self._start(call_id, bridge_id), f"record-{call_id}")

    def stop(self, call_id: str) -> None:
        call = self.lines.calls.get(call_id)
        if call is None or call.recording is None:
            return
        name, call.recording = call.recording, None
        self.tasks.spawn(quietly(self.client, "POST", f"/recordings/live/{name}/stop"),
                         f"record-stop-{call_id}")

    async def _start(self, call_id: str, bridge_id: str) -> None:
        call = self.lines.calls.get(call_id)
        if call is None:
            return
        call.recordings += 1
        name = call_id if call.recordings == 1 else f"{call_id}-{call.recordings}"
        call.recording = name
        self.lines.recordings[name] = call_id
        try:
            await self.client.request(
                "POST", f"/bridges/{bridge_id}/record",
                params={"name": name, "format": self.format, "ifExists": "overwrite",
                        "beep": False, "terminateOn": "none"})
            if call.recordings == 1 and self.announcement:
                # after the recording starts, so the recording begins with it
                await self.client.request(
                    "POST", f"/bridges/{bridge_id}/play",
                    params={"media": self.announcement, "lang": self.language})
        except (AriHttpError, TelephonyUnavailable) as exc:
            log.warning("recording of %s failed to start: %s", call_id, exc)


class StoredRecordings:
    """Recordings Asterisk keeps on its disk (its spool's `recording/` folder)."""

    def __init__(self, client: AriClient, *, file_format: str = "wav") -> None:
        self.client = client
        self.format = file_format

    async def audio(self, name: str) -> bytes | None:
        """The file's bytes, or None when Asterisk has no such recording."""
        try:
            return await self.client.get_bytes(f"/recordings/stored/{name}/file")
        except AriHttpError as exc:
            if exc.status == 404:
                return None
            raise

    async def delete(self, name: str) -> bool:
        """Delete it; False when it was already gone."""
        try:
            await self.client.request("DELETE", f"/recordings/stored/{name}")
        except AriHttpError as exc:
            if exc.status == 404:
                return False
            raise
        return True
