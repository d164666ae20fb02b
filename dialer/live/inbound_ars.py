"""One caller in the ARS menu on a live call: the menu in force (`dialer.inbound.ars`, data
in Korean) says its steps through the port, reads the caller's keys (`Dtmf`), places the
order through the server's capture path (the agent's own, handed down as `ArsHooks`) and
hands the caller to the agent queue on `0`, after its timeouts, or for anything it cannot
do. Every ARS call is kept in `ars_sessions` (its steps, outcome and order).

A step's words are its prompt `ars-<step>` (the recording of the step's text; the text,
filled in for this caller, is kept with the session for the ARS page). A key the menu takes
cuts the words playing (barge-in): callers who know the menu key ahead hear the answer to
their key at once, not the rest of the words before it.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from dialer.inbound import services, store
from dialer.inbound.ars import (
    ArsSession,
    Collect,
    Command,
    Hangup,
    OrderIntent,
    PlaceOrder,
    Say,
    ToAgent,
)
from dialer.live.deps import Deps
from dialer.store.journeys import utcnow
from dialer.telephony.events import Dtmf, HungUp, PromptDone

log = logging.getLogger(__name__)

PROMPT = "ars-{step}"
PROMPT_MAX_S = 30.0  # a step's words that never report done: keys are awaited after this

AGENT = "agent"  # the caller goes on to the agent queue
ORDERED = "ars_order"  # the call ended in the menu with an order
HUNG_UP = "ars_hangup"  # ... without one


class ArsOrder(Protocol):
    """What placing the ARS's order gave (the server's `ArsOrderResult`)."""

    @property
    def order_id(self) -> int | None: ...

    @property
    def out_of_stock(self) -> bool: ...


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ArsHooks:
    """What the ARS needs of the other domains (the dialer does not import orders)."""

    products_for: services.ProductsFor
    place_order: Callable[[OrderIntent, Mapping[str, Any]], Awaitable[ArsOrder]]


NextEvent = Callable[[float | None], Awaitable[object | None]]


async def run_menu(
    deps: Deps,
    hooks: ArsHooks,
    *,
    call_id: str,
    caller_e164: str | None,
    queue_id: int,
    customer: Mapping[str, Any] | None,
    next_event: NextEvent,
) -> str:
    """Take the caller through the menu; AGENT, ORDERED or HUNG_UP."""
    clock = deps.desk.clock
    started = utcnow()
    async with deps.pool.acquire() as conn:
        menu = await store.active_menu(conn)
        offer, _ = await services.ars_offer(conn, caller_e164=caller_e164, queue_id=queue_id,
                                            now=started, products_for=hooks.products_for)
    session = ArsSession(menu, offer, call_id=call_id)
    commands: collections.deque[Command] = collections.deque(session.start())
    said: list[str] = []
    result: str | None = None
    collect: Collect | None = None
    deadline_s: float | None = None
    # prompts asked for and not yet reported done: the port answers every play() with one
    # PromptDone, a stopped prompt's too, so the words are over when this is back to 0 (an
    # old PromptDone never passes for the same step said again)
    unsaid = 0
    while result is None:
        if commands:
            command = commands.popleft()
            if isinstance(command, Say):
                said.append(command.text)
                await deps.port.play(call_id, PROMPT.format(step=command.step),
                                     words=command.text)
                unsaid += 1
                collect, deadline_s = None, clock() + PROMPT_MAX_S
            elif isinstance(command, Collect):
                collect = command  # its timeout runs from the end of the words
            elif isinstance(command, PlaceOrder):
                placed = await hooks.place_order(command.intent, customer or {})
                commands.extend(session.order_result(
                    placed=placed.order_id is not None, order_id=placed.order_id,
                    out_of_stock=placed.out_of_stock))  # fmt: skip
            elif isinstance(command, ToAgent):
                result = AGENT
            elif isinstance(command, Hangup):
                result = ORDERED if session.order_id is not None else HUNG_UP
                if unsaid:  # the order number or the goodbye is heard before the line drops
                    await _until_said(next_event, unsaid, clock, deadline_s)
            continue
        event = await next_event(None if deadline_s is None else deadline_s - clock())
        if event is None:  # no key in time: the step again, or an agent
            unsaid = 0  # words that never reported done (PROMPT_MAX_S) are given up
            commands.extend(session.timeout())
            deadline_s = None if collect is None else clock() + collect.timeout_s
        elif isinstance(event, Dtmf):
            answer = session.key(event.digit)
            if unsaid and (answer or session.keys):  # the menu took the key: words cut
                await deps.port.stop_prompts(call_id)
            commands.extend(answer)
        elif isinstance(event, PromptDone):
            unsaid = max(0, unsaid - 1)
            if not unsaid and collect is not None:
                deadline_s = clock() + collect.timeout_s
        elif isinstance(event, HungUp) and event.call_id == call_id:
            result = ORDERED if session.order_id is not None else HUNG_UP
    async with deps.pool.acquire() as conn:
        await store.save_session(conn, call_id=call_id, customer_id=offer.customer_id,
                                 started=started, ended=utcnow(), path=session.path,
                                 outcome=session.outcome or result, order_id=session.order_id,
                                 total_krw=session.total_krw if session.order_id else None)
    log.info("ARS call %s: %s (%s)", call_id, result, " > ".join(session.path))
    return result


async def _until_said(
    next_event: NextEvent, unsaid: int, clock: Callable[[], float], deadline_s: float | None
) -> None:
    """Wait for the `unsaid` prompts to be said to their end (or the caller to go, or the
    last prompt's limit). Without it the ARS hung up a real Asterisk's channel 9 ms after
    asking for its last words, which Asterisk then dropped unsaid."""
    while unsaid:
        left = None if deadline_s is None else deadline_s - clock()
        if left is not None and left <= 0:
            return
        event = await next_event(left)
        if event is None or isinstance(event, HungUp):
            return
        if isinstance(event, PromptDone):
            unsaid -= 1
