"""Named SQL statements kept in `.sql` files beside their domain.

A file holds blocks headed by a line `-- name --`; the comment lines right
under the header describe the statement and its `$n` arguments, in order:

    -- fetch_customer --
    -- One customer by id. $1 customer id
    SELECT * FROM customers WHERE id = $1;
"""

from __future__ import annotations

import re
from importlib import resources

_HEADER = re.compile(r"^-- ([a-z0-9_]+) --\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a queries file into {name: statement}."""
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        lines = [line for line in body.strip().splitlines() if not line.startswith("--")]
        queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries


def load_queries(package: str, filename: str = "queries.sql") -> dict[str, str]:
    """Load a package's named statements, e.g. `load_queries("crm")`."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return parse_queries(text)
