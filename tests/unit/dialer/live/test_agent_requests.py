"""The desk's bus responder: an agent's messages wait for their `hello`, others' do not."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dialer.live.agent_requests import AgentActions, responder
from dialer.live.desk import LiveDesk


def _request(agent_id: int, kind: str) -> bytes:
    return json.dumps({"agent_id": agent_id, "username": f"a{agent_id}", "type": kind}).encode()


def _unused(*_args: Any) -> Any:
    raise AssertionError("not part of this test")


def _desk_and_respond(
    looked_up: asyncio.Event,
) -> tuple[LiveDesk, list[tuple[int, dict[str, Any]]], Any]:
    """A desk whose `hello` takes a while (the session's lookup) and then restores the
    agent on a call, in wrap-up, as after a crash."""
    sent: list[tuple[int, dict[str, Any]]] = []
    desk = LiveDesk(send=lambda agent_id, message: sent.append((agent_id, message)))

    async def hello(agent_id: int, username: str) -> None:
        await looked_up.wait()
        desk.restore(agent_id=agent_id, username=username, campaign_id=1, state="on_call",
                     pause_reason=None, preview=False, attempt_id=77, pop={"customer": {}})

    actions = AgentActions(hello=hello, dispose=_unused, preview_next=_unused,
                           preview_dial=_unused, preview_skip=_unused, order=_unused)
    return desk, sent, responder(desk, actions)


async def test_a_message_sent_right_after_hello_is_applied_after_it() -> None:
    looked_up = asyncio.Event()
    _desk, sent, respond = _desk_and_respond(looked_up)
    hello = asyncio.create_task(respond(_request(5, "hello")))
    state = asyncio.create_task(respond(_request(5, "state")))
    await asyncio.sleep(0.01)
    assert not state.done()  # waits for the session to be looked up
    assert sent == []
    looked_up.set()
    assert json.loads(await hello) == {"ok": True}
    assert json.loads(await state) == {"ok": True}
    states = [(m["state"], m["attempt_id"]) for a, m in sent if m["type"] == "state"]
    assert states[0] == ("wrap_up", 77)  # the call given back, never a fresh offline agent
    assert all(s == ("wrap_up", 77) for s in states)


async def test_other_agents_do_not_wait_for_one_agents_hello() -> None:
    looked_up = asyncio.Event()
    desk, _sent, respond = _desk_and_respond(looked_up)
    hello = asyncio.create_task(respond(_request(5, "hello")))
    await asyncio.sleep(0)
    answer = await asyncio.wait_for(respond(_request(6, "state")), timeout=1.0)
    assert json.loads(answer) == {"ok": True}
    assert 6 in desk.agents
    assert 5 not in desk.agents  # still being looked up
    looked_up.set()
    await hello
    assert desk.agents[5].attempt_id == 77
