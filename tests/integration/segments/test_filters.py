"""Each filter field and operator against a real database with known customers."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from crm.rfm import refresh_rfm
from crm.segments import compile_document, count_matching, preview
from tests.integration.segments.seed import seed_base

ALL = {"seoul_f_30s", "busan_m_40s", "no_consent", "night", "dnc", "no_region", "big_spender",
       "recent_contact", "bad_phone", "cancelled_only"}  # fmt: skip


def cond(field: str, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value, **extra}


CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("empty all is everyone", {"all": []}, ALL),
    ("region eq", cond("region", "eq", "부산"), {"busan_m_40s", "dnc"}),
    ("region ne keeps unknown", cond("region", "ne", "서울"),
     {"busan_m_40s", "night", "dnc", "no_region", "recent_contact", "bad_phone"}),
    ("region in", cond("region", "in", ["대구", "광주"]), {"night", "bad_phone"}),
    ("gender", cond("gender", "eq", "M"), {"busan_m_40s"}),
    ("age between", cond("age", "between", [34, 36]), {"seoul_f_30s"}),
    ("age band", cond("age_band", "in", ["30s", "40s"]),
     ALL - {"no_region", "busan_m_40s"} | {"busan_m_40s"}),
    ("age band 40s", cond("age_band", "eq", "40s"), {"busan_m_40s"} | (ALL - {
        "no_region", "busan_m_40s", "seoul_f_30s"})),
    ("consent", cond("consent_marketing", "eq", False), {"no_consent"}),
    ("night consent", cond("consent_night", "eq", True), {"night"}),
    ("dnc", cond("do_not_call", "eq", True), {"dnc"}),
    ("not dnc", {"not": cond("do_not_call", "eq", True)}, ALL - {"dnc"}),
    ("order count", cond("order_count", "gte", 2), {"big_spender"}),
    ("zero orders count cancelled as none", cond("order_count", "eq", 0),
     ALL - {"seoul_f_30s", "busan_m_40s", "big_spender", "night"}),
    ("total spend", cond("total_spend", "gt", 40000), {"busan_m_40s", "big_spender"}),
    ("days since", cond("days_since_last_purchase", "lte", 30), {"seoul_f_30s", "big_spender"}),
    ("days since between", cond("days_since_last_purchase", "between", [50, 250]),
     {"busan_m_40s", "night"}),
    ("bought category ever", cond("bought_category", "in", ["health"]),
     {"seoul_f_30s", "big_spender"}),
    ("bought category within", cond("bought_category", "in", ["kitchen"], within_days=100),
     {"night"}),
    ("bought product none", cond("bought_product", "not_in", ["VIT-1", "PAN-1"]),
     ALL - {"seoul_f_30s", "big_spender", "busan_m_40s", "night"}),
    ("not contacted", cond("contacted", "not_within_days", 30), ALL - {"recent_contact"}),
    ("contacted", cond("contacted", "within_days", 100), {"recent_contact", "busan_m_40s"}),
    ("last disposition", cond("last_disposition", "eq", "callback"),
     {"recent_contact", "busan_m_40s"}),
    ("last disposition not_in keeps never", cond("last_disposition", "not_in", ["callback"]),
     ALL - {"recent_contact", "busan_m_40s"}),
    ("any/all/not", {"any": [
        {"all": [cond("region", "eq", "서울"), cond("rfm_f", "eq", 5)]},
        {"not": {"any": [cond("consent_marketing", "eq", True), cond("region", "eq", "부산")]}},
    ]}, {"big_spender", "no_consent"}),
]


@pytest.fixture
async def base(pool: asyncpg.Pool) -> dict[int, str]:
    async with pool.acquire() as conn:
        ids = await seed_base(conn)
        await refresh_rfm(conn, trigger="test")
    return {v: k for k, v in ids.items()}


@pytest.mark.parametrize(("doc", "expected"), [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_filter_matches_expected_customers(
    pool: asyncpg.Pool, base: dict[int, str], doc: dict[str, Any], expected: set[str]
) -> None:
    async with pool.acquire() as conn:
        compiled = compile_document(doc)
        rows = await conn.fetch(
            f"SELECT c.id FROM {compiled.from_clause} WHERE {compiled.where}", *compiled.params
        )
        assert {base[r["id"]] for r in rows} == expected
        assert await count_matching(conn, compiled=compiled) == len(expected)


async def test_injection_in_values_is_data(pool: asyncpg.Pool, base: dict[int, str]) -> None:
    evil = "x'; DROP TABLE customers; --"
    async with pool.acquire() as conn:
        for doc in (cond("region", "eq", evil), cond("bought_category", "in", [evil]),
                    cond("last_disposition", "in", [evil, "' OR '1'='1"])):  # fmt: skip
            result = await preview(conn, filter_doc=doc)
            assert result.count == 0
        assert await conn.fetchval("SELECT count(*) FROM customers") == len(base)


async def test_preview_masks_phones_and_limits_the_sample(
    pool: asyncpg.Pool, base: dict[int, str]
) -> None:
    async with pool.acquire() as conn:
        result = await preview(conn, filter_doc={"all": []}, sample_size=3)
    assert result.count == len(base)
    assert len(result.sample) == 3
    first = result.sample[0]
    assert first.phone_masked.startswith("+82 10-****-")
    assert first.phone_masked[-4:].isdigit()
