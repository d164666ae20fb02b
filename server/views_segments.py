"""JSON API: segment previews and saved segments, RFM refresh, campaigns and their lists."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from crm.rfm import last_run, refresh_rfm
from crm.segments import (
    SegmentKind,
    delete_segment,
    get_segment,
    list_segments,
    preview,
    save_segment,
    update_segment,
)
from dialer.store.campaigns import (
    Action,
    change_status,
    create_campaign,
    get_campaign,
    list_campaigns,
    status_history,
    update_campaign,
)
from dialer.store.campaigns_config import CampaignConfig, CampaignPatch
from dialer.store.lists import build_list, campaign_lists
from server.auth import Role, allow, current_user
from server.errors import read_json
from server.keys import POOL
from server.params import Id, path_id

routes = web.RouteTableDef()

SEGMENT_READERS = (Role.MARKETER, Role.SUPERVISOR)
CAMPAIGN_ROLES = (Role.MARKETER, Role.SUPERVISOR)


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filter: dict[str, Any]


class SegmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: SegmentKind = SegmentKind.DYNAMIC
    filter: dict[str, Any]


class ListRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segment_id: Id
    exclude_contacted_days: int | None = Field(default=None, ge=1, le=3650)
    priority: int = Field(default=100, ge=0, le=1000)


# --- segments ----------------------------------------------------------------------------


@routes.post("/api/v1/segments/preview")
@allow(*SEGMENT_READERS)
async def segment_preview(request: web.Request) -> web.Response:
    body = PreviewRequest.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        result = await preview(conn, filter_doc=body.filter)
    sample = [
        {"id": s.id, "name": s.name, "phone": s.phone_masked, "region": s.region,
         "gender": s.gender, "age": s.age, "consent_marketing": s.consent_marketing,
         "consent_night": s.consent_night, "order_count": s.order_count,
         "total_spend_krw": s.total_spend_krw, "rfm": s.rfm,
         "last_purchase_at": s.last_purchase_at.isoformat() if s.last_purchase_at else None}
        for s in result.sample
    ]  # fmt: skip
    return web.json_response({"count": result.count, "sample": sample})


@routes.get("/api/v1/segments")
@allow(*SEGMENT_READERS)
async def segments_index(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await list_segments(conn)
    return web.json_response({"segments": [s.as_json() for s in found]})


@routes.post("/api/v1/segments")
@allow(Role.MARKETER)
async def segments_create(request: web.Request) -> web.Response:
    body = SegmentRequest.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        segment = await save_segment(
            conn, name=body.name, kind=body.kind, filter_doc=body.filter, actor=user.username
        )
    return web.json_response(segment.as_json(), status=201)


@routes.get("/api/v1/segments/{id:[0-9]+}")
@allow(*SEGMENT_READERS)
async def segments_show(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        segment = await get_segment(conn, segment_id=path_id(request))
    return web.json_response(segment.as_json())


@routes.put("/api/v1/segments/{id:[0-9]+}")
@allow(Role.MARKETER)
async def segments_update(request: web.Request) -> web.Response:
    """Edit a saved segment (name, kind, filter); a static one is snapshot again."""
    body = SegmentRequest.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        segment = await update_segment(
            conn, segment_id=path_id(request), name=body.name, kind=body.kind,
            filter_doc=body.filter,
        )  # fmt: skip
    return web.json_response(segment.as_json())


@routes.delete("/api/v1/segments/{id:[0-9]+}")
@allow(Role.MARKETER)
async def segments_delete(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await delete_segment(conn, segment_id=path_id(request))
    return web.json_response({"deleted": True})


# --- RFM ---------------------------------------------------------------------------------


@routes.post("/api/v1/rfm/refresh")
@allow(Role.MARKETER)
async def rfm_refresh(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        run = await refresh_rfm(conn, trigger="api")
    return web.json_response(run.as_json())


@routes.get("/api/v1/rfm")
@allow(*SEGMENT_READERS)
async def rfm_status(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        run = await last_run(conn)
    return web.json_response({"last_run": run.as_json() if run else None})


# --- campaigns ---------------------------------------------------------------------------


@routes.get("/api/v1/campaigns")
@allow(*CAMPAIGN_ROLES)
async def campaigns_index(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await list_campaigns(conn)
    return web.json_response({"campaigns": [c.as_json() for c in found]})


@routes.post("/api/v1/campaigns")
@allow(*CAMPAIGN_ROLES)
async def campaigns_create(request: web.Request) -> web.Response:
    config = CampaignConfig.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        campaign = await create_campaign(conn, config=config, actor=current_user(request).username)
    return web.json_response(campaign.as_json(), status=201)


@routes.get("/api/v1/campaigns/{id:[0-9]+}")
@allow(*CAMPAIGN_ROLES)
async def campaigns_show(request: web.Request) -> web.Response:
    campaign_id = path_id(request)
    async with request.app[POOL].acquire() as conn:
        campaign = await get_campaign(conn, campaign_id=campaign_id)
        lists = await campaign_lists(conn, campaign_id=campaign_id)
        history = await status_history(conn, campaign_id=campaign_id)
    return web.json_response(
        {**campaign.as_json(), "lists": [x.as_json() for x in lists], "history": history}
    )


@routes.patch("/api/v1/campaigns/{id:[0-9]+}")
@allow(*CAMPAIGN_ROLES)
async def campaigns_patch(request: web.Request) -> web.Response:
    campaign_id = path_id(request)
    patch = CampaignPatch.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        campaign = await update_campaign(conn, campaign_id=campaign_id, patch=patch)
    return web.json_response(campaign.as_json())


@routes.post("/api/v1/campaigns/{id:[0-9]+}/lists")
@allow(*CAMPAIGN_ROLES)
async def campaigns_add_list(request: web.Request) -> web.Response:
    campaign_id = path_id(request)
    body = ListRequest.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        segment = await get_segment(conn, segment_id=body.segment_id)
        built = await build_list(
            conn, campaign_id=campaign_id, segment=segment,
            exclude_contacted_days=body.exclude_contacted_days, priority=body.priority,
            actor=current_user(request).username,
        )  # fmt: skip
    return web.json_response(built.as_json(), status=201)


@routes.get("/api/v1/campaigns/{id:[0-9]+}/lists")
@allow(*CAMPAIGN_ROLES)
async def campaigns_lists(request: web.Request) -> web.Response:
    campaign_id = path_id(request)
    async with request.app[POOL].acquire() as conn:
        await get_campaign(conn, campaign_id=campaign_id)
        lists = await campaign_lists(conn, campaign_id=campaign_id)
    return web.json_response({"lists": [x.as_json() for x in lists]})


async def _transition(request: web.Request, action: Action) -> web.Response:
    campaign_id = path_id(request)
    async with request.app[POOL].acquire() as conn:
        campaign = await change_status(
            conn, campaign_id=campaign_id, action=action, actor=current_user(request).username
        )
    return web.json_response(campaign.as_json())


@routes.post("/api/v1/campaigns/{id:[0-9]+}/start")
@allow(*CAMPAIGN_ROLES)
async def campaigns_start(request: web.Request) -> web.Response:
    return await _transition(request, Action.START)


@routes.post("/api/v1/campaigns/{id:[0-9]+}/pause")
@allow(*CAMPAIGN_ROLES)
async def campaigns_pause(request: web.Request) -> web.Response:
    return await _transition(request, Action.PAUSE)


@routes.post("/api/v1/campaigns/{id:[0-9]+}/stop")
@allow(*CAMPAIGN_ROLES)
async def campaigns_stop(request: web.Request) -> web.Response:
    return await _transition(request, Action.STOP)
