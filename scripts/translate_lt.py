"""Fills Lithuanian translations into locale/lt/LC_MESSAGES/django.po from the table in locale/lt/glossary.toml.

Run after `manage.py makemessages -l lt -l en --no-obsolete` (see the Makefile for the ignore list): `.venv/bin/python scripts/translate_lt.py`. The glossary is the
reviewed source of the translations (a translator edits it, or the .po file directly with Poedit);
entries missing from it are listed so nothing ships untranslated by accident.
"""

import sys
import tomllib
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
po = polib.pofile(str(ROOT / "locale/lt/LC_MESSAGES/django.po"))
glossary = tomllib.loads((ROOT / "locale/lt/glossary.toml").read_text(encoding="utf-8"))
singular, plural = glossary["messages"], glossary.get("plurals", {})
missing = []
for entry in po:
    if entry.msgid_plural:
        forms = plural.get(entry.msgid)
        if forms:
            entry.msgstr_plural = dict(enumerate(forms))
        else:
            missing.append(entry.msgid)
    elif entry.msgid in singular:
        entry.msgstr = singular[entry.msgid]
    else:
        missing.append(entry.msgid)
    if "fuzzy" in entry.flags and entry.msgid not in missing:
        entry.flags.remove("fuzzy")
po.save()
for msgid in missing:
    print("untranslated:", msgid, file=sys.stderr)
sys.exit(1 if missing else 0)
