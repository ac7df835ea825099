#!/usr/bin/env python
"""Compile locale/*/LC_MESSAGES/*.po into .mo files without GNU gettext.

    python scripts/compile_translations.py [LOCALE_DIR ...]

A fresh machine has no msgfmt; polib writes the same binary catalogue. Like msgfmt,
it leaves out fuzzy and untranslated entries, so Django shows the English msgid for
them. The .mo files are build output (gitignored). Exit status 1 when a .po file
cannot be read.
"""

import sys
from pathlib import Path

import polib

BASE_DIR = Path(__file__).resolve().parent.parent


def compile_locale_dir(locale_dir: Path) -> list[Path]:
    """Write a .mo beside every .po under ``locale_dir``; return the files written."""
    written = []
    for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path), encoding="utf-8").save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def main(argv: list[str]) -> int:
    dirs = [Path(arg) for arg in argv] or [BASE_DIR / "locale"]
    failed = False
    for locale_dir in dirs:
        if not locale_dir.is_dir():
            continue
        try:
            written = compile_locale_dir(locale_dir)
        except (OSError, ValueError) as error:
            print(f"Could not compile the translations in {locale_dir}: {error}", file=sys.stderr)
            failed = True
            continue
        for mo_path in written:
            print(f"Compiled {mo_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
