"""Turning a customer or do-not-call file into batches ready to COPY into a staging table.

This is the CPU-heavy half of an import and touches no database, so it can run in a separate
process (crm/importer.py) while the other process writes the previous batch. Each batch holds
its rows in PostgreSQL COPY text format, one row per distinct phone: a phone repeated inside
a batch is merged here (later non-empty cells win); a phone first seen in an earlier batch is
staged again (the database merges it) and counted as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from crm.errors import ImportFailed
from crm.fields import Field, map_headers, parse_consent, parse_date, parse_gender, region_of
from crm.phones import fast_normalize, slow_normalize
from crm.reader import TableFile, open_table

DEFAULT_BATCH_ROWS = 25_000
KST = ZoneInfo("Asia/Seoul")
# (line number, reason, original cell): one per rejected or warned row.
Issue = tuple[int, str, str]


class ImportKind(enum.StrEnum):
    CUSTOMERS = "customers"
    DNC = "dnc"


CUSTOMER_FIELDS = frozenset(Field) - {Field.REGISTERED_ON}
DNC_FIELDS = frozenset({Field.PHONE, Field.REGISTERED_ON})
# Staging columns, in COPY order (crm/import.sql creates the tables).
CUSTOMER_STAGE_COLUMNS = (
    "line", "phone_e164", "phone_type", "external_ref", "name", "email", "address",
    "postal_code", "region", "birth_date", "gender", "consent",
)  # fmt: skip
DNC_STAGE_COLUMNS = ("line", "phone_e164", "registered_on")
# Batch.lines columns, in order: a COPY into customers adds "id" and "source" after them.
CUSTOMER_LINE_COLUMNS = (
    "external_ref", "name", "phone_e164", "phone_type", "email", "address", "postal_code",
    "region", "birth_date", "gender", "consent_marketing",
)  # fmt: skip
NULL = "\\N"


@dataclass(frozen=True, kw_only=True)
class FileInfo:
    encoding: str
    delimiter: str
    columns: dict[str, int]
    unknown_columns: list[str]
    size_bytes: int


@dataclass(frozen=True, kw_only=True)
class Batch:
    """One batch of parsed rows, one entry per distinct phone ("staged").

    Customers: `lines[i]` holds phone `phones[i]`'s cells as COPY text in
    CUSTOMER_LINE_COLUMNS order, so a new customer is a direct COPY into `customers` once
    the importer appends its id and source; `line_numbers`, `consents` (t, f or \\N) and
    `refs` run in step. Do-not-call: `data` is the staging COPY text.
    """

    staged: int  # distinct phones in the batch
    repeats: int  # staged phones first seen in an earlier batch
    rows: int  # file rows this batch consumed (blank lines excluded)
    duplicates: int
    invalid: int
    warned: int
    issues: list[Issue]
    has_refs: bool
    position: int  # bytes of the file read so far
    data: bytes = b""
    lines: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    refs: list[str | None] = field(default_factory=list)
    known: list[int] = field(default_factory=list)  # indices of the `repeats`

    def stage_text(
        self, indices: Iterable[int] | None = None, *, lines: list[str] | None = None
    ) -> bytes:
        """COPY text for the staging table (CUSTOMER_STAGE_COLUMNS / DNC_STAGE_COLUMNS), of
        all staged phones or of those at `indices`; `lines` replaces `self.lines`."""
        lines = self.lines if lines is None else lines
        if not lines:
            return self.data
        picked = range(len(lines)) if indices is None else indices
        out: list[str] = []
        for i in picked:
            ref, name, phone, kind, rest = lines[i].split("\t", 4)
            rest = rest.rsplit("\t", 1)[0]  # without consent_marketing
            name = name or NULL
            out.append(
                f"{self.line_numbers[i]}\t{phone}\t{kind}\t{ref}\t{name}\t{rest}\t"
                f"{self.consents[i]}\n"
            )
        return "".join(out).encode()


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(cell: str) -> str | None:
    """A trimmed cell for COPY text format, None when empty."""
    value = cell.strip()
    if not value:
        return None
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_ESCAPED = re.compile(r"\\[\\tnr]")


def _unescape(value: str | None) -> str | None:
    """The cell a `_text` value stands for."""
    if value is None or "\\" not in value:
        return value
    return _ESCAPED.sub(lambda m: _UNESCAPES[m[0]], value)


def _serialise(records: dict[str, list[str | None]]) -> bytes:
    return "".join(
        "\t".join("\\N" if v is None else v for v in rec) + "\n" for rec in records.values()
    ).encode()


def open_import(path: Path, kind: ImportKind) -> tuple[FileInfo, TableFile, dict[Field, int]]:
    table = open_table(path)
    wanted = CUSTOMER_FIELDS if kind is ImportKind.CUSTOMERS else DNC_FIELDS
    columns, unknown = map_headers(table.header, wanted)
    if Field.PHONE not in columns:
        if kind is ImportKind.DNC:
            # A bare list: every line, the first one too, is a number.
            table = TableFile(
                encoding=table.encoding, delimiter=table.delimiter, header=[],
                header_line="", rows=_prepend((1, table.header), table.rows), raw=table.raw,
                text=table.text, size_bytes=table.size_bytes,
            )  # fmt: skip
            columns, unknown = {Field.PHONE: 0}, []
        else:
            table.close()
            raise ImportFailed(
                f"no phone column among {table.header!r} "
                "(expected e.g. 전화번호, 휴대폰, 연락처, phone, mobile)"
            )
    info = FileInfo(
        encoding=table.encoding, delimiter=table.delimiter,
        columns={field.value: index for field, index in columns.items()},
        unknown_columns=unknown, size_bytes=path.stat().st_size,
    )  # fmt: skip
    return info, table, columns


def _prepend(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    if first[1]:
        yield first
    yield from rest


def batches(
    table: TableFile, columns: dict[Field, int], kind: ImportKind, batch_rows: int
) -> Iterator[Batch]:
    if kind is ImportKind.CUSTOMERS:
        return _customer_batches(table, columns, batch_rows)
    return _dnc_batches(table, columns, batch_rows)


def _customer_batches(
    table: TableFile, columns: dict[Field, int], batch_rows: int
) -> Iterator[Batch]:
    # Short rows are padded; a field the file lacks reads the always-empty last cell.
    width = max(len(table.header), max(columns.values(), default=0) + 1) + 1
    missing = width - 1
    at = {field: columns.get(field, missing) for field in Field}
    i_phone, i_name, i_email = at[Field.PHONE], at[Field.NAME], at[Field.EMAIL]
    i_addr, i_zip, i_birth = at[Field.ADDRESS], at[Field.POSTAL_CODE], at[Field.BIRTH_DATE]
    i_gender, i_consent, i_ref = at[Field.GENDER], at[Field.CONSENT], at[Field.EXTERNAL_REF]
    today = dt.datetime.now(KST).date()
    # Cells repeat: each distinct text is read once (dates: ISO text, None if unreadable).
    dates: dict[str, str | None] = {}
    genders: dict[str, str | None] = {}
    flags: dict[str, bool | None] = {}
    seen: set[str] = set()  # every phone of the file so far
    pad = [""] * width

    records: dict[str, list[str | None]] = {}
    refs: dict[str, str] = {}  # external ref -> phone, this batch
    known: list[int] = []  # staged phones first seen in an earlier batch
    issues: list[Issue] = []
    rows = duplicates = invalid = warned = repeats = 0
    has_refs = False
    for line, cells in table.rows:
        if not any(cells):
            continue  # blank line
        cells = cells + pad if len(cells) < width else [*cells[: width - 1], ""]
        rows += 1
        raw_phone = cells[i_phone]
        phone = fast_normalize(raw_phone) or slow_normalize(raw_phone)
        if phone is None:
            invalid += 1
            reason = "invalid phone number" if raw_phone.strip() else "missing phone number"
            issues.append((line, reason, raw_phone))
            continue
        e164 = phone.e164
        reasons: list[str] = []
        bad: list[str] = []

        birth: str | None = None
        raw = cells[i_birth]
        if raw:
            if raw in dates:
                birth = dates[raw]
            else:
                value = parse_date(raw, latest=today)
                birth = dates[raw] = value.isoformat() if value else None
            if birth is None and raw.strip():
                reasons.append("birth date unreadable")
                bad.append(raw)
        gender: str | None = None
        raw = cells[i_gender]
        if raw:
            gender = genders[raw] if raw in genders else genders.setdefault(raw, parse_gender(raw))
            if gender is None and raw.strip():
                reasons.append("gender unreadable")
                bad.append(raw)
        consent: str | None = None
        raw = cells[i_consent]
        if raw:
            flag = flags[raw] if raw in flags else flags.setdefault(raw, parse_consent(raw))
            if flag is None:
                if raw.strip():
                    reasons.append("marketing consent unreadable")
                    bad.append(raw)
            else:
                consent = "t" if flag else "f"
        address = _text(cells[i_addr])
        ref = _text(cells[i_ref])
        if ref is not None:
            owner = refs.get(ref)
            if owner is not None and owner != e164:
                reasons.append("external id already used by another phone in this file")
                bad.append(cells[i_ref])
                ref = None
            else:
                refs[ref] = e164
                has_refs = True
        if reasons:
            warned += 1
            issues.append((line, "; ".join(reasons), "; ".join(bad)))

        record: list[str | None] = [
            str(line), e164, phone.type, ref, _text(cells[i_name]), _text(cells[i_email]),
            address, _text(cells[i_zip]), region_of(address) if address else None,
            birth, gender, consent,
        ]  # fmt: skip
        earlier = records.get(e164)
        if earlier is not None:
            duplicates += 1
            _merge(earlier, record)
        else:
            if e164 in seen:
                duplicates += 1
                repeats += 1
                known.append(len(records))
            else:
                seen.add(e164)
            records[e164] = record
        if rows >= batch_rows:
            yield _customer_batch(
                records, repeats=repeats, rows=rows, duplicates=duplicates, invalid=invalid,
                warned=warned, issues=issues, has_refs=has_refs, position=table.position,
                known=known,
            )  # fmt: skip
            records, refs, issues, known = {}, {}, [], []
            rows = duplicates = invalid = warned = repeats = 0
            has_refs = False
    if rows:
        yield _customer_batch(
            records, repeats=repeats, rows=rows, duplicates=duplicates, invalid=invalid,
            warned=warned, issues=issues, has_refs=has_refs, position=table.position,
            known=known,
        )  # fmt: skip


def _customer_batch(
    records: dict[str, list[str | None]], *, repeats: int, rows: int, duplicates: int,
    invalid: int, warned: int, issues: list[Issue], has_refs: bool, position: int,
    known: list[int],
) -> Batch:  # fmt: skip
    # record: line, phone, type, ref, name, email, address, zip, region, birth, gender, consent
    values = list(records.values())
    lines = [
        f"{r[3] or NULL}\t{r[4] or ''}\t{r[1]}\t{r[2]}\t{r[5] or NULL}\t{r[6] or NULL}\t"
        f"{r[7] or NULL}\t{r[8] or NULL}\t{r[9] or NULL}\t{r[10] or NULL}\t"
        f"{'t' if r[11] == 't' else 'f'}"
        for r in values
    ]
    return Batch(
        staged=len(values), repeats=repeats, rows=rows, duplicates=duplicates, invalid=invalid,
        warned=warned, issues=issues, has_refs=has_refs, position=position, lines=lines,
        phones=list(records), line_numbers=[int(r[0] or 0) for r in values],
        consents=[r[11] or NULL for r in values], refs=[_unescape(r[3]) for r in values],
        known=known,
    )  # fmt: skip


def _merge(earlier: list[str | None], later: list[str | None]) -> None:
    """Fold a repeated phone's later row into the earlier one: non-empty cells win."""
    if later[3] is not None:
        earlier[0] = later[0]  # the line that set the external id, for warnings
    for i in range(3, len(later)):
        if later[i] is not None:
            earlier[i] = later[i]
    if later[6] is not None:
        earlier[8] = later[8]  # the region follows the address


def _dnc_batches(table: TableFile, columns: dict[Field, int], batch_rows: int) -> Iterator[Batch]:
    # Short rows are padded; a field the file lacks reads the always-empty last cell.
    width = max(len(table.header), max(columns.values(), default=0) + 1) + 1
    i_phone = columns[Field.PHONE]
    i_date = columns.get(Field.REGISTERED_ON, width - 1)
    today = dt.datetime.now(KST).date()
    pad = [""] * width
    seen: set[str] = set()
    records: dict[str, list[str | None]] = {}
    issues: list[Issue] = []
    rows = duplicates = invalid = warned = repeats = 0
    for line, cells in table.rows:
        if not any(cells):
            continue  # blank line
        cells = cells + pad if len(cells) < width else [*cells[: width - 1], ""]
        rows += 1
        raw_phone = cells[i_phone]
        phone = fast_normalize(raw_phone) or slow_normalize(raw_phone)
        if phone is None:
            invalid += 1
            reason = "invalid phone number" if raw_phone.strip() else "missing phone number"
            issues.append((line, reason, raw_phone))
            continue
        registered: str | None = None
        raw = cells[i_date]
        if raw.strip():
            value = parse_date(raw, latest=today)
            if value is None:
                warned += 1
                issues.append((line, "registration date unreadable", raw))
            else:
                registered = value.isoformat()
        e164 = phone.e164
        earlier = records.get(e164)
        if earlier is not None:
            duplicates += 1
            if registered is not None:
                earlier[2] = registered
        else:
            if e164 in seen:
                duplicates += 1
                repeats += 1
            else:
                seen.add(e164)
            records[e164] = [str(line), e164, registered]
        if rows >= batch_rows:
            yield Batch(
                data=_serialise(records), staged=len(records), repeats=repeats, rows=rows,
                duplicates=duplicates, invalid=invalid, warned=warned, issues=issues,
                has_refs=False, position=table.position,
            )  # fmt: skip
            records, issues = {}, []
            rows = duplicates = invalid = warned = repeats = 0
    if rows:
        yield Batch(
            data=_serialise(records), staged=len(records), repeats=repeats, rows=rows,
            duplicates=duplicates, invalid=invalid, warned=warned, issues=issues,
            has_refs=False, position=table.position,
        )  # fmt: skip
