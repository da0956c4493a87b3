#!/usr/bin/env bash
# Builds the player's third-party assets: installs scorm-again (pinned in package.json / package-lock.json) and
# copies its two browser bundles, plus its MIT licence, into vendor/. Nothing it produces is committed.
# Idempotent: does nothing when the vendor files are newer than package-lock.json. Runs from any cwd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

bundles=(scorm12.min.js scorm2004.min.js)
lock="package-lock.json"
stamp_source="$lock"
[[ -f "$stamp_source" ]] || stamp_source="package.json"

up_to_date=1
for f in "${bundles[@]}" scorm-again.LICENSE; do
  if [[ ! -s "vendor/$f" || ! "vendor/$f" -nt "$stamp_source" ]]; then
    up_to_date=0
    break
  fi
done
if [[ "$up_to_date" == 1 ]]; then
  echo "player: vendor/ is up to date"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "player: npm is required (Node 20+) to build vendor/" >&2; exit 1; }

if [[ -f "$lock" ]]; then
  npm ci --omit=dev --no-audit --no-fund
else
  npm install --omit=dev --no-audit --no-fund
fi

dist="node_modules/scorm-again/dist"
for f in "${bundles[@]}"; do
  [[ -s "$dist/$f" ]] || { echo "player: $dist/$f is missing; has scorm-again's dist layout changed?" >&2; exit 1; }
done

# Copy into a temporary directory first and move into place, so an interrupted build never leaves vendor/ files that
# look newer than the lockfile.
mkdir -p vendor
tmp="$(mktemp -d "vendor/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
for f in "${bundles[@]}"; do
  cp "$dist/$f" "$tmp/$f"
done
cp node_modules/scorm-again/LICENSE "$tmp/scorm-again.LICENSE"
for f in "${bundles[@]}" scorm-again.LICENSE; do
  mv -f "$tmp/$f" "vendor/$f"
done
echo "player: vendor/ built from scorm-again $(node -p 'require("./node_modules/scorm-again/package.json").version' 2>/dev/null || echo '?')"
