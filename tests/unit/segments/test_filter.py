"""The filter language without a database: parsing, error paths, compiled SQL shape."""

from __future__ import annotations

from typing import Any

import pytest

from crm.errors import SegmentFilterError
from crm.segments_filter import (
    MAX_DEPTH,
    Condition,
    Group,
    Not,
    compile_filter,
    parse_filter,
    referenced_fields,
)


def test_parse_builds_the_tree() -> None:
    tree = parse_filter({"all": [
        {"field": "region", "op": "in", "value": ["서울"]},
        {"not": {"field": "rfm_r", "op": "between", "value": [1, 2]}},
    ]})  # fmt: skip
    assert tree == Group(op="all", children=(
        Condition(field="region", op="in", value=("서울",)),
        Not(child=Condition(field="rfm_r", op="between", value=(1, 2))),
    ))  # fmt: skip
    assert referenced_fields(tree) == {"region", "rfm_r"}


@pytest.mark.parametrize(("doc", "path"), [
    ([], "filter"),
    ({"all": {}}, "filter.all"),
    ({"all": [], "any": []}, "filter"),
    ({"field": "age", "op": "gte"}, "filter.value"),  # null is not an integer
    ({"field": "age", "op": "gte", "value": True}, "filter.value"),  # bool is not an int
    ({"field": "age", "op": "gte", "value": 1.5}, "filter.value"),
    ({"field": "rfm_m", "op": "eq", "value": 0}, "filter.value"),
    ({"field": "rfm_m", "op": "between", "value": [4, 2]}, "filter.value"),
    ({"field": "rfm_m", "op": "between", "value": [1]}, "filter.value"),
    ({"field": "region", "op": "in", "value": []}, "filter.value"),
    ({"field": "region", "op": "in", "value": ["a", 3]}, "filter.value.1"),
    ({"field": "region", "op": "eq", "value": ""}, "filter.value"),
    ({"field": "gender", "op": "eq", "value": "X"}, "filter.value"),
    ({"field": "age_band", "op": "in", "value": ["20s", "teen"]}, "filter.value.1"),
    ({"field": "contacted", "op": "eq", "value": 3}, "filter.op"),
    ({"field": 7, "op": "eq", "value": 3}, "filter.field"),
    ({"any": [{"not": {"field": "region", "op": "eq", "value": "x", "or": 1}}]},
     "filter.any.0.not.or"),
])  # fmt: skip
def test_errors_name_the_path(doc: Any, path: str) -> None:
    with pytest.raises(SegmentFilterError) as caught:
        parse_filter(doc)
    assert caught.value.path == path


def test_depth_and_size_are_bounded() -> None:
    doc: dict[str, Any] = {"field": "region", "op": "eq", "value": "x"}
    for _ in range(MAX_DEPTH + 1):
        doc = {"not": doc}
    with pytest.raises(SegmentFilterError, match="deeper"):
        parse_filter(doc)
    many = {"any": [{"field": "age", "op": "eq", "value": 30}] * 101}
    with pytest.raises(SegmentFilterError, match="more than 100"):
        parse_filter(many)


def test_values_become_parameters_never_sql() -> None:
    evil = "x'; DROP TABLE customers; --"
    compiled = compile_filter(parse_filter({"any": [
        {"field": "region", "op": "eq", "value": evil},
        {"field": "bought_category", "op": "in", "value": [evil], "within_days": 30},
        {"field": "last_disposition", "op": "ne", "value": evil},
    ]}))  # fmt: skip
    assert evil not in compiled.where
    assert "DROP" not in compiled.where
    assert compiled.params == (evil, 30, [evil], [evil])
    assert "$1::text" in compiled.where
    assert not compiled.uses_stats


def test_parameters_can_start_later_and_stats_join_is_added_when_needed() -> None:
    compiled = compile_filter(parse_filter({"field": "order_count", "op": "gte", "value": 2}),
                              first_param=3)  # fmt: skip
    assert compiled.where == "(c.order_count >= $3::bigint)"
    assert compiled.uses_stats
    assert compiled.from_clause == "customer_facts c"


def test_empty_groups() -> None:
    assert compile_filter(parse_filter({"all": []})).where == "TRUE"
    assert compile_filter(parse_filter({"any": []})).where == "FALSE"
