"""The zh-hans catalogue is complete: every entry of locale/zh_Hans/LC_MESSAGES/django.po has a
Chinese translation (none empty, none fuzzy), keeps the msgid's placeholders, and is compiled
into django.mo; every text the sources mark for translation (``_("…")`` and friends in apps/,
``{% translate "…" %}`` in templates/) is in the catalogue, so a string added without re-running
``makemessages`` fails here too.

Mending a failure: ``python manage.py makemessages -l zh_Hans --no-obsolete``, translate the new
or fuzzy entries, ``python manage.py compilemessages -l zh_Hans`` (README, "Translations").
"""

import ast
import gettext
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# msgids whose translation is rightly the same text (a language's own name, a format sample).
SAME = {"English", "IP", "[{question, answer}, …]"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{[A-Za-z0-9_]*\}")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def __str__(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"


KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')


def parse_po(path: Path) -> list[Entry]:
    """The entries of a PO file (enough of the format for makemessages' output)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, target = None, None
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#~"):
            current.obsolete = True
        elif line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            keyword, index, value = match.group(1), int(match.group(2) or 0), match.group(3)
            target = (keyword, index)
            _append(current, target, ast.literal_eval(value), start=True)
        elif line.startswith('"') and target is not None:
            _append(current, target, ast.literal_eval(line), start=False)
        else:
            raise AssertionError(f"django.po:{number}: cannot read {raw!r}")
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str, *, start: bool) -> None:
    keyword, index = target
    if keyword == "msgstr":
        entry.msgstr[index] = text if start else entry.msgstr[index] + text
    else:
        setattr(entry, keyword, text if start else getattr(entry, keyword) + text)


ENTRIES = parse_po(PO)
MESSAGES = [entry for entry in ENTRIES if entry.msgid]


def placeholders(text: str, flags: set[str]) -> Counter:
    found: Counter = Counter(BRACE.findall(text))
    if "no-python-format" not in flags:
        directives = PERCENT.findall(text)
        if "python-format" not in flags:
            # Unflagged text only carries named placeholders (a lone "%" is just a percent sign).
            directives = [d for d in directives if d.startswith("%(")]
        found.update(d for d in directives if d != "%%")
    return found


def test_the_catalogue_is_read():
    assert len(MESSAGES) > 1500
    assert ENTRIES[0].msgid == "" and "Plural-Forms: nplurals=1; plural=0;" in ENTRIES[0].msgstr[0]
    assert sum(1 for entry in MESSAGES if entry.msgid_plural) > 5


def test_no_entry_is_fuzzy_or_obsolete():
    fuzzy = [str(entry) for entry in ENTRIES if "fuzzy" in entry.flags and entry.msgid]
    obsolete = [str(entry) for entry in ENTRIES if entry.obsolete]
    assert not fuzzy, "fuzzy (machine-guessed) translations to check:\n" + "\n".join(fuzzy)
    assert not obsolete, "obsolete entries (run makemessages --no-obsolete):\n" + "\n".join(
        obsolete
    )


def test_every_entry_has_a_chinese_translation():
    missing = []
    for entry in MESSAGES:
        text = entry.msgstr.get(0, "")  # nplurals=1: a plural entry has msgstr[0] only
        if not text.strip() or len(entry.msgstr) != 1:
            missing.append(f"{entry}: {entry.msgstr!r}")
        elif entry.msgid not in SAME and not CJK.search(text):
            missing.append(f"{entry}: no Chinese in {text!r}")
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_the_reader_is_addressed_as_nin():
    """The mall speaks to its consumers, distributors, merchants and suppliers alike with the
    polite 您, as a serious mall does; a 你 among them reads as careless."""
    informal = [
        f"{entry}: {entry.msgstr[0]!r}" for entry in MESSAGES if "你" in entry.msgstr.get(0, "")
    ]
    assert not informal, "use 您, not 你:\n" + "\n".join(informal)


def test_translations_keep_the_placeholders():
    wrong = []
    for entry in MESSAGES:
        # One plural form (nplurals=1): msgstr[0] stands for every count, as msgid_plural does.
        wanted = placeholders(entry.msgid_plural or entry.msgid, entry.flags)
        for form in entry.msgstr.values():
            got = placeholders(form, entry.flags)
            if got != wanted:
                wrong.append(f"{entry}: {dict(wanted)} != {dict(got)} in {form!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_the_compiled_catalogue_is_current():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in MESSAGES:
        if entry.msgid_plural and entry.msgctxt:
            got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
        elif entry.msgid_plural:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
        elif entry.msgctxt:
            got = compiled.pgettext(entry.msgctxt, entry.msgid)
        else:
            got = compiled.gettext(entry.msgid)
        if got != entry.msgstr[0]:
            stale.append(str(entry))
    assert not stale, "django.mo is not compiled from django.po (compilemessages):\n" + "\n".join(
        stale[:20]
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_msgfmt_checks_the_catalogue(tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- the sources against the catalogue --------------------------------------------------------

STRING = r'"((?:[^"\\]|\\.)*)"'
CALL = re.compile(r"\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*" + STRING + r"\s*[,)]")
CONTEXT_CALL = re.compile(r"\bpgettext(?:_lazy)?\(\s*" + STRING + r"\s*,\s*" + STRING + r"\s*[,)]")
TAG = re.compile(
    r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1(?:\s+context\s+(["'])(.+?)\3)?"""
    r"""(?:\s+noop)?(?:\s+as\s+\w+)?\s*%}"""
)


def _literal(text: str) -> str:
    return ast.literal_eval(f'"{text}"')


def source_strings() -> set[tuple[str | None, str, str]]:
    """(context, msgid, where) of each literal the sources mark for translation."""
    found: set[tuple[str | None, str, str]] = set()
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        found.update((None, _literal(m.group(1)), where) for m in CALL.finditer(text))
        found.update(
            (_literal(m.group(1)), _literal(m.group(2)), where) for m in CONTEXT_CALL.finditer(text)
        )
    for path in sorted((ROOT / "templates").rglob("*.html")):
        where = str(path.relative_to(ROOT))
        for match in TAG.finditer(path.read_text(encoding="utf-8")):
            # makemessages writes a translate tag's text with each % doubled.
            found.add((match.group(4), match.group(2).replace("%", "%%"), where))
    return found


def test_every_marked_source_text_is_in_the_catalogue():
    strings = source_strings()
    assert len(strings) > 1000
    known = {entry.key for entry in MESSAGES}
    missing = sorted(
        f"{where}: {msgid!r}" for ctx, msgid, where in strings if (ctx, msgid) not in known
    )
    assert not missing, "not in django.po (run makemessages):\n" + "\n".join(missing)
