"""The named-SQL loader and migration discovery."""

from __future__ import annotations

import pytest

from config.migrations import discover
from config.sql import load_queries, parse_queries


def test_blocks_are_split_by_name_and_comments_dropped() -> None:
    text = """
-- first --
-- One row. $1 id
SELECT * FROM t WHERE id = $1;

-- second --
UPDATE t SET x = 1;
"""
    assert parse_queries(text) == {
        "first": "SELECT * FROM t WHERE id = $1",
        "second": "UPDATE t SET x = 1",
    }


def test_a_name_used_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- a --\nSELECT 1;\n-- a --\nSELECT 2;\n")


def test_server_queries_load() -> None:
    assert "user_by_token" in load_queries("server")


def test_migrations_have_one_global_numbering() -> None:
    migrations = discover()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
    assert migrations[0].name == "crm_base"
