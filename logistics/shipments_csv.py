"""Dispatch by CSV upload: one row per parcel, a report per row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import asyncpg

from logistics.errors import LogisticsError
from logistics.shipments import dispatch, dispatch_order

MAX_ROWS = 20_000
# Header names we accept, lower-cased (warehouse systems export Korean headers).
COLUMNS = {
    "shipment_id": ("shipment_id", "shipment", "출고번호"),
    "order_id": ("order_id", "order", "주문번호"),
    "carrier": ("carrier", "택배사", "carrier_code"),
    "tracking_number": ("tracking_number", "tracking", "invoice_no", "송장번호", "운송장번호"),
}


class BadCsv(LogisticsError):
    """The CSV file cannot be read."""


@dataclass(frozen=True, kw_only=True)
class RowReport:
    row: int  # 1 = the first data row
    ok: bool
    shipment_id: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "ok": self.ok, "shipment_id": self.shipment_id,
                "error": self.error}  # fmt: skip


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949 as Korean spreadsheets save it."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadCsv("the file is neither UTF-8 nor CP949 text")


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [h.strip().lower() for h in header]
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[column] = names.index(alias)
                break
    missing = [c for c in ("carrier", "tracking_number") if c not in found]
    if missing or ("shipment_id" not in found and "order_id" not in found):
        raise BadCsv(
            "the header needs carrier, tracking_number and shipment_id or order_id; "
            f"got {', '.join(header)}"
        )
    return found


async def dispatch_csv(conn: asyncpg.Connection, *, data: bytes, actor: str) -> list[RowReport]:
    """Each row in its own savepoint: a bad row is reported, the others go through."""
    rows = list(csv.reader(io.StringIO(decode(data))))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise BadCsv("the file is empty")
    if len(rows) > MAX_ROWS + 1:
        raise BadCsv(f"at most {MAX_ROWS} rows per file")
    cols = _header_map(rows[0])
    reports: list[RowReport] = []
    for n, row in enumerate(rows[1:], start=1):

        def cell(name: str, row: list[str] = row) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            async with conn.transaction():
                sid, oid = cell("shipment_id"), cell("order_id")
                if not sid.isdigit() and not oid.isdigit():
                    raise LogisticsError("give a numeric shipment_id or order_id")
                if sid.isdigit():
                    shipment = await dispatch(
                        conn, shipment_id=int(sid), carrier_code=cell("carrier"),
                        tracking_number=cell("tracking_number"), actor=actor,
                    )  # fmt: skip
                else:
                    shipment = await dispatch_order(
                        conn, order_id=int(oid), carrier_code=cell("carrier"),
                        tracking_number=cell("tracking_number"), actor=actor,
                    )  # fmt: skip
            reports.append(RowReport(row=n, ok=True, shipment_id=shipment.id))
        except LogisticsError as exc:
            reports.append(RowReport(row=n, ok=False, error=str(exc)))
    return reports
