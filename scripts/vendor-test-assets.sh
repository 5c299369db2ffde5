#!/usr/bin/env bash
# Refresh what only the tests use, from the npm registry: axe-core, the accessibility
# checker the browser tests inject into pages (tests/browser/vendor; never served).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent axe-core@4.14.1
dest="$here/tests/browser/vendor"
mkdir -p "$dest"
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE "$dest/"
echo "vendored axe-core into $dest"
