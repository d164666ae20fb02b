"""A campaign's telephony settings: caller number, AMD mode, recording and retention."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.auth import Role
from tests.integration.campaigns.test_campaigns_api import make_campaign


async def test_telephony_defaults_and_round_trip(client: TestClient, auth_headers: Any) -> None:  # type: ignore[type-arg]
    marketer = await auth_headers(Role.MARKETER)
    c = await make_campaign(client, marketer)
    assert c["telephony"] == {"caller_number": None, "amd": None, "amd_machine": "hangup",
                              "record": False, "recording_retention_days": 90}
    c = await make_campaign(client, marketer, telephony={
        "caller_number": "0215885000", "amd": "vad", "record": True,
        "recording_retention_days": 180})
    resp = await client.get(f"/api/v1/campaigns/{c['id']}", headers=marketer)
    got = (await resp.json())["telephony"]
    assert got["caller_number"] == "0215885000"
    assert (got["amd"], got["record"], got["recording_retention_days"]) == ("vad", True, 180)
    resp = await client.patch(f"/api/v1/campaigns/{c['id']}", headers=marketer,
                              json={"telephony": {"amd": "asterisk"}})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["telephony"]["amd"] == "asterisk"


async def test_bad_telephony_is_refused(client: TestClient, auth_headers: Any) -> None:  # type: ignore[type-arg]
    marketer = await auth_headers(Role.MARKETER)
    for telephony in ({"recording_retention_days": 30}, {"amd": "guess"},
                      {"caller_number": "hidden"}, {"spoof": True}):
        resp = await client.post("/api/v1/campaigns", headers=marketer,
                                 json={"name": "x", "telephony": telephony})
        assert resp.status == 422, telephony
