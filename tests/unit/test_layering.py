"""The packages import one way (DESIGN.md, docs/architecture.md):

    config ← crm ← logistics ← orders        server ← cli
                 ↖ dialer ↙                     ↑
    (every domain) ──────────────────────────────┘

A module may import only packages below it, anywhere in the file (an import inside a
function to dodge a cycle is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("config", "crm", "logistics", "orders", "dialer", "server", "cli")
# What each package may import of ours, besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "config": frozenset(),
    "crm": frozenset({"config"}),
    "logistics": frozenset({"config", "crm"}),
    "orders": frozenset({"config", "crm", "logistics"}),
    "dialer": frozenset({"config", "crm"}),
    "server": frozenset({"config", "crm", "logistics", "orders", "dialer"}),
    "cli": frozenset({"config", "crm", "logistics", "orders", "dialer", "server"}),
}


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sorted((ROOT / package).rglob("*.py"))
        if (bad := _imported_packages(path) - ALLOWED[package] - {package})
    }
    assert wrong == {}, f"{package} imports what it may not: {wrong}"
