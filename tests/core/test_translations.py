"""Translation tooling: .mo files compiled with polib (no GNU gettext) are what Django
uses, and the check lists missing, fuzzy and broken entries."""

from pathlib import Path

import polib
from django.utils import translation

from scripts.check_translations import catalogue_problems
from scripts.compile_translations import compile_locale_dir
from scripts.compile_translations import main as compile_main

PROBE = "Zhubao translation probe"


def write_po(locale_dir: Path, entries: list[polib.POEntry]) -> Path:
    po_path = locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True)
    catalogue = polib.POFile()
    catalogue.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": "zh_Hans",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    for entry in entries:
        catalogue.append(entry)
    catalogue.save(str(po_path))
    return po_path


def test_a_compiled_catalogue_translates_in_django(tmp_path, settings):
    locale_dir = tmp_path / "locale"
    write_po(
        locale_dir,
        [
            polib.POEntry(msgid=PROBE, msgstr="筑堡翻译探针"),
            polib.POEntry(msgid="%(count)s probes", msgstr="%(count)s 个探针", flags=["python-format"]),
            polib.POEntry(msgid="Fuzzy probe", msgstr="模糊的探针", flags=["fuzzy"]),
        ],
    )
    written = compile_locale_dir(locale_dir)
    assert [path.name for path in written] == ["django.mo"]

    settings.LOCALE_PATHS = [locale_dir]  # the setting_changed signal clears Django's catalogue cache
    with translation.override("zh-hans"):
        assert translation.gettext(PROBE) == "筑堡翻译探针"
        assert translation.gettext("%(count)s probes") % {"count": 3} == "3 个探针"
        # Like msgfmt, a fuzzy entry is left out: the English msgid shows.
        assert translation.gettext("Fuzzy probe") == "Fuzzy probe"
    with translation.override("en"):
        assert translation.gettext(PROBE) == PROBE


def test_the_check_lists_missing_fuzzy_and_placeholder_problems(tmp_path):
    po_path = write_po(
        tmp_path / "locale",
        [
            polib.POEntry(msgid="Translated", msgstr="已翻译"),
            polib.POEntry(msgid="Missing", msgstr="", occurrences=[("grid/views.py", "12")]),
            polib.POEntry(msgid="Unsure", msgstr="不确定", flags=["fuzzy"]),
            polib.POEntry(msgid="%(count)s households", msgstr="%(number)s 户", flags=["python-format"]),
            polib.POEntry(msgid="Gone", msgstr="", obsolete=True),
        ],
    )
    problems = catalogue_problems(po_path)
    assert problems["missing"] == ["'Missing' (grid/views.py:12)"]
    assert problems["fuzzy"] == ["'Unsure'"]
    assert problems["placeholders"] == ["'%(count)s households'"]


def test_a_complete_catalogue_has_no_problems(tmp_path):
    po_path = write_po(
        tmp_path / "locale",
        [
            polib.POEntry(msgid="Save", msgstr="保存"),
            polib.POEntry(
                msgid="%(count)s grid", msgid_plural="%(count)s grids", msgstr_plural={0: "%(count)s 个网格"}
            ),
        ],
    )
    assert catalogue_problems(po_path) == {"missing": [], "fuzzy": [], "placeholders": []}


def test_compiling_a_broken_catalogue_fails(tmp_path):
    po_path = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True)
    po_path.write_text('msgstr "a translation without a msgid"\n', encoding="utf-8")
    assert compile_main([str(tmp_path / "locale")]) == 1
    assert not po_path.with_suffix(".mo").exists()
