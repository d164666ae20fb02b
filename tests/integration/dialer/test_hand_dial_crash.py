"""A lead the dialer had finished (the customer ordered) and an agent then dialled by hand
is never taken back by the dialer's own lease queries when the agent's process dies and the
hand-dial lease runs out (issues 13 and 17): it stays out of the hopper, and a give-back
or a later hand dial restores what it was."""

from __future__ import annotations

import datetime as dt

import asyncpg

from config.db import _init_connection
from dialer.sim.seed import seed_campaign
from dialer.store import hopper, lists


async def test_a_finished_lead_dialled_by_hand_is_not_redialled_after_its_process_dies(
    db_url: str,
) -> None:
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=1, strategy="preview")
        lead_id, phone = await conn.fetchrow(
            "SELECT id, phone_e164 FROM campaign_leads WHERE campaign_id = $1", campaign_id
        )
        await conn.execute("UPDATE campaign_leads SET status = 'done' WHERE id = $1", lead_id)
        now = dt.datetime.now(dt.UTC)

        async def by_hand(owner: str, at: dt.datetime) -> hopper.LeasedLead:
            async with conn.transaction():
                got = await hopper.lease_by_hand(
                    conn,
                    campaign_id=campaign_id,
                    list_id=lambda: lists.hand_dial_list(conn, campaign_id=campaign_id),
                    owner=owner,
                    phone_e164=phone,
                    now=at,
                )
            assert isinstance(got, hopper.LeasedLead)
            return got

        leased = await by_hand("node-that-dies", now)
        assert leased.by_hand == "done"
        # the process dies; its lease runs out; the dialer leases what it may
        later = now + dt.timedelta(hours=1)
        taken = await hopper.lease_leads(
            conn, campaign_id=campaign_id, owner="survivor", count=10, now=later
        )
        assert taken == []
        # another agent dials the customer by hand: the lead still knows it was done
        again = await by_hand("other-node", later)
        assert again.by_hand == "done"
        await hopper.give_back(conn, lead=again, owner="other-node")
        status, was = await conn.fetchrow(
            "SELECT status, hand_dial_was FROM campaign_leads WHERE id = $1", lead_id
        )
        assert (status, was) == ("done", None)
    finally:
        await conn.close()
