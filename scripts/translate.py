#!/usr/bin/env python3
"""Add Italian translations from a JSON file, then bring the catalogues in step.

Several people (or agents) may add strings at once; editing messages.po by hand
while someone else runs ``translations.sh update`` loses work. This script takes
an exclusive lock, runs ``scripts/translations.sh update``, writes the given
translations into the Italian catalogue, compiles every catalogue and prints
what is still untranslated.

Usage: .venv/bin/python scripts/translate.py FILE.json [FILE.json ...]

FILE.json maps the English source to the Italian text::

    {"Save": "Salva",
     "%(num)d order": ["%(num)d ordine", "%(num)d ordini"]}

A list gives the plural forms. A key of the form ``"context\\u0004msgid"`` sets a
message with a context (pgettext). Entries not (yet) in the sources are reported
and ignored.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "distretto" / "translations" / "it" / "LC_MESSAGES" / "messages.po"
LOCK = Path("/tmp/distretto-translations.lock")


def main(paths: list[str]) -> int:
    wanted: dict[str, object] = {}
    for path in paths:
        wanted.update(json.loads(Path(path).read_text(encoding="utf-8")))
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [str(ROOT / "scripts" / "translations.sh"), "update"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with PO.open("rb") as handle:
            catalog = read_po(handle, locale="it")
        unknown = []
        for key, text in wanted.items():
            context, _, msgid = key.rpartition("\u0004")
            message = catalog.get(msgid, context or None)
            if message is None:
                unknown.append(key)
                continue
            message.string = tuple(text) if isinstance(text, list) else text
            if message.fuzzy:
                message.flags.discard("fuzzy")
        with PO.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=76,
                sort_output=True,
                include_previous=False,
                ignore_obsolete=True,
            )
        subprocess.run(
            [str(ROOT / "scripts" / "translations.sh"), "compile"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        todo = [
            m.id
            for m in catalog
            if m.id and (m.fuzzy or not (all(m.string) if m.pluralizable else m.string))
        ]
    for key in unknown:
        print(f"not in the sources (ignored): {key!r}")
    print(f"{len(todo)} message(s) still to translate in {PO.relative_to(ROOT)}")
    for msgid in todo:
        print(f"  {msgid!r}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
