"""Seed data for `telemart demo`: a home-shopping company with a past.

Deterministic (seeded) so two machines show the same demo. Written straight into
the core tables with COPY: 50,000 customers take about a second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

SEED = 20261122
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN_FIRST = "민서지현수예도하준유은채시우주가나"
GIVEN_SECOND = "준연윤우아원호진빈희영린율성경훈"
REGIONS: tuple[tuple[str, str, float], ...] = (
    # (region, a district for the address, share of customers)
    ("서울특별시", "강남구 테헤란로", 0.19),
    ("경기도", "수원시 영통구 광교로", 0.26),
    ("인천광역시", "연수구 송도과학로", 0.06),
    ("부산광역시", "해운대구 센텀중앙로", 0.07),
    ("대구광역시", "수성구 달구벌대로", 0.05),
    ("광주광역시", "서구 상무중앙로", 0.03),
    ("대전광역시", "유성구 대학로", 0.03),
    ("울산광역시", "남구 삼산로", 0.02),
    ("세종특별자치시", "한누리대로", 0.01),
    ("강원특별자치도", "춘천시 중앙로", 0.03),
    ("충청북도", "청주시 상당구 상당로", 0.03),
    ("충청남도", "천안시 서북구 불당대로", 0.04),
    ("전북특별자치도", "전주시 완산구 팔달로", 0.03),
    ("전라남도", "여수시 시청로", 0.03),
    ("경상북도", "포항시 남구 포스코대로", 0.05),
    ("경상남도", "창원시 성산구 중앙대로", 0.06),
    ("제주특별자치도", "제주시 연삼로", 0.01),
)

# (category, product names, base price KRW, sizes, colours)
CATALOG: tuple[tuple[str, tuple[str, ...], int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("fashion", ("구스다운 롱패딩", "캐시미어 니트", "기모 조거팬츠", "경량 패딩조끼",
                 "울 블렌드 코트", "데님 자켓", "플리스 집업", "컴포트 슬랙스"),
     89000, ("S", "M", "L", "XL"), ("블랙", "네이비", "베이지")),
    ("kitchen", ("IH 전기밥솥", "통3중 냄비세트", "에어프라이어 5.5L", "무선 핸드블렌더",
                 "세라믹 프라이팬 3종", "진공 밀폐용기 12종", "식기세척기 세제",
                 "스테인리스 텀블러"),
     59000, (), ("화이트", "그레이")),
    ("beauty", ("수분 크림 기획세트", "비타민C 앰플", "선크림 SPF50+", "쿠션 팩트 리필세트",
                "헤어 에센스", "클렌징 폼 3입"),
     39000, (), ()),
    ("health", ("홍삼정 스틱 30포", "루테인 지아잔틴", "프로바이오틱스 90캡슐", "오메가3 180캡슐",
                "콜라겐 펩타이드", "종합비타민"),
     49000, (), ()),
    ("living", ("극세사 차렵이불", "메모리폼 베개 2입", "호텔식 수건 10장", "무선 청소기",
                "제습기 16L", "전기요 더블", "암막 커튼", "규조토 발매트"),
     69000, ("싱글", "퀸"), ()),
    ("food", ("한우 불고기 1.2kg", "제주 감귤 5kg", "손질 갈치 2kg", "간장게장 1kg",
              "LA갈비 2kg", "유기농 현미 10kg", "전복 1kg", "김장김치 5kg"),
     45000, (), ()),
    ("electronics", ("무선 이어폰", "로봇 청소기", "공기청정기", "태블릿 10인치",
                     "스마트워치", "전동 칫솔"),
     199000, (), ("화이트", "블랙")),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DemoCounts:
    products: int
    skus: int
    customers: int
    orders: int


def _weighted_region(rng: random.Random) -> tuple[str, str]:
    pick = rng.random()
    for region, street, share in REGIONS:
        pick -= share
        if pick <= 0:
            return region, street
    return REGIONS[0][0], REGIONS[0][1]


async def seed_catalog(conn: asyncpg.Connection, rng: random.Random) -> tuple[int, int]:
    """Products with variants and stock in one warehouse; returns (products, skus)."""
    warehouse_id = await conn.fetchval(
        "INSERT INTO warehouses (code, name) VALUES ('ICN1', '인천 물류센터')"
        " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id"
    )
    products = skus = 0
    for category, names, base_price, sizes, colours in CATALOG:
        for n, name in enumerate(names):
            price = base_price + rng.randrange(-4, 8) * 5000
            product_id = await conn.fetchval(
                "INSERT INTO products (code, name, category, price_krw, per_customer_limit)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                f"{category[:3].upper()}-{n + 1:03d}", name, category, price, 5,
            )  # fmt: skip
            products += 1
            for size in sizes or (None,):
                for colour in colours or (None,):
                    code = "-".join(
                        p for p in (f"{category[:3].upper()}-{n + 1:03d}", size, colour) if p
                    )
                    sku_id = await conn.fetchval(
                        "INSERT INTO skus (product_id, code, option_size, option_color)"
                        " VALUES ($1, $2, $3, $4) RETURNING id",
                        product_id, code, size, colour,
                    )  # fmt: skip
                    on_hand = rng.choice((40, 120, 300, 800))
                    stock_id = await conn.fetchval(
                        "INSERT INTO stock (sku_id, warehouse_id, on_hand) VALUES ($1, $2, $3)"
                        " RETURNING id",
                        sku_id, warehouse_id, on_hand,
                    )  # fmt: skip
                    await conn.execute(
                        "INSERT INTO stock_movements (stock_id, kind, on_hand_delta, reason, actor)"
                        " VALUES ($1, 'receipt', $2, 'demo opening stock', 'demo')",
                        stock_id, on_hand,
                    )  # fmt: skip
                    skus += 1
    return products, skus


def customer_rows(count: int, rng: random.Random) -> list[tuple[object, ...]]:
    today = datetime.now(UTC).date()
    seen: set[str] = set()
    rows: list[tuple[object, ...]] = []
    while len(rows) < count:
        middle, last = rng.randrange(2000, 9999), rng.randrange(0, 10000)
        phone = f"+8210{middle:04d}{last:04d}"
        if phone in seen:
            continue
        seen.add(phone)
        region, street = _weighted_region(rng)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_FIRST) + rng.choice(GIVEN_SECOND)
        birth = today - timedelta(days=rng.randrange(20 * 365, 75 * 365))
        rows.append((
            f"C{len(rows) + 1:07d}", name, phone, "mobile",
            f"{street} {rng.randrange(1, 400)}", f"{rng.randrange(1000, 63999):05d}", region,
            birth, rng.choice("MF"), rng.random() < 0.72, rng.random() < 0.35, "demo",
        ))  # fmt: skip
    return rows


async def seed_customers(conn: asyncpg.Connection, count: int, rng: random.Random) -> int:
    rows = customer_rows(count, rng)
    await conn.copy_records_to_table(
        "customers",
        records=rows,
        columns=[
            "external_ref", "name", "phone_e164", "phone_type", "address", "postal_code",
            "region", "birth_date", "gender", "consent_marketing", "consent_night", "source",
        ],
    )  # fmt: skip
    # Consent history behind the current flags, and a slice of the national register.
    await conn.execute(
        "INSERT INTO consent_records (customer_id, channel, purpose, granted, at, source)"
        " SELECT id, 'phone', 'marketing', true, created_at - interval '200 days', 'demo'"
        " FROM customers WHERE consent_marketing AND source = 'demo'"
    )
    await conn.execute(
        "INSERT INTO consent_records (customer_id, channel, purpose, granted, at, source)"
        " SELECT id, 'phone', 'night_time', true, created_at - interval '200 days', 'demo'"
        " FROM customers WHERE consent_night AND source = 'demo'"
    )
    await conn.execute(
        "INSERT INTO do_not_call (phone_e164, kind, source, registered_on)"
        " SELECT phone_e164, 'national', 'demo register', current_date - 90"
        " FROM customers WHERE source = 'demo' AND id % 31 = 0 ON CONFLICT DO NOTHING"
    )
    return len(rows)


async def seed_order_history(conn: asyncpg.Connection, orders: int) -> int:
    """Delivered orders over the last 18 months, skewed toward loyal customers
    (the square of a uniform draw favours low customer ids)."""
    await conn.execute(
        """
        CREATE TEMP TABLE demo_picks ON COMMIT DROP AS
        WITH ids AS (SELECT array_agg(id ORDER BY id) AS c FROM customers),
             sk AS (SELECT array_agg(s.id ORDER BY s.id) AS ids,
                           array_agg(coalesce(s.price_krw, p.price_krw) ORDER BY s.id) AS prices
                    FROM skus s JOIN products p ON p.id = s.product_id WHERE NOT s.is_set),
             raw AS (SELECT g AS n,
                            1 + floor(power(random(), 2) * cardinality(ids.c))::int AS ci,
                            1 + floor(random() * cardinality(sk.ids))::int AS si,
                            1 + (random() < 0.2)::int AS qty,
                            now() - random() * interval '540 days' AS at
                     FROM generate_series(1, $1) AS g, ids, sk)
        SELECT raw.n, ids.c[raw.ci] AS customer_id, sk.ids[raw.si] AS sku_id,
               sk.prices[raw.si] AS price, raw.qty, raw.at
        FROM raw, ids, sk
        """,
        orders,
    )
    await conn.execute(
        """
        INSERT INTO orders (id, customer_id, status, total_krw, payment_method, delivery,
                            placed_at, updated_at)
        SELECT nextval('orders_id_seq'), customer_id, 'delivered', price * qty, 'card',
               '{}'::jsonb, at, at
        FROM demo_picks ORDER BY at
        """
    )
    # One line per order: match the picks to the orders just made by placement time.
    await conn.execute(
        """
        INSERT INTO order_lines (order_id, sku_id, qty, unit_price_krw)
        SELECT o.id, p.sku_id, p.qty, p.price
        FROM (SELECT id, row_number() OVER (ORDER BY placed_at, id) AS r FROM orders
              WHERE status = 'delivered' AND NOT EXISTS
                    (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)) o
        JOIN (SELECT *, row_number() OVER (ORDER BY at, n) AS r FROM demo_picks) p USING (r)
        """
    )
    return orders
