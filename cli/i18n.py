"""`telemart i18n update` and `telemart i18n check`: the pages' message catalogs.

update  extracts every marked string (templates, server Python, page scripts) and merges
        it into server/locale/<lang>/LC_MESSAGES/{messages,js}.po: new strings arrive with
        an empty translation, strings no longer in the code are dropped.
check   lists strings without a translation (exit 1 if any); the unit test does the same.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.i18n import DOMAINS, po_path
from server.i18n_catalogs import TRANSLATED, problems, update


def cmd_update(args: argparse.Namespace) -> int:
    for lang in TRANSLATED:
        for domain in DOMAINS:
            catalog = update(lang, domain)
            todo = sum(
                1
                for m in catalog
                if m.id and not all(m.string if isinstance(m.string, (list, tuple)) else [m.string])
            )
            print(f"{po_path(lang, domain)}: {len(catalog)} strings, {todo} to translate")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    found = [p for lang in TRANSLATED for domain in DOMAINS for p in problems(lang, domain)]
    for problem in found:
        print(problem)
    print(f"{len(found)} string(s) without a translation" if found else "all strings translated")
    return 1 if found else 0


def register(sub: Any) -> None:
    i18n = sub.add_parser("i18n", help="the pages' message catalogs (Korean, English)")
    i18n_sub = i18n.add_subparsers(dest="i18n_cmd", required=True)
    p = i18n_sub.add_parser("update", help="extract the marked strings into the catalogs")
    p.set_defaults(func=cmd_update)
    p = i18n_sub.add_parser("check", help="list strings that have no translation")
    p.set_defaults(func=cmd_check)
