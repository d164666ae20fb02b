"""Call recordings for supervisors: a customer's recorded calls, and one played (each
play is written to the audit log)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crm import audit
from dialer.recordings import store
from dialer.recordings.files import recording_files
from dialer.recordings.store import Recording
from server.auth import Role, allow, current_user
from server.errors import ApiError
from server.keys import POOL, SETTINGS

routes = web.RouteTableDef()


def _json(rec: Recording) -> dict[str, Any]:
    return {
        "id": rec.id, "attempt_id": rec.attempt_id, "campaign_id": rec.campaign_id,
        "customer_id": rec.customer_id, "name": rec.name, "duration_s": rec.duration_s,
        "recorded_at": rec.recorded_at.isoformat(),
        "delete_after": rec.delete_after.isoformat(),
        "audio_url": f"/api/v1/recordings/{rec.id}/audio",
    }  # fmt: skip


@routes.get("/api/v1/customers/{customer_id:\\d+}/recordings")
@allow(Role.SUPERVISOR)
async def customer_recordings(request: web.Request) -> web.Response:
    """A customer's recorded calls still kept, newest first."""
    async with request.app[POOL].acquire() as conn:
        found = await store.for_customer(conn, int(request.match_info["customer_id"]))
    return web.json_response({"items": [_json(r) for r in found]})


@routes.get("/api/v1/recordings/{recording_id:\\d+}/audio")
@allow(Role.SUPERVISOR)
async def recording_audio(request: web.Request) -> web.Response:
    """The recording's audio (WAV). The play is audited: who, which call, which customer."""
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        rec = await store.get(conn, int(request.match_info["recording_id"]))
        if rec is None or rec.deleted_at is not None:
            raise ApiError(404, "not_found", "no such recording (or it was deleted)")
        async with recording_files(request.app[SETTINGS]) as files:
            audio = await files.audio(rec.name)
        if audio is None:
            raise ApiError(404, "not_found", f"the file of recording {rec.name} is gone")
        await audit.record(conn, actor=user.username, action="recording.play", subject=rec.name,
                           details={"recording_id": rec.id, "attempt_id": rec.attempt_id,
                                    "customer_id": rec.customer_id})
    return web.Response(body=audio, content_type="audio/wav",
                        headers={"Cache-Control": "no-store"})
