"""Monitoring across nodes (issue 14): a supervisor on a web node that runs no dialer
listens to an agent whose campaign runs in another process, the two joined by a real NATS.
The request goes over the bus to the desk of the agent's campaign, whose telephony has the
agent's phone leg; the supervisor's phone is called there too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from config.settings import Settings
from dialer.telephony.port import MonitorMode
from dialer.telephony.sim import SimCarrier
from server.app import create_app
from server.auth import Role
from server.dialer_runtime import make_dialer_ctx
from server.keys import LIVE
from tests.conftest import token_for
from tests.integration.dialer.conftest import nats_url
from tests.integration.dialer.helpers import receive_until, scenario
from tests.integration.dialer.test_live_desktop import _campaign

__all__ = ["nats_url"]


async def _until_found(web: TestClient, headers: dict[str, str],  # type: ignore[type-arg]
                       body: dict[str, Any]) -> Any:  # fmt: skip
    """POST the monitor request until the agent's session names their campaign (the desk
    saves sessions in batches)."""
    async with asyncio.timeout(10):
        while True:
            resp = await web.post("/api/v1/dialer/monitor", headers=headers, json=body)
            found = await resp.json()
            if found.get("error") != "agent_not_on_campaign":
                return resp.status, found
            await asyncio.sleep(0.05)


async def test_a_supervisor_on_a_web_node_monitors_an_agent_of_another_process(
    db_url: str,
    tmp_path: Path,
    nats_url: str,
) -> None:
    campaign_id = await _campaign(db_url, leads=1)

    def on_nats(home: str) -> Settings:
        return Settings(home=tmp_path / home, pool_min_size=1, pool_max_size=10, nats_url=nats_url)

    ctx = make_dialer_ctx(time_scale=0.01, tick_s=0.05, scan_s=0.05, scenario=scenario())
    dialer_app = create_app(on_nats("dialer"), url=db_url,
                            background=False, extra_ctx=[ctx])  # fmt: skip
    web_app = create_app(on_nats("web"), url=db_url,
                         background=False)  # fmt: skip
    async with TestClient(TestServer(dialer_app)) as dialer, \
            TestClient(TestServer(web_app)) as web:  # fmt: skip
        assert web.app[LIVE].runtime is None
        agent = await token_for(dialer, db_url, Role.AGENT)
        sup = await token_for(web, db_url, Role.SUPERVISOR)
        ws = await dialer.ws_connect("/api/v1/dialer/ws", headers=agent)
        await receive_until(ws, lambda m: m["type"] == "state")
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        await receive_until(ws, lambda m: m["type"] == "pop")
        runtime = dialer.app[LIVE].runtime
        assert runtime is not None
        sim = runtime.port
        assert isinstance(sim, SimCarrier)
        agent_id = next(iter(runtime.desk.agents))

        # No phone yet: said with a code, where the campaign runs.
        status, said = await _until_found(web, sup, {"agent_id": agent_id, "mode": "listen"})
        assert (status, said["error"], said["campaign_id"]) == (
            409,
            "supervisor_phone_down",
            campaign_id,
        )
        # This node runs no dialer: the phone is called by the campaign's.
        resp = await web.post(
            "/api/v1/dialer/supervisor/phone", headers=sup, json={"connect": True}
        )
        assert resp.status == 409
        assert "campaign_id" in (await resp.json())["message"]
        resp = await web.post(
            "/api/v1/dialer/supervisor/phone",
            headers=sup,
            json={"connect": True, "campaign_id": campaign_id},
        )
        assert resp.status == 200, await resp.text()
        supervisor_id = (await resp.json())["supervisor_id"]
        assert supervisor_id in sim.legs
        for mode in ("listen", "whisper", "barge"):
            resp = await web.post(
                "/api/v1/dialer/monitor", headers=sup, json={"agent_id": agent_id, "mode": mode}
            )
            assert resp.status == 200, await resp.text()
            assert sim.monitors[supervisor_id] == (agent_id, MonitorMode(mode))
            assert runtime.monitors[supervisor_id] == (agent_id, MonitorMode(mode))
        resp = await web.post(
            "/api/v1/dialer/monitor", headers=sup, json={"agent_id": agent_id, "mode": None}
        )
        assert resp.status == 200
        assert supervisor_id not in sim.monitors
        # A campaign nobody runs: a clear refusal, not a hang.
        resp = await web.post(
            "/api/v1/dialer/supervisor/phone",
            headers=sup,
            json={"connect": True, "campaign_id": campaign_id + 999},
        )
        assert resp.status == 409
        assert (await resp.json())["error"] == "no_dialer"
        await ws.close()
