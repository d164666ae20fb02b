"""Inbound API: queues and their numbers, skills, the broadcast schedule (CSV or JSON),
staffing, queue figures for the wallboard, callbacks, the ARS menu and its calls, and
customers' registered payment methods. Supervisors edit; agents read what their desktop
needs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from crm import customers
from crm.errors import CustomerNotFound
from dialer.inbound import services, store
from dialer.inbound.acd import QueueRule
from dialer.inbound.ars import ArsSession, MenuError, PlaceOrder, Say
from dialer.inbound.schedule import SITE_TZ, Broadcast
from server.access import audit_read
from server.auth import Role, allow, current_user
from server.errors import ApiError, read_json
from server.inbound import products_for
from server.keys import POOL

routes = web.RouteTableDef()
MAX_SCHEDULE_BYTES = 2 * 1024 * 1024
MAX_STAFFING_HOURS = 24


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueueIn(Strict):
    kind: Literal["order", "vip", "service"] = "order"
    priority: int = Field(default=0, ge=0, le=100)
    overflow_s: float = Field(default=15.0, ge=0, le=600)
    announce_every_s: float = Field(default=30.0, ge=10, le=600)
    callback_after_s: float = Field(default=45.0, ge=0, le=3600)
    wrap_s: float = Field(default=10.0, ge=0, le=600)
    aht_s: float = Field(default=240.0, gt=0, le=3600)
    numbers: list[str] = Field(default_factory=list, max_length=50)
    ars: bool = False

    @model_validator(mode="after")
    def _numbers(self) -> QueueIn:
        for n in self.numbers:
            if not n or len(n) > 20 or not n.lstrip("+").isdigit():
                raise ValueError(f"numbers: {n!r} is not a phone number (digits, optional +)")
        return self


class SkillIn(Strict):
    agent_id: int = Field(gt=0)
    queue: str = Field(min_length=1, max_length=64)
    level: int | None = Field(default=None, ge=1, le=9, description="null removes the skill")


class BroadcastIn(Strict):
    start: AwareDatetime
    end: AwareDatetime
    title: str = Field(default="", max_length=200)
    products: list[str] = Field(min_length=1, max_length=20)
    expected_calls: int = Field(ge=0, le=1_000_000)
    queue: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _window(self) -> BroadcastIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).total_seconds() > 6 * 3600:
            raise ValueError("a broadcast lasts at most 6 hours")
        return self


class PreviewIn(Strict):
    caller: str = Field(pattern=r"^\+[0-9]{8,15}$", description="the caller's number, E.164")
    keys: str = Field(default="", max_length=64, pattern=r"^[0-9*#]*$")
    queue: str = Field(default="order-line", max_length=64)


class PaymentIn(Strict):
    label: str = Field(min_length=1, max_length=40)
    last4: str = Field(pattern=r"^[0-9]{4}$")


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


# -- queues and skills -----------------------------------------------------------------


@routes.get("/api/v1/inbound/queues")
@allow("supervisor", "agent")
async def list_queues(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_queues(conn)
    return web.json_response({"items": [_iso(r) for r in rows]})


@routes.put("/api/v1/inbound/queues/{name}")
@allow("supervisor")
async def put_queue(request: web.Request) -> web.Response:
    name = request.match_info["name"].strip()
    if not name or len(name) > 64:
        raise ApiError(422, "invalid", "a queue name has 1-64 characters", field="name")
    body = QueueIn.model_validate(await read_json(request))
    rule = QueueRule(queue_id=0, name=name, priority=body.priority, overflow_s=body.overflow_s,
                     announce_every_s=body.announce_every_s,
                     callback_after_s=body.callback_after_s, wrap_s=body.wrap_s,
                     aht_s=body.aht_s)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        qid = await store.upsert_queue(conn, rule=rule, kind=body.kind)
        for number in body.numbers:
            await store.set_number(conn, called=number, queue_id=qid, ars=body.ars)
    return web.json_response({"id": qid, "name": name})


@routes.get("/api/v1/inbound/skills")
@allow("supervisor")
async def list_skills(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.skill_rows(conn)
    return web.json_response({"items": rows})


@routes.put("/api/v1/inbound/skills")
@allow("supervisor")
async def put_skill(request: web.Request) -> web.Response:
    body = SkillIn.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        qid = await store.queue_id(conn, body.queue)
        if qid is None:
            raise ApiError(404, "not_found", f"no queue {body.queue!r}", field="queue")
        await store.set_skill(conn, agent_id=body.agent_id, queue_id=qid, level=body.level)
    return web.json_response({"agent_id": body.agent_id, "queue": body.queue,
                              "level": body.level})


# -- the broadcast schedule ------------------------------------------------------------


def _day_window(request: web.Request) -> tuple[dt.datetime, dt.datetime]:
    raw = request.query.get("date")
    try:
        day = dt.date.fromisoformat(raw) if raw else dt.datetime.now(SITE_TZ).date()
    except ValueError as exc:
        raise ApiError(422, "invalid", "date: YYYY-MM-DD", field="date") from exc
    start = dt.datetime.combine(day, dt.time(), tzinfo=SITE_TZ)
    return start, start + dt.timedelta(days=1)


@routes.get("/api/v1/inbound/schedule")
@allow("supervisor", "agent", "marketer")
async def get_schedule(request: web.Request) -> web.Response:
    since, until = _day_window(request)
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_broadcasts(conn, since=since, until=until)
    return web.json_response({"items": [_iso(r) for r in rows]})


@routes.post("/api/v1/inbound/schedule")
@allow("supervisor")
async def post_schedule(request: web.Request) -> web.Response:
    """JSON: a list of broadcasts; bad items reported by index (from 0), good ones stored."""
    raw = await read_json(request)
    if not isinstance(raw, list) or not 1 <= len(raw) <= 500:
        raise ApiError(422, "invalid", "send a list of 1-500 broadcasts", field="body")
    rows: list[tuple[int, Broadcast]] = []
    for i, item in enumerate(raw):
        b = BroadcastIn.model_validate(item)
        rows.append((i, Broadcast(start=b.start, end=b.end, title=b.title,
                                  products=tuple(b.products), expected_calls=b.expected_calls,
                                  queue=b.queue)))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        report = await services.add_broadcasts(conn, rows=rows,
                                               actor=current_user(request).username)
    return web.json_response(report.as_json(), status=201 if report.imported else 422)


@routes.post("/api/v1/inbound/schedule/import")
@allow("supervisor")
async def import_schedule(request: web.Request) -> web.Response:
    """A schedule CSV as the request body: good rows stored, bad ones reported by line."""
    if (request.content_length or 0) > MAX_SCHEDULE_BYTES:
        raise ApiError(413, "too_large", "a schedule file is at most 2 MB")
    data = await request.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp949")  # Excel's Korean CSV
        except UnicodeDecodeError as exc:
            raise ApiError(422, "invalid", "the file is not UTF-8 or CP949 text") from exc
    async with request.app[POOL].acquire() as conn, conn.transaction():
        report = await services.import_schedule(conn, text=text,
                                                actor=current_user(request).username)
    return web.json_response(report.as_json(), status=200)


@routes.delete("/api/v1/inbound/schedule/{id:\\d+}")
@allow("supervisor")
async def delete_broadcast(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        if not await store.delete_broadcast(conn, int(request.match_info["id"])):
            raise ApiError(404, "not_found", "no such broadcast")
    return web.json_response({"deleted": int(request.match_info["id"])})


def _float_arg(request: web.Request, name: str, default: float, low: float,
               high: float) -> float:
    try:
        value = float(request.query.get(name, default))
    except ValueError as exc:
        raise ApiError(422, "invalid", f"{name}: a number", field=name) from exc
    if not low <= value <= high:
        raise ApiError(422, "invalid", f"{name}: between {low} and {high}", field=name)
    return value


@routes.get("/api/v1/inbound/staffing")
@allow("supervisor")
async def get_staffing(request: web.Request) -> web.Response:
    """Agents needed per 15-minute interval of the day (80 % in 20 s, Erlang A)."""
    since, _ = _day_window(request)
    aht = _float_arg(request, "aht_s", 180.0, 10.0, 3600.0)
    logged_in = request.query.get("logged_in")
    async with request.app[POOL].acquire() as conn:
        if request.query.get("patience_s"):
            patience = _float_arg(request, "patience_s", 60.0, 1.0, 3600.0)
            source, calls = "given", None
        else:  # what the last week's callers showed, or the default while too few
            model = await services.floor_model(conn, now=dt.datetime.now(dt.UTC))
            patience, calls = model.patience_s, model.patience_calls
            source = "measured" if calls else "default"
        rows = await services.staffing_plan(
            conn, day_start=since, hours=MAX_STAFFING_HOURS, aht_s=aht, patience_s=patience,
            logged_in=int(logged_in) if logged_in and logged_in.isdigit() else None)
    return web.json_response({"aht_s": aht, "patience_s": round(patience, 1),
                              "patience_source": source, "patience_calls": calls,
                              "target_s": 20, "service_level": 0.8,
                              "intervals": [r.as_json() for r in rows]})


# -- figures, callbacks, ARS -----------------------------------------------------------


@routes.get("/api/v1/inbound/stats")
@allow("supervisor")
async def get_stats(request: web.Request) -> web.Response:
    """Per queue today: offered, answered, service level (20 s), ASA, abandons, callbacks
    pending, calls waiting now and the longest wait (the wallboard's inbound tiles)."""
    since, _ = _day_window(request)
    async with request.app[POOL].acquire() as conn:
        rows = await store.queue_stats(conn, since=since)
    items = []
    for r in rows:
        offered = r["offered"]
        items.append({**_iso(r), "service_level": r["answered_in_target"] / offered
                      if offered else None,
                      "abandon_rate": r["abandoned"] / offered if offered else None,
                      "asa_s": round(r["asa_s"], 1) if r["asa_s"] is not None else None,
                      "longest_wait_s": round(r["longest_wait_s"])
                      if r["longest_wait_s"] is not None else None})
    return web.json_response({"items": items})


@routes.get("/api/v1/inbound/callbacks")
@allow("supervisor", "agent")
async def get_callbacks(request: web.Request) -> web.Response:
    """Keep-my-place callbacks not done yet, oldest place first; an agent sees only those
    reserved for them (being dialled or on the line)."""
    user = current_user(request)
    mine = user.id if user.role is Role.AGENT else None
    async with request.app[POOL].acquire() as conn:
        rows = await store.pending_callbacks(conn, agent_id=mine)
        await audit_read(conn, user, "inbound_callbacks", [r["id"] for r in rows])
    return web.json_response({"items": [_iso(r) for r in rows]})


MAX_CALLS = 200


@routes.get("/api/v1/inbound/calls")
@allow("supervisor", "agent")
async def get_calls(request: web.Request) -> web.Response:
    """Inbound calls of the day (`date`, Asia/Seoul; default today), newest first, at most
    `limit` (1-200, default 50); an agent sees only the calls they took."""
    since, _ = _day_window(request)
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CALLS:
        raise ApiError(422, "invalid", f"limit: a whole number 1-{MAX_CALLS}", field="limit")
    user = current_user(request)
    mine = user.id if user.role is Role.AGENT else None
    async with request.app[POOL].acquire() as conn:
        rows = await store.recent_calls(conn, since=since, limit=int(raw), agent_id=mine)
        await audit_read(conn, user, "inbound_calls", [r["id"] for r in rows])
    return web.json_response({"items": [_iso(r) for r in rows]})


@routes.get("/api/v1/inbound/ars/menu")
@allow("supervisor")
async def get_menu(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        menu = await store.active_menu(conn)
    return web.json_response(menu.as_json())


@routes.put("/api/v1/inbound/ars/menu")
@allow("supervisor")
async def put_menu(request: web.Request) -> web.Response:
    raw = await read_json(request)
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid", "send the menu as an object", field="body")
    try:
        async with request.app[POOL].acquire() as conn, conn.transaction():
            menu = await store.save_menu(conn, body=raw, actor=current_user(request).username)
    except MenuError as exc:
        raise ApiError(422, "invalid_menu", str(exc), field="steps") from exc
    return web.json_response(menu.as_json())


@routes.post("/api/v1/inbound/ars/preview")
@allow("supervisor")
async def preview_menu(request: web.Request) -> web.Response:
    """Walk the menu in force as this caller would, with these keys, on what is on air now:
    what they would hear, where they end. Nothing is ordered."""
    body = PreviewIn.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        qid = await store.queue_id(conn, body.queue)
        if qid is None:
            raise ApiError(404, "not_found", f"no queue {body.queue!r}", field="queue")
        menu = await store.active_menu(conn)
        offer, broadcast = await services.ars_offer(
            conn, caller_e164=body.caller, queue_id=qid, now=dt.datetime.now(dt.UTC),
            products_for=products_for)
    session = ArsSession(menu, offer, call_id="preview")
    heard = list(session.start())
    for key in body.keys:
        heard += session.key(key)
    said = [{"step": c.step, "text": c.text} for c in heard if isinstance(c, Say)]
    order = next((c.intent for c in heard if isinstance(c, PlaceOrder)), None)
    return web.json_response({
        "broadcast": broadcast["title"] if broadcast else None,
        "customer_id": offer.customer_id, "said": said, "path": session.path,
        "step": session.step.name, "outcome": session.outcome,
        "would_order": None if order is None else {
            "sku_id": order.sku_id, "qty": order.qty, "payment": order.payment,
            "total_krw": session.total_krw},
    })


@routes.get("/api/v1/inbound/ars/sessions")
@allow("supervisor")
async def get_sessions(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await store.list_sessions(conn, limit=100)
    return web.json_response({"items": [_iso(r) for r in rows]})


@routes.post("/api/v1/customers/{id:\\d+}/payments")
@allow("supervisor")
async def add_payment(request: web.Request) -> web.Response:
    """Register a payment method for phone orders (what the caller confirms by)."""
    body = PaymentIn.model_validate(await read_json(request))
    customer_id = int(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            await customers.get_customer(conn, customer_id=customer_id)
        except CustomerNotFound as exc:
            raise ApiError(404, "not_found", "no such customer") from exc
        pid = await store.add_payment(conn, customer_id=customer_id, label=body.label,
                                      last4=body.last4)
    return web.json_response({"id": pid, "label": body.label, "last4": body.last4},
                             status=201)

