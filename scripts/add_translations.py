#!/usr/bin/env python
"""Add or update Chinese entries in locale/zh_Hans/LC_MESSAGES/django.po, safely from several shells.

    python scripts/add_translations.py < entries.json     # {"English msgid": "中文", ...}

For entries with a plural, the value is a list: ``{"%(count)s row": ["%(count)s 行"]}`` with the
msgid_plural given as ``"msgid|plural"``. A context is given as ``"context\x04msgid"``. The file is
locked while it is rewritten, so several people (or helpers) adding entries at once lose none.
Then ``python scripts/compile_translations.py``. ``makemessages`` later adds the source references.
"""

import fcntl
import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main() -> int:
    entries = json.load(sys.stdin)
    with open(PO.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        catalogue = polib.pofile(str(PO), encoding="utf-8")
        added = updated = 0
        for key, value in entries.items():
            context, _, msgid = key.rpartition("\x04")
            msgid, _, plural = msgid.partition("|")
            entry = catalogue.find(msgid, msgctxt=context or False)
            if entry is None:
                entry = polib.POEntry(msgid=msgid, msgctxt=context or None)
                catalogue.append(entry)
                added += 1
            else:
                updated += 1
            if plural:
                entry.msgid_plural = plural
                entry.msgstr_plural = dict(enumerate(value if isinstance(value, list) else [value]))
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        catalogue.save(str(PO))
    print(f"{added} added, {updated} updated in {PO.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
