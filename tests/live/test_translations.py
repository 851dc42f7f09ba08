"""Every text of the live rooms (admin, console, room page, errors, close reasons) reads in
Chinese: each string the live code and templates mark for translation has a zh-hans translation.

The strings are collected from the sources (``_("…")`` / ``gettext_lazy("…")`` calls and
``{% translate "…" %}`` tags), so a new untranslated one fails here, not only in review.
"""

import re
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PYTHON = [
    *sorted((ROOT / "apps" / "live").rglob("*.py")),
    ROOT / "apps" / "storefront" / "views_live.py",
]
TEMPLATES = [
    *sorted((ROOT / "templates" / "admin" / "live").rglob("*.html")),
    *sorted((ROOT / "templates" / "storefront" / "live").rglob("*.html")),
]
CALL = re.compile(r"""\b(?:_|gettext|gettext_lazy)\(\s*"((?:[^"\\]|\\.)+)"\s*[,)]""")
TAG = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1\s*%}""")
# Identical in both languages (or proper names).
SAME = {"SKU", "OK"}


def live_strings() -> list[str]:
    found: set[str] = set()
    for path in PYTHON:
        if "migrations" in path.parts:
            continue
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1).encode().decode("unicode_escape").encode("latin-1").decode())
    for path in TEMPLATES:
        # The translate tag looks its text up with each % doubled (as makemessages writes it).
        found.update(
            match.group(2).replace("%", "%%")
            for match in TAG.finditer(path.read_text(encoding="utf-8"))
        )
    return sorted(found - SAME)


def test_the_live_sources_mark_text_for_translation():
    assert len(live_strings()) > 60


@pytest.mark.parametrize("text", live_strings())
def test_each_live_text_has_a_chinese_translation(text):
    with translation.override("zh-hans"):
        translated = translation.gettext(text)
    assert translated != text, f"no zh-hans translation for {text!r}"
