"""`telemart bench import`: a synthetic Korean customer file through the real import path,
against a raw COPY of the same customers into a table with the same unique indexes.

The file is generated first (not timed): CP949 like a Korean Excel export, ~5 % rows with a
bad phone, ~2 % repeated customers, ~1 % unreadable birth dates or genders, phone numbers in
the usual shapes (a few that only phonenumbers understands). Both runs use a fresh database
created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.phones import fast_normalize, slow_normalize

_SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민"
_SYLLABLES = "민서준지현우예도하윤수아은재영진성혜정태희경호연승유채원상동혁"
_REGIONS = ("서울", "경기", "부산", "인천", "대구", "대전", "광주", "울산", "세종", "강원",
            "충북", "충남", "전북", "전남", "경북", "경남", "제주")  # fmt: skip
_BAD_PHONES = ("", "010-12-34", "123", "전화없음", "02-12", "010-5980-1234", "0000", "N/A")
HEADER = ("고객번호", "이름", "휴대폰번호", "이메일", "주소", "우편번호", "생년월일", "성별",
          "마케팅수신동의", "가입일")  # fmt: skip
COPY_COLUMNS = ("external_ref", "name", "phone_e164", "phone_type", "email", "address",
                "postal_code", "region", "birth_date", "gender", "consent_marketing",
                "source")  # fmt: skip
_REGION_NAMES = {"서울": "서울특별시", "경기": "경기도", "부산": "부산광역시", "인천": "인천광역시",
                 "대구": "대구광역시", "대전": "대전광역시", "광주": "광주광역시",
                 "울산": "울산광역시", "세종": "세종특별자치시", "강원": "강원특별자치도",
                 "충북": "충청북도", "충남": "충청남도", "전북": "전북특별자치도",
                 "전남": "전라남도", "경북": "경상북도", "경남": "경상남도",
                 "제주": "제주특별자치도"}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class GeneratedFile:
    path: Path
    rows: int
    customers: int  # distinct valid phones
    invalid: int
    duplicates: int
    copy_path: Path  # the customers as COPY text, for the baseline


def _phone_shape(rng: random.Random, mid: str, last: str) -> str:
    roll = rng.random()
    if roll < 0.55:
        return f"010-{mid}-{last}"
    if roll < 0.80:
        return f"010{mid}{last}"
    if roll < 0.90:
        return f"+82 10-{mid}-{last}"
    if roll < 0.95:
        return f"010 {mid} {last}"
    return f"(010) {mid}-{last}"  # only phonenumbers reads this one


def generate_customer_file(
    path: Path, *, rows: int, seed: int = 7, encoding: str = "cp949"
) -> GeneratedFile:
    """Write a customer CSV of `rows` data rows, and beside it the expected customers as
    COPY text (`<path>.copy`)."""
    rng = random.Random(seed)
    copy_path = path.with_suffix(path.suffix + ".copy")
    seen: list[tuple[str, ...]] = []  # cells of earlier good rows, for duplicates
    subscribers = rng.sample(range(10**8), k=min(rows + rows // 10, 10**8))
    next_sub = 0
    invalid = duplicates = customers = 0
    with (
        path.open("w", encoding=encoding, newline="") as out,
        copy_path.open("w", encoding="utf-8") as copy_out,
    ):
        out.write(",".join(HEADER) + "\r\n")
        for n in range(rows):
            roll = rng.random()
            if roll < 0.05:
                invalid += 1
                bad = rng.choice(_BAD_PHONES)
                assert slow_normalize(bad) is None
                out.write(f"X{n},무명,{bad},,,,,,,\r\n")
                continue
            if roll < 0.07 and seen:
                duplicates += 1
                out.write(",".join(rng.choice(seen)) + "\r\n")
                continue
            while True:
                sub = f"{subscribers[next_sub]:08d}"
                next_sub += 1
                if fast_normalize(f"010{sub}") is not None:
                    break
            mid, last = sub[:4], sub[4:]
            name = rng.choice(_SURNAMES) + rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES)
            region = rng.choice(_REGIONS)
            address = f"{region} 중앙구 중앙로 {rng.randint(1, 300)}"
            postal = f"{rng.randint(1000, 63999):05d}"
            year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
            warn = rng.random() < 0.01
            birth = f"{year}-13-45" if warn else f"{year}.{month:02d}.{day:02d}"
            gender = rng.choice(("남", "여", "M", "F"))
            consent = rng.choice(("Y", "N", "동의", "미동의", ""))
            ref = f"C{n:08d}"
            cells = (ref, name, _phone_shape(rng, mid, last), f"u{n}@example.kr", address,
                     postal, birth, gender, consent, "2024-01-02")  # fmt: skip
            out.write(",".join(cells) + "\r\n")
            if len(seen) < 10_000:
                seen.append(cells)
            customers += 1
            consent_value = {"Y": "t", "동의": "t", "N": "f", "미동의": "f", "": "f"}[consent]
            copy_out.write("\t".join((
                ref, name, f"+8210{sub}", "mobile", f"u{n}@example.kr", address, postal,
                _REGION_NAMES[region], "\\N" if warn else f"{year}-{month:02d}-{day:02d}",
                "M" if gender in ("남", "M") else "F", consent_value, "bench",
            )) + "\n")  # fmt: skip
    return GeneratedFile(
        path=path, rows=rows, customers=customers, invalid=invalid, duplicates=duplicates,
        copy_path=copy_path,
    )  # fmt: skip


_BASELINE_TABLE = """
CREATE TABLE bench_copy (
    id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    external_ref      text UNIQUE,
    name              text NOT NULL DEFAULT '',
    phone_e164        text NOT NULL UNIQUE,
    phone_type        text NOT NULL DEFAULT 'unknown',
    email text, address text, postal_code text, region text, birth_date date,
    gender char(1), consent_marketing boolean NOT NULL DEFAULT false, source text,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()
)
"""



def _peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


async def run_bench(
    url: str, generated: GeneratedFile, work: Path, *, reimport: bool = False
) -> dict[str, Any]:
    """Raw COPY, then the real import, into the fresh database at `url`; with `reimport`,
    then the same file again (every customer exists and nothing changes)."""
    from config.db import connect
    from config.migrations import migrate
    from crm.importer import ImportSummary, import_file
    from crm.parse import ImportKind

    conn = await connect(url)
    second = await connect(url)
    try:
        await migrate(conn)
        await conn.execute(_BASELINE_TABLE)
        started = time.perf_counter()
        await conn.copy_to_table(
            "bench_copy", source=generated.copy_path, columns=list(COPY_COLUMNS),
            format="text",
        )  # fmt: skip
        copy_s = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")

        async def timed_import() -> tuple[ImportSummary, float]:
            await conn.execute("CHECKPOINT")
            started = time.perf_counter()
            summary = await import_file(
                conn, path=generated.path, kind=ImportKind.CUSTOMERS, source="bench",
                actor="bench", report_dir=work / "reports", parallel=True, second=second,
            )  # fmt: skip
            return summary, time.perf_counter() - started

        summary, seconds = await timed_import()
        count = await conn.fetchval("SELECT count(*) FROM customers")
        again, reimport_s = await timed_import() if reimport else (None, 0.0)
    finally:
        await second.close()
        await conn.close()
    if count != generated.customers or summary.invalid != generated.invalid:
        raise SystemExit(
            f"import disagrees with the generator: {count} customers (expected "
            f"{generated.customers}), {summary.invalid} invalid (expected {generated.invalid})"
        )
    if again is not None and (again.imported, again.updated) != (0, count):
        raise SystemExit(f"the re-import added or missed customers: {again.as_json()}")
    own, children = _peak_rss_mb()
    rows_per_s = generated.rows / seconds
    copy_rows_per_s = generated.customers / copy_s
    extra = {} if again is None else {
        "reimport_seconds": round(reimport_s, 3),
        "reimport_rows_per_s": round(generated.rows / reimport_s),
    }  # fmt: skip
    return {
        "rows": generated.rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows_per_s),
        "copy_rows_per_s": round(copy_rows_per_s),
        "ratio": round(rows_per_s / copy_rows_per_s, 3),
        "peak_rss_mb": round(own + children, 1),
        "peak_rss_main_mb": round(own, 1),
        "peak_rss_parser_mb": round(children, 1),
        "copy_seconds": round(copy_s, 3),
        "customers": generated.customers,
        "summary": summary.as_json(),
        **extra,
    }


def cmd_bench_import(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from config.scratch import scratch_database

    settings = settings_from(args)

    async def run(work: Path) -> dict[str, Any]:
        print(f"generating {args.rows} rows ...", file=sys.stderr)
        # In a process of its own: the generator's memory is not the import's (peak RSS).
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            generated = await asyncio.get_running_loop().run_in_executor(
                pool, functools.partial(generate_customer_file, work / "customers.csv",
                                        rows=args.rows),
            )  # fmt: skip
        async with scratch_database(settings, prefix="telemart_bench_import") as url:
            return await run_bench(url, generated, work, reimport=args.reimport)

    with tempfile.TemporaryDirectory(prefix="telemart-bench-import-") as tmp:
        result = asyncio.run(run(Path(tmp)))
    if not args.json:
        print(
            f"{result['rows']} rows in {result['seconds']} s: {result['rows_per_s']} rows/s, "
            f"raw COPY {result['copy_rows_per_s']} rows/s (ratio {result['ratio']}), "
            f"peak RSS {result['peak_rss_mb']} MB"
        )
        if args.reimport:
            print(f"the same file again: {result['reimport_seconds']} s, "
                  f"{result['reimport_rows_per_s']} rows/s")  # fmt: skip
    print(json.dumps(result, ensure_ascii=False))
    return 0


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser("import", help="customer import throughput vs raw COPY")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--json", action="store_true", help="only the JSON line on stdout")
    p.add_argument(
        "--reimport", action="store_true",
        help="then import the same file again (reimport_seconds, reimport_rows_per_s)",
    )  # fmt: skip
    p.set_defaults(func=cmd_bench_import)
