"""A ready-to-run campaign with synthetic customers: for tests, benchmarks and demos."""

from __future__ import annotations

import datetime as dt

import asyncpg

from dialer.store.campaigns import Action, change_status, create_campaign
from dialer.store.campaigns_config import CallingWindowIn, CampaignConfig, ComplianceIn

SCRIPT = "안녕하세요 {{name}} 고객님, {{campaign}}의 {{agent}}입니다."
SOURCE_LINE = "고객님의 연락처는 당사 구매 이력에서 확인했습니다."


async def seed_customers(conn: asyncpg.Connection, *, count: int, prefix: int = 1) -> list[int]:
    """`count` customers with consent (day and night) and Korean mobile numbers."""
    rows = await conn.fetch(
        """
        INSERT INTO customers (name, phone_e164, consent_marketing, consent_night, region,
                               address, postal_code)
        SELECT '고객 ' || g, '+8210' || lpad(($1::bigint * 10000000 + g)::text, 8, '0'),
               true, true, '서울', '서울시 중구 세종대로 ' || g, '04524'
        FROM generate_series(1, $2) AS g
        RETURNING id
        """,
        prefix, count,
    )  # fmt: skip
    return [r["id"] for r in rows]


async def seed_campaign(
    conn: asyncpg.Connection,
    *,
    leads: int,
    name: str = "Live test",
    strategy: str = "progressive",
    prefix: int = 1,
    start: bool = True,
    compliance: ComplianceIn | None = None,
) -> int:
    """A campaign calling all day with `leads` leads in one list; running if `start`."""
    config = CampaignConfig(
        name=name, pacing_strategy=strategy, script=SCRIPT, data_source_line=SOURCE_LINE,
        calling_window=CallingWindowIn(start=dt.time(0, 0), end=dt.time(0, 0)),
        compliance=compliance or ComplianceIn(),
    )  # fmt: skip
    campaign = await create_campaign(conn, config=config, actor="seed")
    customer_ids = await seed_customers(conn, count=leads, prefix=prefix)
    list_id = await conn.fetchval(
        """
        INSERT INTO campaign_lists (campaign_id, segment_name, candidates, added, suppression,
                                    created_by)
        VALUES ($1, 'seeded', $2, $2, '{}'::jsonb, 'seed') RETURNING id
        """,
        campaign.id, len(customer_ids),
    )  # fmt: skip
    await conn.execute(
        """
        INSERT INTO campaign_leads (campaign_id, list_id, customer_id, phone_e164, position)
        SELECT $1, $2, c.id, c.phone_e164, row_number() OVER (ORDER BY c.id)
        FROM customers c WHERE c.id = ANY ($3::bigint[])
        """,
        campaign.id, list_id, customer_ids,
    )  # fmt: skip
    if start:
        await change_status(conn, campaign_id=campaign.id, action=Action.START, actor="seed")
    return campaign.id
