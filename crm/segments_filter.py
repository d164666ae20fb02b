"""The segment filter language: a JSON document parsed into a tree and compiled to SQL.

    {"all": [{"field": "region", "op": "in", "value": ["서울", "부산"]},
             {"not": {"field": "do_not_call", "op": "eq", "value": true}},
             {"any": [{"field": "rfm_r", "op": "gte", "value": 4},
                      {"field": "bought_category", "op": "in", "value": ["health"],
                       "within_days": 90}]}]}

Field and operator names come from the fixed tables below; every value becomes a bind
parameter, so user text never becomes SQL. Errors name the path inside the document
(`filter.all.2.value`). Pure code: no database here. See docs/segments.md.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from crm.errors import SegmentFilterError

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST_ITEMS = 1000
MAX_DAYS = 36500


class Kind(enum.Enum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"


SCALAR_OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte"})
LIST_OPS = frozenset({"in", "not_in"})
NUMERIC_OPS = SCALAR_OPS | LIST_OPS | {"between"}
TEXT_OPS = frozenset({"eq", "ne", "in", "not_in"})
BOOL_OPS = frozenset({"eq"})
PURCHASE_OPS = frozenset({"in", "not_in"})
CONTACT_OPS = frozenset({"within_days", "not_within_days"})

# (lowest age, highest age) of each band, inclusive.
AGE_BANDS: Mapping[str, tuple[int, int]] = {
    "under_20": (0, 19), "20s": (20, 29), "30s": (30, 39), "40s": (40, 49),
    "50s": (50, 59), "60s": (60, 69), "70_plus": (70, 200),
}  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FieldSpec:
    kind: Kind
    ops: frozenset[str]
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    stats: bool = False  # reads the purchase summary (RFM refresh)


FIELDS: Mapping[str, FieldSpec] = {
    "region": FieldSpec(kind=Kind.TEXT, ops=TEXT_OPS),
    "gender": FieldSpec(kind=Kind.TEXT, ops=TEXT_OPS, choices=("M", "F")),
    "age": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=0, high=200),
    "age_band": FieldSpec(kind=Kind.TEXT, ops=TEXT_OPS, choices=tuple(AGE_BANDS)),
    "consent_marketing": FieldSpec(kind=Kind.BOOL, ops=BOOL_OPS),
    "consent_night": FieldSpec(kind=Kind.BOOL, ops=BOOL_OPS),
    "do_not_call": FieldSpec(kind=Kind.BOOL, ops=BOOL_OPS),
    "rfm_r": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=1, high=5, stats=True),
    "rfm_f": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=1, high=5, stats=True),
    "rfm_m": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=1, high=5, stats=True),
    "days_since_last_purchase": FieldSpec(
        kind=Kind.INT, ops=NUMERIC_OPS, low=0, high=MAX_DAYS, stats=True),
    "order_count": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=0, high=10**6, stats=True),
    "total_spend": FieldSpec(kind=Kind.INT, ops=NUMERIC_OPS, low=0, high=10**15, stats=True),
    "bought_product": FieldSpec(kind=Kind.TEXT, ops=PURCHASE_OPS),
    "bought_category": FieldSpec(kind=Kind.TEXT, ops=PURCHASE_OPS),
    "contacted": FieldSpec(kind=Kind.INT, ops=CONTACT_OPS, low=1, high=MAX_DAYS),
    "last_disposition": FieldSpec(kind=Kind.TEXT, ops=TEXT_OPS),
}  # fmt: skip

_ADAPTERS: Mapping[Kind, TypeAdapter[Any]] = {
    Kind.TEXT: TypeAdapter(str), Kind.INT: TypeAdapter(int), Kind.BOOL: TypeAdapter(bool),
}


# --- the tree ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Condition:
    field: str
    op: str
    value: Any
    within_days: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Group:
    op: Literal["all", "any"]
    children: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Not:
    child: Node


Node = Condition | Group | Not


class _ConditionShape(BaseModel):
    """What a condition object may hold; the value is checked per field below."""

    model_config = ConfigDict(extra="forbid", strict=True)
    field: str
    op: str
    value: Any = None
    within_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)


def _pydantic_error(path: str, exc: ValidationError) -> SegmentFilterError:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    return SegmentFilterError(f"{path}.{loc}" if loc else path, first["msg"])


def _scalar(spec: FieldSpec, raw: Any, path: str) -> Any:
    adapter = _ADAPTERS[spec.kind]
    try:
        value = adapter.validate_python(raw, strict=True)
    except ValidationError as exc:
        raise _pydantic_error(path, exc) from None
    if spec.kind is Kind.TEXT:
        if not value or len(value) > 200:
            raise SegmentFilterError(path, "text must have 1 to 200 characters")
        if spec.choices and value not in spec.choices:
            raise SegmentFilterError(path, f"must be one of {', '.join(spec.choices)}")
    if spec.kind is Kind.INT:
        if spec.low is not None and value < spec.low:
            raise SegmentFilterError(path, f"must be at least {spec.low}")
        if spec.high is not None and value > spec.high:
            raise SegmentFilterError(path, f"must be at most {spec.high}")
    return value


def _value(spec: FieldSpec, op: str, raw: Any, path: str) -> Any:
    if op in LIST_OPS:
        if not isinstance(raw, list) or not raw:
            raise SegmentFilterError(path, "must be a non-empty list")
        if len(raw) > MAX_LIST_ITEMS:
            raise SegmentFilterError(path, f"at most {MAX_LIST_ITEMS} items")
        return tuple(_scalar(spec, item, f"{path}.{i}") for i, item in enumerate(raw))
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise SegmentFilterError(path, "must be a list [low, high]")
        low, high = (_scalar(spec, item, f"{path}.{i}") for i, item in enumerate(raw))
        if low > high:
            raise SegmentFilterError(path, "low is above high")
        return (low, high)
    return _scalar(spec, raw, path)


def _condition(doc: dict[str, Any], path: str) -> Condition:
    try:
        shape = _ConditionShape.model_validate(doc)
    except ValidationError as exc:
        raise _pydantic_error(path, exc) from None
    spec = FIELDS.get(shape.field)
    if spec is None:
        raise SegmentFilterError(f"{path}.field", f"unknown field {shape.field!r}")
    if shape.op not in spec.ops:
        raise SegmentFilterError(
            f"{path}.op", f"{shape.field} takes {', '.join(sorted(spec.ops))}, not {shape.op!r}"
        )
    if shape.within_days is not None and shape.field not in ("bought_product", "bought_category"):
        raise SegmentFilterError(f"{path}.within_days", "only bought_* conditions take it")
    value = _value(spec, shape.op, shape.value, f"{path}.value")
    return Condition(field=shape.field, op=shape.op, value=value, within_days=shape.within_days)


def parse_filter(doc: Any, path: str = "filter") -> Node:
    """Check a filter document and return its tree; `SegmentFilterError` names the path."""
    counter = [0]
    return _parse(doc, path, 0, counter)


def _parse(doc: Any, path: str, depth: int, counter: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise SegmentFilterError(path, f"groups nest deeper than {MAX_DEPTH}")
    if not isinstance(doc, dict):
        raise SegmentFilterError(path, "must be an object: a group or a condition")
    if "field" in doc:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise SegmentFilterError(path, f"more than {MAX_CONDITIONS} conditions")
        return _condition(doc, path)
    if len(doc) != 1:
        raise SegmentFilterError(path, 'a group has exactly one key: "all", "any" or "not"')
    (key, body), = doc.items()
    if key == "not":
        return Not(child=_parse(body, f"{path}.not", depth + 1, counter))
    if key in ("all", "any"):
        if not isinstance(body, list):
            raise SegmentFilterError(f"{path}.{key}", "must be a list")
        children = tuple(
            _parse(item, f"{path}.{key}.{i}", depth + 1, counter) for i, item in enumerate(body)
        )
        return Group(op=key, children=children)
    raise SegmentFilterError(f"{path}.{key}", f"unknown key {key!r}: use all, any, not or field")


# --- compiling --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CompiledFilter:
    """A WHERE expression over `customer_facts c` (one narrow row per customer: its
    filterable columns and purchase summary; `uses_stats`: the filter reads the summary)."""

    where: str
    params: tuple[Any, ...]
    uses_stats: bool

    @property
    def from_clause(self) -> str:
        return "customer_facts c"


_CMP = {"eq": "=", "ne": "IS DISTINCT FROM", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_CAST = {Kind.TEXT: "text", Kind.INT: "bigint", Kind.BOOL: "boolean"}
_COLUMN = {
    "region": "c.region", "gender": "c.gender::text", "rfm_r": "c.rfm_r", "rfm_f": "c.rfm_f",
    "rfm_m": "c.rfm_m", "order_count": "c.order_count", "total_spend": "c.total_spend_krw",
}  # fmt: skip
_COUNTED = "o.status NOT IN ('cancelled', 'expired') AND ol.qty > ol.cancelled_qty"
# Orders placed or changed after the product summary's refresh (a few hours' worth at most).
_CHANGED_ORDERS = (
    "SELECT d.customer_id FROM orders d WHERE d.placed_at >= crm_purchases_settled_until()"
    " OR d.updated_at >= crm_purchases_settled_until()"
)
# "Bought" is the summary's answer for customers whose orders did not change since its
# refresh, and the live orders' answer for the few whose orders did: exact either way.
_BOUGHT = (
    "EXISTS (SELECT 1 FROM ("
    "SELECT pp.customer_id FROM customer_product_purchases pp"
    " WHERE pp.product_id IN (SELECT p.id FROM products p WHERE {match}){summary_within}"
    " AND pp.customer_id NOT IN (" + _CHANGED_ORDERS + ")"
    " UNION ALL "
    "SELECT o.customer_id FROM orders o JOIN order_lines ol ON ol.order_id = o.id"
    " JOIN skus k ON k.id = ol.sku_id JOIN products p ON p.id = k.product_id"
    " WHERE o.customer_id IN (" + _CHANGED_ORDERS + ") AND " + _COUNTED + " AND {match}"
    "{live_within}) b WHERE b.customer_id = c.id)"
)


_NEVER_NULL_FIELDS = frozenset({
    "consent_marketing", "consent_night", "do_not_call", "order_count", "total_spend",
    "bought_product", "bought_category", "contacted", "last_disposition",
})  # fmt: skip


def _never_null(node: Node) -> bool:
    """Whether the compiled test is always true or false, never NULL."""
    if isinstance(node, Condition):
        return node.field in _NEVER_NULL_FIELDS or node.op in ("ne", "not_in")
    if isinstance(node, Not):
        return True  # compiled with COALESCE when needed
    return all(_never_null(child) for child in node.children)


class _Compiler:
    def __init__(self, first_param: int) -> None:
        self.params: list[Any] = []
        self.first = first_param
        self.uses_stats = False

    def bind(self, value: Any, cast: str) -> str:
        self.params.append(list(value) if isinstance(value, tuple) else value)
        return f"${self.first + len(self.params) - 1}::{cast}"

    def node(self, node: Node) -> str:
        if isinstance(node, Group):
            if not node.children:
                return "TRUE" if node.op == "all" else "FALSE"
            joiner = " AND " if node.op == "all" else " OR "
            return "(" + joiner.join(self.node(child) for child in node.children) + ")"
        if isinstance(node, Not):
            inner = self.node(node.child)
            # NOT of a never-NULL test (EXISTS, flags) stays plain so PostgreSQL can plan an
            # anti-join; a test that may be NULL (unknown region) counts as false first.
            if _never_null(node.child):
                return f"(NOT {inner})"
            return f"(NOT COALESCE({inner}, false))"
        return self.condition(node)

    def condition(self, cond: Condition) -> str:
        spec = FIELDS[cond.field]
        self.uses_stats = self.uses_stats or spec.stats
        special: dict[str, Callable[[Condition], str]] = {
            "age": self.age, "age_band": self.age_band, "consent_marketing": self.flag,
            "consent_night": self.flag, "do_not_call": self.dnc,
            "days_since_last_purchase": self.days_since, "bought_product": self.bought,
            "bought_category": self.bought, "contacted": self.contacted,
            "last_disposition": self.last_disposition,
        }  # fmt: skip
        if cond.field in special:
            return special[cond.field](cond)
        return self.compare(_COLUMN[cond.field], cond.op, cond.value, _CAST[spec.kind])

    def compare(self, column: str, op: str, value: Any, cast: str) -> str:
        if op in _CMP:
            return f"({column} {_CMP[op]} {self.bind(value, cast)})"
        if op == "in":
            return f"({column} = ANY({self.bind(value, cast + '[]')}))"
        if op == "not_in":
            return f"(NOT COALESCE({column} = ANY({self.bind(value, cast + '[]')}), false))"
        low, high = value  # between
        return f"({column} BETWEEN {self.bind(low, cast)} AND {self.bind(high, cast)})"

    def flag(self, cond: Condition) -> str:
        return f"(c.{cond.field} = {self.bind(cond.value, 'boolean')})"

    def dnc(self, cond: Condition) -> str:
        # Kept in step with do_not_call (any list) by triggers (crm/migrations/0033).
        return f"(c.dnc = {self.bind(cond.value, 'boolean')})"

    # Ages and day counts compile to ranges on the stored timestamp so indexes apply.
    def _age_range(self, low: int | None, high: int | None) -> str:
        parts = []
        if low is not None:  # age >= low: born on or before today - low years
            parts.append(
                f"c.birth_date <= (current_date - make_interval(years => {self.bind(low, 'int')}))"
            )
        if high is not None:  # age <= high: born after today - (high + 1) years
            parts.append(
                "c.birth_date > (current_date - make_interval(years => "
                f"{self.bind(high + 1, 'int')}))"
            )
        return "(" + " AND ".join(parts) + ")"

    def _int_ranges(self, op: str, value: Any) -> list[tuple[int | None, int | None]]:
        """The integer op as ranges [low, high] (None = open) that are OR-ed."""
        if op == "eq":
            return [(value, value)]
        if op == "in":
            return [(v, v) for v in value]
        if op == "between":
            return [value]
        return {"gt": [(value + 1, None)], "gte": [(value, None)],
                "lt": [(None, value - 1)], "lte": [(None, value)]}[op]  # fmt: skip

    def _ranged(self, op: str, value: Any, one: Callable[[int | None, int | None], str]) -> str:
        if op in ("ne", "not_in"):
            positive = self._ranged("eq" if op == "ne" else "in", value, one)
            return f"(NOT COALESCE({positive}, false))"
        ranges = self._int_ranges(op, value)
        return "(" + " OR ".join(one(low, high) for low, high in ranges) + ")"

    def age(self, cond: Condition) -> str:
        return self._ranged(cond.op, cond.value, self._age_range)

    def age_band(self, cond: Condition) -> str:
        bands = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        ranges = [AGE_BANDS[b] for b in bands]
        positive = "(" + " OR ".join(self._age_range(lo, hi) for lo, hi in ranges) + ")"
        if cond.op in ("ne", "not_in"):
            return f"(NOT COALESCE({positive}, false))"
        return positive

    def _days_range(self, low: int | None, high: int | None) -> str:
        parts = []
        if low is not None:  # at least `low` whole days ago
            parts.append(
                f"c.last_purchase_at <= now() - make_interval(days => {self.bind(low, 'int')})"
            )
        if high is not None:  # fewer than high + 1 days ago
            days = self.bind(high + 1, "int")
            parts.append(f"c.last_purchase_at > now() - make_interval(days => {days})")
        return "(" + " AND ".join(parts) + ")"

    def days_since(self, cond: Condition) -> str:
        return self._ranged(cond.op, cond.value, self._days_range)

    def bought(self, cond: Condition) -> str:
        summary_within = live_within = ""
        if cond.within_days is not None:
            days = self.bind(cond.within_days, "int")
            summary_within = f" AND pp.last_at >= now() - make_interval(days => {days})"
            live_within = f" AND o.placed_at >= now() - make_interval(days => {days})"
        column = "p.code" if cond.field == "bought_product" else "p.category"
        match = f"{column} = ANY({self.bind(cond.value, 'text[]')})"
        exists = _BOUGHT.format(
            match=match, summary_within=summary_within, live_within=live_within
        )
        return exists if cond.op == "in" else f"(NOT {exists})"

    # The latest attempt with a disposition, and the latest attempt, are kept in
    # customer_facts by a trigger on contact_attempts (crm/migrations/0033).
    def last_disposition(self, cond: Condition) -> str:
        values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        # No disposition yet: not "in" any set, so "not_in" / "ne" hold.
        positive = f"COALESCE(c.last_disposition = ANY({self.bind(values, 'text[]')}), false)"
        return f"({positive})" if cond.op in ("eq", "in") else f"(NOT {positive})"

    def contacted(self, cond: Condition) -> str:
        days = self.bind(cond.value, "int")
        positive = f"COALESCE(c.last_contacted_at >= now() - make_interval(days => {days}), false)"
        return f"({positive})" if cond.op == "within_days" else f"(NOT {positive})"


def compile_filter(node: Node, *, first_param: int = 1) -> CompiledFilter:
    """SQL for the tree; parameters are numbered from `first_param`."""
    compiler = _Compiler(first_param)
    where = compiler.node(node)
    return CompiledFilter(
        where=where, params=tuple(compiler.params), uses_stats=compiler.uses_stats
    )


def referenced_fields(node: Node) -> set[str]:
    if isinstance(node, Condition):
        return {node.field}
    if isinstance(node, Not):
        return referenced_fields(node.child)
    return set().union(*(referenced_fields(c) for c in node.children)) if node.children else set()
