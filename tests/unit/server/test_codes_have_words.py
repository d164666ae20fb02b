"""Every code the server sends to be shown has words in the pages' catalog.

The server speaks English with codes (the API's `{"error": code}`, the dialer's websocket
notices and refusals); the pages say each code in the reader's language. A new code on the
server without its words on the page would show English (or nothing) to a Korean agent:
these tests find every such code in the Python source and look for its words.

- the dialer's notices and refusals to agents (`desk.notice(...)`, `_tell_agents(...)`,
  `talk_ended(code=...)`,
  `{"type": "notice" | "error", "code": ...}`, `DialerError(code=...)` and the `code` of
  the dialer's exception classes) → `NOTICES` in server/static/agent.js;
- API error codes (`ApiError(status, code, ...)`, the domain error table, the domains'
  error classes) → `apiError` in server/static/i18n.js, except codes no page can receive.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[3]
STATIC = ROOT / "server" / "static"
# Where the agent's websocket messages come from.
DIALER_SOURCES = [*(ROOT / "dialer").rglob("*.py"), *(ROOT / "server").glob("*.py")]
API_SOURCES = [
    *(ROOT / "server").glob("*.py"),
    *(ROOT / p / "errors.py" for p in ("orders", "crm", "logistics", "dialer")),
]
# API error codes that no page can receive, with why. Each is an integrator's mistake or a
# machine-to-machine route; the page shows its generic "The request failed (HTTP n)".
MACHINE_ONLY = {
    "bad_json": "pages send JSON.stringify output",
    "unsupported_media_type": "pages send application/json",
    "bad_encoding": "pages send UTF-8",
    "bad_request": "a malformed multipart part: browsers do not send those",
    "bad_multipart": "browsers always send the boundary",
    "no_bearer_token": "token revocation, API only",
    "bad_credentials": "the token endpoint; the login page has its own words",
    "bad_signature": "carrier webhooks",
    "unknown_provider": "carrier webhooks",
    "not_configured": "carrier webhooks",
    "bad_payload": "carrier webhooks and shipment CSV from systems",
    "idempotency_key_required": "the order form always sends its key",
    "replayed": "idempotent replays are answered with the first response",
}


def _str(node: ast.AST | None) -> list[str]:
    """The string constants an expression can be (a constant, either side of an `if`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _str(node.body) + _str(node.orelse)
    return []


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _trees(paths: list[Path]) -> Iterator[tuple[Path, ast.AST]]:
    for path in paths:
        if path.is_file():
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def dialer_exceptions() -> set[str]:
    """The names of DialerError and every class below it in dialer/."""
    names = {"DialerError"}
    classes = [node for _, tree in _trees(list((ROOT / "dialer").rglob("*.py")))
               for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]  # fmt: skip
    grew = True
    while grew:
        before = len(names)
        names |= {c.name for c in classes if any(_name(b) in names for b in c.bases)}
        grew = len(names) > before
    return names


def dialer_codes() -> dict[str, str]:
    """code → where it is sent, for everything an agent's desktop is told."""
    found: dict[str, str] = {}
    exceptions = dialer_exceptions()
    for path, tree in _trees(DIALER_SOURCES):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            codes: list[str] = []
            if isinstance(node, ast.Call):
                name = _name(node.func)
                if name == "notice" and len(node.args) >= 2:
                    codes += _str(node.args[1])
                elif name == "_tell_agents" and node.args:
                    codes += _str(node.args[0])
                if name in exceptions or name == "talk_ended":  # (..., code="...")
                    codes += [c for kw in node.keywords if kw.arg == "code" for c in _str(kw.value)]
            elif isinstance(node, ast.Dict):
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant)}  # fmt: skip
                if _str(keys.get("type")) in (["notice"], ["error"]):
                    codes += _str(keys.get("code"))
            elif isinstance(node, ast.ClassDef) and where == "dialer/errors.py":
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in item.targets
                    ):
                        codes += _str(item.value)
            for code in codes:
                found.setdefault(code, f"{where}:{getattr(node, 'lineno', '?')}")
    return found


def api_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for path, tree in _trees(API_SOURCES):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            codes: list[str] = []
            if isinstance(node, ast.Call):
                name = _name(node.func)
                if name == "ApiError" and len(node.args) >= 2:
                    codes += _str(node.args[1])
                elif name == "Mapping":
                    codes += [c for kw in node.keywords if kw.arg == "code" for c in _str(kw.value)]
            elif (
                isinstance(node, ast.ClassDef)
                and path.name == "errors.py"
                and path.parent.name in ("orders", "crm", "logistics")
            ):
                for item in node.body:
                    target = item.target if isinstance(item, ast.AnnAssign) else None
                    targets = item.targets if isinstance(item, ast.Assign) else [target]
                    value = item.value if isinstance(item, ast.Assign | ast.AnnAssign) else None
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                        codes += _str(value)
            for code in codes:
                found.setdefault(code, f"{where}:{getattr(node, 'lineno', '?')}")
    return found


def _block(source: str, start: str) -> str:
    """The text of the `{ ... }` (or `switch (...) { ... }`) that follows `start`."""
    at = source.index(start)
    opened = source.index("{", at)
    depth = 0
    for i in range(opened, len(source)):
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            return source[opened : i + 1]
    raise AssertionError(f"unbalanced block after {start!r}")


def agent_notice_codes() -> set[str]:
    block = _block((STATIC / "agent.js").read_text(encoding="utf-8"), "const NOTICES =")
    return set(re.findall(r"^\s*(\w+):", block, flags=re.M))


def page_error_codes() -> set[str]:
    block = _block((STATIC / "i18n.js").read_text(encoding="utf-8"), "switch (d.error)")
    return set(re.findall(r'case "(\w+)"', block))


def test_the_scans_find_codes_where_they_are_sent() -> None:
    # Guards against a scan that finds nothing and so passes whatever the pages say.
    dialer = dialer_codes()
    for code in (
        "customer_hung_up",
        "no_lead",
        "reconnected",
        "dispose_first",
        "no_such_call",
        "no_campaign",
        "bad_message",
        "waiting_for_dialer",
    ):
        assert code in dialer, code
    api = api_codes()
    for code in (
        "csrf",
        "body_too_large",
        "unavailable",
        "too_many_attempts",
        "busy",
        "limit_exceeded",
        "out_of_stock",
        "not_found",
        "invalid",
    ):
        assert code in api, code
    assert {"no_lead", "dispose_first"} <= agent_notice_codes()
    assert {"csrf", "invalid"} <= page_error_codes()


def test_every_dialer_notice_and_refusal_has_words_on_the_agent_desktop() -> None:
    words = agent_notice_codes()
    missing = {code: where for code, where in dialer_codes().items() if code not in words}
    assert not missing, (
        "codes the dialer sends to agents with no words in NOTICES (server/static/agent.js):"
        f" {missing}"
    )


def test_every_api_error_a_page_can_get_has_words() -> None:
    words = page_error_codes()
    missing = {code: where for code, where in api_codes().items()
               if code not in words and code not in MACHINE_ONLY}  # fmt: skip
    assert not missing, (
        "API error codes with no words in apiError (server/static/i18n.js); add a case, or"
        f" to MACHINE_ONLY here if no page can get it: {missing}"
    )


def test_machine_only_codes_are_still_sent() -> None:
    # A code that the server stopped sending should leave the list too.
    gone = set(MACHINE_ONLY) - set(api_codes())
    assert not gone, gone
