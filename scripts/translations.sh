#!/usr/bin/env bash
# Keep Distretto's Flask-Babel catalogues in step with the sources.
#
# English is the source language: code and templates carry English strings wrapped in
# _() / gettext() / lazy_gettext() / _l(). The Italian catalogue translates every one of
# them; the English catalogue is kept in step but its msgstr stay empty (gettext then
# shows the English source), unless an English wording must change without touching
# the code. See distretto/translations/README.md.
#
# Usage: scripts/translations.sh COMMAND
#   extract       write the template of every message in the sources to build/messages.pot
#   update        extract, then merge the template into every catalogue (new strings get an
#                 empty msgstr, changed ones are marked fuzzy, removed ones are dropped)
#   compile       compile every catalogue's .po into its .mo (both are committed)
#   all           update, then compile
#   init LOCALE   start the catalogue of a new language (then add it to SUPPORTED_LOCALES)
#   check         run tests/test_i18n.py (what CI checks: complete, in step, compiled)
#
# The usual round after adding or changing a user-visible string:
#   scripts/translations.sh update
#   $EDITOR distretto/translations/it/LC_MESSAGES/messages.po   # translate, drop "#, fuzzy"
#   scripts/translations.sh compile
set -euo pipefail

cd "$(dirname "$0")/.."

CATALOGUES=distretto/translations
POT=${POT:-build/messages.pot}

if [[ -x .venv/bin/pybabel ]]; then
    PYBABEL=(.venv/bin/pybabel)
elif command -v pybabel >/dev/null 2>&1; then
    PYBABEL=(pybabel)
else
    PYBABEL=(python3 -m babel.messages.frontend)
fi
if [[ -x .venv/bin/python ]]; then
    PYTHON=.venv/bin/python
else
    PYTHON=python3
fi

version() {
    sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1
}

extract() {
    mkdir -p "$(dirname "$POT")"
    # Keywords: Babel's defaults (_, gettext, ngettext, pgettext, ...) plus the lazy ones.
    # File-only locations and sorted output keep diffs small when code moves.
    "${PYBABEL[@]}" -q extract \
        -F babel.cfg \
        -k _l -k lazy_gettext \
        --add-location=file \
        --sort-output \
        --add-comments=TRANSLATORS: \
        --ignore-dirs=".* ._ node_modules build dist" \
        --project=Distretto \
        --version="$(version)" \
        --copyright-holder="Distretto contributors" \
        -o "$POT" \
        .
    echo "wrote $POT ($(grep -c '^msgid "' "$POT") entries, header included)"
}

update() {
    extract
    local po locale fuzzy
    for po in "$CATALOGUES"/*/LC_MESSAGES/messages.po; do
        locale=$(basename "$(dirname "$(dirname "$po")")")
        # English is the source: no fuzzy guesses there, they would only reword it.
        # Elsewhere a guess from a similar string helps the translator (and the test
        # fails until the "#, fuzzy" mark is removed after review).
        fuzzy=()
        [[ "$locale" == en ]] && fuzzy=(--no-fuzzy-matching)
        "${PYBABEL[@]}" -q update \
            -i "$POT" \
            -d "$CATALOGUES" \
            -l "$locale" \
            --ignore-obsolete \
            --ignore-pot-creation-date \
            "${fuzzy[@]}"
    done
    "$PYTHON" - "$CATALOGUES" <<'EOF'
import sys
from pathlib import Path

from babel.messages.pofile import read_po

for po in sorted(Path(sys.argv[1]).glob("*/LC_MESSAGES/messages.po")):
    with po.open("rb") as handle:
        catalog = read_po(handle)
    if po.parts[-3] == "en":  # English is the source language: empty msgstr are fine
        continue
    todo = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not (all(m.string) if m.pluralizable else m.string))
    ]
    if todo:
        print(f"{po}: {len(todo)} to translate or review:")
        for msgid in todo:
            print(f"  {msgid!r}")
EOF
}

compile_catalogues() {
    "${PYBABEL[@]}" compile -d "$CATALOGUES" --statistics
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile_catalogues ;;
    all)
        update
        compile_catalogues
        ;;
    init)
        [[ -n "${2:-}" ]] || { echo "usage: $0 init LOCALE" >&2; exit 2; }
        extract
        "${PYBABEL[@]}" init -i "$POT" -d "$CATALOGUES" -l "$2"
        ;;
    check) exec "$PYTHON" -m pytest -q tests/test_i18n.py ;;
    *)
        sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
        [[ -z "${1:-}" || "$1" == "-h" || "$1" == "--help" ]] || exit 2
        ;;
esac
