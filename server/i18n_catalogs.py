"""Keeping the catalogs in step with the code: extract every marked string (Babel's
extractors: Python, Jinja2 templates, JavaScript), merge into each language's .po, and
find what is still untranslated. Used by `telemart i18n update|check` and the unit test
`tests/unit/server/test_i18n_catalogs.py`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from server.i18n import BABEL_LOCALE, LANGUAGES, po_path, read_catalog

SERVER_DIR = Path(__file__).parent
# Each domain: what to read with which extractor, and the marker functions it knows.
METHODS = {
    "messages": [("**/templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")],
    "js": [("**/static/**.js", "javascript")],
}
OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}
KEYWORDS: dict[str, Any] = {
    "messages": {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                 "N_": None},
    "js": {"t": None, "tn": (1, 2)},
}  # fmt: skip
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")  # English is the source
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
HEADER = "Telemart pages"
HEADER_COMMENT = (
    "# Telemart's pages. English is the source; this file holds the translations.\n"
    "# `telemart i18n update` adds new strings with an empty msgstr: fill them in\n"
    "# (docs/i18n.md). The unit test tests/unit/server/test_i18n_catalogs.py fails while\n"
    "# any string here is empty."
)


def extract(domain: str) -> Catalog:
    """Every string marked for translation in the code of `domain`, as a template."""
    template = Catalog(project=HEADER, domain=domain)
    found = extract_from_dir(
        SERVER_DIR, method_map=METHODS[domain], options_map=OPTIONS,
        keywords=KEYWORDS[domain], comment_tags=("Translators:",), strip_comment_tags=True,
    )  # fmt: skip
    for filename, lineno, message, comments, context in found:
        if filename.startswith(("locale/",)):
            continue
        template.add(message, None, [(f"server/{filename}", lineno)], auto_comments=comments,
                     context=context)  # fmt: skip
    return template


def update(lang: str, domain: str) -> Catalog:
    """Merge the code's strings into `lang`'s catalog: new ones come in untranslated,
    vanished ones are dropped. Writes the .po file and returns the catalog."""
    template = extract(domain)
    catalog = read_catalog(lang, domain) or Catalog(locale=BABEL_LOCALE[lang], domain=domain,
                                                    project=HEADER)  # fmt: skip
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    # A stable header: updating the catalog changes only the lines of the strings.
    catalog.header_comment = HEADER_COMMENT
    catalog.revision_date = catalog.creation_date
    catalog.project, catalog.version = HEADER, "1"
    catalog.msgid_bugs_address = catalog.last_translator = "Telemart team"
    catalog.language_team = BABEL_LOCALE[lang]
    catalog.fuzzy = False
    path = po_path(lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=False, omit_header=False,
                 include_previous=False)  # fmt: skip
    return catalog


@dataclass(frozen=True, kw_only=True)
class Problem:
    lang: str
    domain: str
    msgid: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.lang}/{self.domain}.po: {self.what}: {self.msgid!r} ({self.where})"


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def _forms(message: Message) -> list[str]:
    if isinstance(message.string, (list, tuple)):
        return [str(s) for s in message.string]
    return [str(message.string or "")]


def problems(lang: str, domain: str) -> Iterator[Problem]:
    """Strings of the code that `lang` does not translate (missing, empty or fuzzy), and
    translations whose placeholders differ from the source's."""
    catalog = read_catalog(lang, domain)
    template = extract(domain)
    for source in template:
        if not source.id:
            continue
        msgid = source.id if isinstance(source.id, str) else source.id[0]
        where = ", ".join(f"{f}:{n}" for f, n in source.locations[:2])
        found = catalog.get(source.id, context=source.context) if catalog else None
        if found is None:
            yield Problem(
                lang=lang,
                domain=domain,
                msgid=msgid,
                where=where,
                what="not in the catalog (run `telemart i18n update`)",
            )
            continue
        forms = _forms(found)
        if found.fuzzy or not all(forms):
            yield Problem(lang=lang, domain=domain, msgid=msgid, where=where, what="no translation")
            continue
        ids = [source.id] if isinstance(source.id, str) else list(source.id)
        wanted = set().union(*(_placeholders(i) for i in ids))
        for form in forms:
            got = _placeholders(form)
            if got - wanted or (wanted - got - {"n"}):
                yield Problem(
                    lang=lang,
                    domain=domain,
                    msgid=msgid,
                    where=where,
                    what=f"placeholders differ ({sorted(got)} vs {sorted(wanted)})",
                )
                break
