#!/usr/bin/env python
"""Fail when a Chinese (zh_Hans) translation is missing, fuzzy or broken.

    python scripts/check_translations.py

1. Copies the project's source (not .venv, node_modules, var, tests) to a temporary
   directory and runs ``manage.py makemessages -l zh_Hans --no-obsolete`` there, so
   the catalogue is merged with every msgid the code uses today without touching
   the working tree's locale/.
2. Checks the merged catalogue with polib: every entry translated, none fuzzy, and
   the same named placeholders (``%(name)s``) in msgid and msgstr.
3. Where GNU msgfmt exists, ``msgfmt --check`` on the merged file as well.

Exit status 0 when all is well, 1 with the list of problem msgids otherwise.
makemessages needs GNU gettext (xgettext, msgmerge): ``apt-get install gettext``.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
PO_RELATIVE = Path("locale") / LOCALE / "LC_MESSAGES" / "django.po"
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "node_modules", "var", "staticfiles", "tests", "test-results", "screenshots",
    "__pycache__", "*.pyc", "*.mo", ".pytest_cache", ".ci", "docs",
)  # fmt: skip
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    return {named or braced for named, braced in PLACEHOLDER.findall(text or "")}


def catalogue_problems(po_path: Path) -> dict[str, list[str]]:
    """Missing, fuzzy and placeholder problems of one .po file, as lists of readable lines."""
    catalogue = polib.pofile(str(po_path), encoding="utf-8")
    problems: dict[str, list[str]] = {"missing": [], "fuzzy": [], "placeholders": []}
    for entry in catalogue:
        if entry.obsolete:
            continue
        where = ", ".join(f"{path}:{line}" if line else path for path, line in entry.occurrences[:2])
        label = f"{entry.msgid!r}" + (f" ({where})" if where else "")
        if "fuzzy" in entry.flags:
            problems["fuzzy"].append(label)
            continue
        if not entry.translated():
            problems["missing"].append(label)
            continue
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        if any(placeholders(text) != expected for text in translations):
            problems["placeholders"].append(label)
    return problems


def merged_catalogue(workdir: Path) -> Path:
    """Copy the source to ``workdir`` and merge today's msgids into its zh_Hans catalogue."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        raise SystemExit("GNU gettext is needed to extract messages (apt-get install gettext).")
    project = workdir / "project"
    shutil.copytree(BASE_DIR, project, ignore=IGNORED, symlinks=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "zhubao.settings.dev", "ZHUBAO_VAR_DIR": str(workdir / "var")})
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", LOCALE, "--no-obsolete", "--verbosity", "0"],
        cwd=project,
        env=env,
        check=True,
    )
    return project / PO_RELATIVE


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="zhubao-i18n-") as tmp:
        po_path = merged_catalogue(Path(tmp))
        problems = catalogue_problems(po_path)
        msgfmt_output = ""
        if shutil.which("msgfmt"):
            result = subprocess.run(
                ["msgfmt", "--check", "--output-file=/dev/null", str(po_path)], capture_output=True, text=True
            )
            if result.returncode != 0:
                msgfmt_output = result.stderr.replace(str(po_path), str(PO_RELATIVE))
    titles = {
        "missing": "Missing Chinese translations",
        "fuzzy": "Fuzzy entries (check the translation and remove the fuzzy flag)",
        "placeholders": "Placeholders differ between msgid and msgstr",
    }
    failed = False
    for kind, title in titles.items():
        if problems[kind]:
            failed = True
            print(f"{title} in {PO_RELATIVE}: {len(problems[kind])}")
            for line in problems[kind]:
                print(f"  - {line}")
    if msgfmt_output:
        failed = True
        print("msgfmt --check found problems:")
        print(msgfmt_output)
    if failed:
        print(
            "Run `python manage.py makemessages -l zh_Hans --no-obsolete`, translate the entries above "
            "(polite register, no exclamation marks), then `python scripts/compile_translations.py`."
        )
        return 1
    print(f"Translations complete: every msgid has a Chinese entry in {PO_RELATIVE}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
