#!/usr/bin/env bash
# Refresh the vendored front-end assets from the npm registry (no CDN at run time).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent bootstrap@5.3.8 htmx.org@2.0.11 swagger-ui-dist@5.32.0
dest="$here/distretto/platform/static/vendor"
mkdir -p "$dest/bootstrap" "$dest/htmx" "$dest/swagger-ui"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/LICENSE "$dest/bootstrap/"
cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE "$dest/htmx/"
# the API docs page (/api/v1/docs): the browser bundle, its stylesheet and licences
sw=node_modules/swagger-ui-dist
cp "$sw/swagger-ui-bundle.js" "$sw/swagger-ui-bundle.js.LICENSE.txt" "$sw/swagger-ui.css" "$sw/LICENSE" "$sw/NOTICE" "$dest/swagger-ui/"
echo "vendored into $dest"
