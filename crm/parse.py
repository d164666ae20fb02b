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
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, repeat
from operator import and_, is_, itemgetter, ne, not_, truth
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from crm.errors import ImportFailed
from crm.fields import Field, map_headers, parse_consent, parse_date, parse_gender, region_of
from crm.phones import fast_e164s, fast_normalize, slow_normalize
from crm.reader import TableFile, open_table

DEFAULT_BATCH_ROWS = 25_000
# The first batch of a big import is small, so the database starts writing while the
# parser reads on (a full first batch kept it idle for ~0.2 s).
FIRST_BATCH_ROWS = 2_500
KST = ZoneInfo("Asia/Seoul")
# (line number, reason, original cell): one per rejected or warned row.
Issue = tuple[int, str, str]
T = TypeVar("T")


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
    the importer appends its id and source; `line_numbers` and `consents` (t, f or \\N) run
    in step. Do-not-call: `data` is the staging COPY text.
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
    known: list[int] = field(default_factory=list)  # indices of the `repeats`
    # A new phone's external id is one the batch before used: this batch is written after
    # that one commits, not beside it (crm/importer.py may write two batches at once).
    overlaps_previous: bool = True
    # A phone or an external id of this batch is also in the batch before: the phones that
    # already exist are merged only after that batch commits (else at once, beside it).
    touches_previous: bool = True

    @property
    def refs(self) -> list[str | None]:
        """Each staged phone's external id (the first cell of its line), None if none."""
        return [_unescape(line[: line.index("\t")]) for line in self.lines]

    # Batches cross a pipe from the parser process: a list of 25,000 strings pickles and
    # unpickles at ~0.1 µs per string, so the per-phone lists travel as one string each.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["lines"] = "\n".join(self.lines)
        state["phones"] = "\n".join(self.phones)
        state["consents"] = "".join(map(_CONSENT_CODES.__getitem__, self.consents))
        state["line_numbers"] = array("q", self.line_numbers)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["lines"] = state["lines"].split("\n") if state["lines"] else []
        state["phones"] = state["phones"].split("\n") if state["phones"] else []
        state["consents"] = list(map(_CONSENT_VALUES.__getitem__, state["consents"]))
        state["line_numbers"] = state["line_numbers"].tolist()
        self.__dict__.update(state)

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
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_ESCAPED = re.compile(r"\\[\\tnr]")
_CONSENT_CODES = {"t": "t", "f": "f", NULL: "n"}
_CONSENT_VALUES = {code: value for value, code in _CONSENT_CODES.items()}


def _unescape(value: str) -> str | None:
    """The cell a COPY text value stands for (None for \\N)."""
    if value == NULL:
        return None
    if "\\" not in value:
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
                header_line="", rows=table.rows.with_first((1, table.header)), raw=table.raw,
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


def batches(
    table: TableFile, columns: dict[Field, int], kind: ImportKind, batch_rows: int
) -> Iterator[Batch]:
    if kind is ImportKind.CUSTOMERS:
        return _customer_batches(table, columns, batch_rows)
    return _dnc_batches(table, columns, batch_rows)


_UNSEEN: Any = object()


class _Column(Generic[T]):
    """Parses one optional column. Cells repeat (dates, 남/여, Y/N), so each distinct text is
    parsed once; `unreadable` holds the non-blank texts that gave None."""

    MAX_REMEMBERED = 100_000  # a column of all-distinct junk must not grow without bound

    def __init__(self, parse: Callable[[str], T | None]) -> None:
        self.parse = parse
        self.values: dict[str, T | None] = {"": None}
        self.unreadable: set[str] = set()

    def read(self, cells: Sequence[str]) -> list[T | None]:
        values = self.values
        out = list(map(values.get, cells, repeat(_UNSEEN)))
        if _UNSEEN not in out:
            return out  # the usual case once the first rows have shown every value
        new = set(compress(cells, map(is_, out, repeat(_UNSEEN))))
        if len(values) + len(new) > self.MAX_REMEMBERED:
            values.clear()
            values[""] = None
            self.unreadable.clear()
            new = set(cells)
        for text in new:
            value = values[text] = self.parse(text)
            if value is None and text.strip():
                self.unreadable.add(text)
        return list(map(values.__getitem__, cells))

    def unreadable_at(self, cells: Sequence[str]) -> list[int]:
        bad = self.unreadable
        if not bad or bad.isdisjoint(cells):
            return []
        return list(compress(range(len(cells)), map(bad.__contains__, cells)))


def _customer_batches(
    table: TableFile, columns: dict[Field, int], batch_rows: int
) -> Iterator[Batch]:
    # Column-wise: a batch's cells are pulled out one column at a time and each column is
    # read with C-level loops (map, set, dict); only repeated phones, shared external ids and
    # warnings take a Python loop, over just those rows. ~2x faster than a loop per row.
    today = dt.datetime.now(KST).date()
    state = _CustomerState(
        columns=columns,
        width=max(columns.values()) + 1,
        dates=_Column(lambda text: _iso(parse_date(text, latest=today))),
        genders=_Column(parse_gender),
        consents=_Column(lambda text: _flag(parse_consent(text))),
    )  # fmt: skip
    size = min(batch_rows, FIRST_BATCH_ROWS)
    while True:
        lines, rows = table.rows.chunk(size)
        size = batch_rows
        if not rows:
            return
        filled = list(map(any, rows))  # blank lines are not rows
        if not all(filled):
            lines, rows = list(compress(lines, filled)), list(compress(rows, filled))
        if rows:
            yield _with_notes(table, _customer_batch(state, lines, rows,
                                                     position=table.position))  # fmt: skip


def _with_notes(table: TableFile, batch: Batch) -> Batch:
    """The batch with the reader's notes on its lines (text in another encoding)."""
    notes = table.notes
    if not notes:
        return batch
    issues = sorted([*batch.issues, *notes], key=itemgetter(0))
    found = len(notes)
    notes.clear()
    return replace(batch, issues=issues, warned=batch.warned + found)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _flag(value: bool | None) -> str | None:
    return None if value is None else "t" if value else "f"


@dataclass(kw_only=True)
class _CustomerState:
    """What the batches of one file share."""

    columns: dict[Field, int]
    width: int  # cells a row needs for every mapped column
    dates: _Column[str]
    genders: _Column[str]
    consents: _Column[str]
    # Every valid phone of the file so far, and the line it was first on.
    seen: dict[str, int] = field(default_factory=dict)
    previous_refs: set[str] = field(default_factory=set)  # the previous batch's external ids
    previous_phones: set[str] = field(default_factory=set)  # and its phones


# Columns merged when a phone repeats in a batch: later non-empty cells win.
_MERGED = ("ref", "name", "email", "address", "postal_code", "birth", "gender", "consent")


def _customer_batch(
    state: _CustomerState, lines: list[int], rows: list[list[str]], *, position: int
) -> Batch:
    rows_read = len(rows)
    width = state.width
    if min(map(len, rows)) < width:
        rows = [r if len(r) >= width else r + [""] * (width - len(r)) for r in rows]

    # One pass over the rows picks every mapped column (rows are scattered in memory).
    fields = list(state.columns)
    picker = itemgetter(*(state.columns[f] for f in fields))
    picked = zip(*map(picker, rows), strict=True) if len(fields) > 1 else [list(map(picker, rows))]
    by_field: dict[Field, Sequence[str]] = dict(zip(fields, picked, strict=True))

    # Phones first: rows without a valid one are reported and dropped.
    raw_phones = by_field[Field.PHONE]
    phones = fast_e164s(raw_phones)
    types = ["mobile"] * len(rows)
    issues: list[Issue] = []
    rejected: list[int] = []
    for i in [i for i, e164 in enumerate(phones) if e164 is None]:
        raw = raw_phones[i]
        phone = slow_normalize(raw)
        if phone is None:
            reason = "invalid phone number" if raw.strip() else "missing phone number"
            issues.append((lines[i], reason, raw))
            rejected.append(i)
        else:
            phones[i], types[i] = phone.e164, phone.type
    valid = list(map(truth, phones)) if rejected else None

    def column(name: Field) -> list[str]:
        """The column's cells of the rows kept."""
        cells = by_field.get(name)
        if cells is None:
            return [""] * (len(rows) - len(rejected))
        return list(cells if valid is None else compress(cells, valid))

    lines = lines if valid is None else list(compress(lines, valid))
    types = types if valid is None else list(compress(types, valid))
    # None was only in rejected rows.
    e164s = cast(list[str], phones if valid is None else list(compress(phones, valid)))

    raw_birth = column(Field.BIRTH_DATE)
    raw_gender = column(Field.GENDER)
    raw_consent = column(Field.CONSENT)
    cells: dict[str, list[Any]] = {
        "ref": list(map(str.strip, column(Field.EXTERNAL_REF))),
        "name": list(map(str.strip, column(Field.NAME))),
        "email": list(map(str.strip, column(Field.EMAIL))),
        "address": list(map(str.strip, column(Field.ADDRESS))),
        "postal_code": list(map(str.strip, column(Field.POSTAL_CODE))),
        "birth": state.dates.read(raw_birth),
        "gender": state.genders.read(raw_gender),
        "consent": state.consents.read(raw_consent),
    }
    cells["region"] = list(map(region_of, cells["address"]))
    cells["type"] = types

    # Warnings, in the order of the row's cells; an unreadable value is left empty.
    reasons: dict[int, list[tuple[str, str]]] = {}
    for what, texts, col in (
        ("birth date unreadable", raw_birth, state.dates),
        ("gender unreadable", raw_gender, state.genders),
        ("marketing consent unreadable", raw_consent, state.consents),
    ):
        for i in col.unreadable_at(texts):
            reasons.setdefault(i, []).append((what, texts[i]))
    # An external id given to two phones in the batch stays with the first.
    refs = cells["ref"]
    owner = dict(zip(reversed(refs), reversed(e164s), strict=True))  # first row wins
    if len(owner) < len(refs):  # some external id (or none, "") repeats
        differs = map(ne, map(owner.get, refs), e164s)
        for i in list(compress(range(len(refs)), map(and_, differs, map(bool, refs)))):
            reasons.setdefault(i, []).append(
                ("external id already used by another phone in this file", refs[i])
            )
            refs[i] = ""
    warned = len(reasons)  # rows with a warning; the notes below are not warnings
    # A phone repeated in the batch: fold later rows into the first, non-empty cells win.
    first = dict(zip(reversed(e164s), reversed(range(len(e164s))), strict=True))
    seen = state.seen
    raw_kept = column(Field.PHONE)
    if len(first) < len(e164s):
        for j in [j for j, e164 in enumerate(e164s) if first[e164] != j]:
            reasons.setdefault(j, []).append(
                (f"duplicate phone: merged into line {lines[first[e164s[j]]]}", raw_kept[j]))
    if not seen.keys().isdisjoint(first):
        for e164 in seen.keys() & first.keys():
            j = first[e164]
            reasons.setdefault(j, []).append(
                (f"duplicate phone: merged into line {seen[e164]}", raw_kept[j]))
    names = cells["name"]
    if not all(names):
        named = set(compress(e164s, names))  # a later row of the phone may bring the name
        for j in set(compress(first.values(), map(not_, map(names.__getitem__,
                                                            first.values())))):  # fmt: skip
            if e164s[j] not in named and e164s[j] not in seen:
                reasons.setdefault(j, []).append(("name missing", ""))
    for i in sorted(reasons):
        found = reasons[i]
        issues.append((lines[i], "; ".join(r for r, _ in found), "; ".join(v for _, v in found)))
    issues.sort(key=itemgetter(0))

    if len(first) < len(e164s):
        for j in [j for j, e164 in enumerate(e164s) if first[e164] != j]:
            _merge_row(cells, lines, first[e164s[j]], j)
        staged = sorted(first.values())
        duplicates = len(e164s) - len(staged)
    else:
        staged = list(range(len(e164s)))
        duplicates = 0
    phones_out = [e164s[i] for i in staged] if duplicates else e164s
    old = seen.keys() & set(phones_out)  # phones first seen in an earlier batch
    known = list(compress(range(len(phones_out)), map(old.__contains__, phones_out)))
    lines_out = [lines[i] for i in staged] if duplicates else lines
    fresh = dict(zip(phones_out, lines_out, strict=True))  # C-level; the earliest line stays
    for e164 in old:
        del fresh[e164]
    seen.update(fresh)
    # New phones are written at once, so only their external ids can clash with the batch
    # before's; phones that exist are merged at once too unless the batch before has one of
    # them or of their external ids. (Each external id left in `refs` now belongs to its
    # `owner` phone.)
    batch_refs = set(refs)
    batch_refs.discard("")
    shared_refs = state.previous_refs & batch_refs
    overlaps = any(owner[ref] not in old for ref in shared_refs)
    touches = bool(shared_refs) or not state.previous_phones.isdisjoint(phones_out)
    state.previous_refs, state.previous_phones = batch_refs, set(phones_out)

    # Every valid row's COPY line, then the staged ones: one gather instead of one per column.
    refs_text = _copy_text(refs)
    copy_lines = list(map("\t".join, zip(
        refs_text, _copy_text(cells["name"], empty=""), e164s, types,
        _copy_text(cells["email"]), _copy_text(cells["address"]),
        _copy_text(cells["postal_code"]), _nulls(cells["region"]), _nulls(cells["birth"]),
        _nulls(cells["gender"]), ["t" if c == "t" else "f" for c in cells["consent"]],
        strict=True,
    )))  # fmt: skip
    consents = cells["consent"]
    if duplicates:
        copy_lines = [copy_lines[i] for i in staged]
        lines = [lines[i] for i in staged]
        consents = [consents[i] for i in staged]
        refs = [refs[i] for i in staged]
    return Batch(
        staged=len(staged), repeats=len(known), rows=rows_read, invalid=len(rejected),
        duplicates=duplicates + len(known), warned=warned, issues=issues,
        has_refs=any(refs), position=position, lines=copy_lines, phones=phones_out,
        line_numbers=lines, consents=_nulls(consents), known=known, overlaps_previous=overlaps,
        touches_previous=touches,
    )  # fmt: skip


def _merge_row(cells: dict[str, list[Any]], lines: list[int], into: int, row: int) -> None:
    """Fold row `row` into the earlier row `into` of the same phone: non-empty cells win."""
    for name in _MERGED:
        value = cells[name][row]
        if value:
            cells[name][into] = value
    if cells["ref"][row]:
        lines[into] = lines[row]  # the line that set the external id, for warnings
    if cells["address"][row]:
        cells["region"][into] = cells["region"][row]  # the region follows the address


_SPECIALS = re.compile(r"[\\\t\n\r]")


def _copy_text(values: list[str], *, empty: str = NULL) -> list[str]:
    """Stripped cells as COPY text: escaped, and `empty` (NULL) for an empty cell."""
    if _SPECIALS.search("".join(values)):
        values = [v.translate(_ESCAPES) for v in values]
    return list(map({"": empty}.get, values, values))


_NULL_FOR_NONE = {None: NULL}


def _nulls(values: list[str | None]) -> list[str]:
    """None as NULL, other values as they are (dict.get(v, v): a C-level pass)."""
    return list(map(_NULL_FOR_NONE.get, values, values))  # type: ignore[arg-type]


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
            yield _with_notes(table, Batch(
                data=_serialise(records), staged=len(records), repeats=repeats, rows=rows,
                duplicates=duplicates, invalid=invalid, warned=warned, issues=issues,
                has_refs=False, position=table.position,
            ))  # fmt: skip
            records, issues = {}, []
            rows = duplicates = invalid = warned = repeats = 0
    if rows:
        yield _with_notes(table, Batch(
            data=_serialise(records), staged=len(records), repeats=repeats, rows=rows,
            duplicates=duplicates, invalid=invalid, warned=warned, issues=issues,
            has_refs=False, position=table.position,
        ))  # fmt: skip
