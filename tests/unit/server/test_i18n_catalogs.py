"""Every string a page shows goes through the message catalogs and has its Korean.

- templates: no visible text (text nodes, placeholder / title / aria-label / alt) outside
  `_()` and `{% trans %}`;
- every string marked in templates, Python and page scripts is in the Korean catalog,
  translated, with the same placeholders.

The browser tests check the rendered pages too (tests/e2e/test_korean_pages.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from server.i18n import script_catalog, set_language, translations
from server.i18n_catalogs import TRANSLATED, problems

TEMPLATES = Path(__file__).parents[3] / "server" / "templates"
VISIBLE_ATTRS = {"placeholder", "title", "aria-label", "alt", "label"}
# Words that are the same in every language: the product's name and the zone label.
ALLOWED_WORDS = {"Telemart", "KST"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.lang: list[str] = []  # open elements that say their language (lang="ko")
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        if any(name == "lang" for name, _ in attrs):
            self.lang.append(tag)
        for name, value in attrs:
            if value and (name in VISIBLE_ATTRS or (name == "value" and tag == "button")):
                self.check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1
        if self.lang and self.lang[-1] == tag:
            self.lang.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.check(data)

    def check(self, text: str) -> None:
        # English outside the catalog, or Korean written straight into the page (the
        # Korean lives in the catalog, so that the English page has its words too). Text
        # in an element marked with its own `lang` is in that language on purpose.
        words = [w for w in WORD.findall(text) if w not in ALLOWED_WORDS]
        if words or (HANGUL.search(text) and not self.lang):
            self.found.append(text.strip())


def untranslated_text(source: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    text = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", "\x00", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", "\x00", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", "", text, flags=re.S)
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return parser.found


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_show_no_text_outside_the_catalog(template: str) -> None:
    found = untranslated_text((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not found, f"{template}: visible text not marked for translation: {found}"


def test_the_template_check_finds_bare_text() -> None:
    assert untranslated_text("<p>Save</p>") == ["Save"]
    assert untranslated_text('<input placeholder="search">') == ["search"]
    assert untranslated_text("<p>{{ _('Save') }}</p><p>{% trans %}Save{% endtrans %}</p>") == []
    assert untranslated_text("<style>p { color:red }</style><b>Telemart</b>") == []
    assert untranslated_text("<h1>주문 전화</h1>") == ["주문 전화"]  # Korean written in
    assert untranslated_text('<p><span lang="ko">이름, 휴대폰</span></p>') == []


@pytest.mark.parametrize("domain", ["messages", "js"])
@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_marked_string_is_translated(lang: str, domain: str) -> None:
    found = [str(p) for p in problems(lang, domain)]
    assert not found, "\n".join(
        [f"{len(found)} string(s) without a translation (docs/i18n.md):", *found[:40]]
    )


def test_korean_is_the_default_and_english_the_source() -> None:
    set_language("ko")
    assert translations("ko").gettext("Log out") == "로그아웃"
    assert translations("en").gettext("Log out") == "Log out"
    assert '"lang": "ko"' in script_catalog("ko").body.decode()


STATIC = TEMPLATES.parent / "static"


def korean_in_script(source: str) -> list[str]:
    """Lines of a page script with Korean outside comments: words written straight into
    the script instead of its English source with the Korean in js.po."""
    text = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    found = []
    for line in text.splitlines():
        code = re.sub(r"(^|\s)//.*$", "", line)
        if HANGUL.search(code):
            found.append(line.strip())
    return found


@pytest.mark.parametrize("script", sorted(p.name for p in STATIC.glob("*.js")))
def test_page_scripts_hold_no_korean_of_their_own(script: str) -> None:
    found = korean_in_script((STATIC / script).read_text(encoding="utf-8"))
    assert not found, f"{script}: Korean written into the script (use t() and js.po): {found}"


def test_the_script_check_finds_korean_outside_comments() -> None:
    assert korean_in_script('kpi.textContent = "응답률 " + rate;') == [
        'kpi.textContent = "응답률 " + rate;'
    ]
    assert korean_in_script('// "3% 이하로"\n/* 원 */ const x = t("Saved.");') == []
