"""The pages' languages: Babel message catalogs, Korean first, English second.

Source strings are English (the msgids); `server/locale/ko/LC_MESSAGES/messages.po` holds
the Korean of every string in the templates and the Python code, and `js.po` the Korean of
every string in `server/static/*.js`. English is the source itself, so it needs no catalog.

- Templates: `{{ _("Save") }}`, `{% trans n=count %}{{ n }} customer{% pluralize %}…{% endtrans %}`
  (Jinja2's i18n extension, new-style gettext: `%(name)s` placeholders are filled in).
- Python: `gettext("…")` at request time; module-level labels are marked with `N_("…")`
  and translated where they are shown (`gettext(label)` or `{{ _(label) }}`).
- Page scripts: `t("Order #{id} placed", {id: 5})`, `tn("{n} line", "{n} lines", n)`
  from `server/static/i18n.js`, which reads the catalog that `GET /i18n/<lang>.js` serves.

The language of a page: the user's own choice (`user_prefs.lang`, set from the switch in
the top bar), else the `telemart_lang` cookie (the login page), else Korean.
`docs/i18n.md` says how to add a string; `telemart i18n update` extracts the strings
and merges them into the catalogs; a unit test fails while any string lacks its Korean.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: tuple[str, ...] = ("ko", "en")  # the first is the default
DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}  # each in its own language
HTML_LANG = {"ko": "ko", "en": "en"}
BABEL_LOCALE = {"ko": "ko_KR", "en": "en_US"}
DOMAINS = ("messages", "js")
LANG_COOKIE = "telemart_lang"


def po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(lang: str, domain: str) -> Catalog | None:
    path = po_path(lang, domain)
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=BABEL_LOCALE.get(lang, lang), domain=domain)


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The server-side catalog of `lang`, compiled in memory from its .po file (no .mo
    files in the repository to fall out of date)."""
    catalog = read_catalog(lang, "messages")
    if catalog is None:
        return _gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


@dataclass(frozen=True, kw_only=True)
class ScriptCatalog:
    """The page scripts' catalog as served: JavaScript text and its version hash."""

    body: bytes
    etag: str


@functools.cache
def script_catalog(lang: str) -> ScriptCatalog:
    """`window.TELEMART_I18N = {lang, plural, messages}` for `server/static/i18n.js`.

    A plural entry maps its singular msgid to the list of forms; `plural` names the rule
    ("one" for English-like languages, "none" for Korean, which has one form)."""
    messages: dict[str, str | list[str]] = {}
    catalog = read_catalog(lang, "js")
    if catalog is not None:
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                forms = [s for s in message.string if s] if message.string else []
                if forms:
                    messages[message.id[0]] = forms
            elif message.string:
                messages[str(message.id)] = str(message.string)
    doc = {"lang": lang, "plural": "none" if lang == "ko" else "one", "messages": messages}
    text = "window.TELEMART_I18N = " + json.dumps(doc, ensure_ascii=False, sort_keys=True) + ";\n"
    body = text.encode()
    return ScriptCatalog(body=body, etag=hashlib.sha256(body).hexdigest()[:16])


# --- the current request's language --------------------------------------------------------

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "telemart_lang", default=DEFAULT_LANGUAGE
)


def current_language() -> str:
    return _current.get()


def set_language(lang: str) -> contextvars.Token[str]:
    return _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def negotiate(*candidates: str | None) -> str:
    """The first candidate that is a language we speak, else the default."""
    for found in candidates:
        if found:
            lang = found.strip().lower()[:2]
            if lang in LANGUAGES:
                return lang
    return DEFAULT_LANGUAGE


def translate_all(labels: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(code, English label) pairs with the labels in the current language."""
    return [(code, gettext(label)) for code, label in labels]


def lazy_labels(labels: dict[str, str]) -> Callable[[], dict[str, str]]:
    """A dict of code → English label (marked with N_) read in the current language."""
    return lambda: {code: gettext(label) for code, label in labels.items()}


def jinja_globals() -> dict[str, Any]:
    return {"LANGUAGES": LANGUAGES, "LANGUAGE_NAMES": LANGUAGE_NAMES}
