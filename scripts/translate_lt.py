"""Fills Lithuanian translations into locale/lt/LC_MESSAGES/django.po from the table in locale/lt/glossary.toml.

Run after `manage.py makemessages -l lt -l en --no-obsolete` (see the Makefile for the ignore list): `.venv/bin/python scripts/translate_lt.py`. The glossary is the
reviewed source of the translations (a translator edits it, or the .po file directly with Poedit);
entries missing from it are listed so nothing ships untranslated by accident.

Tables: ``[messages]`` (msgid → translation), ``[plurals]`` (singular msgid → the forms in the order of the
catalog's Plural-Forms) and ``[contexts]`` for messages with a msgctxt (pgettext), keyed ``"<context>|<msgid>"``
(plural ones → a list of forms); for a message with a context, an entry there wins over the other two tables.
"""

import sys
import tomllib
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
po = polib.pofile(str(ROOT / "locale/lt/LC_MESSAGES/django.po"))
glossary = tomllib.loads((ROOT / "locale/lt/glossary.toml").read_text(encoding="utf-8"))
singular, plural = glossary["messages"], glossary.get("plurals", {})
contexts = glossary.get("contexts", {})
missing = []
for entry in po:
    if entry.obsolete:
        continue
    in_context = contexts.get(f"{entry.msgctxt}|{entry.msgid}") if entry.msgctxt is not None else None
    if entry.msgid_plural:
        forms = in_context if isinstance(in_context, list) else plural.get(entry.msgid)
        translated = bool(forms)
        if translated:
            entry.msgstr_plural = dict(enumerate(forms))
    else:
        text = in_context if isinstance(in_context, str) else singular.get(entry.msgid)
        translated = text is not None
        if translated:
            entry.msgstr = text
    if not translated:
        missing.append(f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt is not None else entry.msgid)
    elif "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
        # msgmerge's guess at the old msgid ("#| msgid …") means nothing once the entry is translated.
        entry.previous_msgctxt = entry.previous_msgid = entry.previous_msgid_plural = None
po.save()
for msgid in missing:
    print("untranslated:", msgid, file=sys.stderr)
sys.exit(1 if missing else 0)
