#!/usr/bin/env bash
# Property-based test of the HTTP API against its own OpenAPI document with schemathesis
# (from PyPI, installed into target/api-check-venv on first use): every route is sent
# generated valid and invalid requests, and every answer is checked against the document —
# status codes, response schemas, content types, no 5xx. The server runs from a release build
# on loopback with an on-disk copy of the shipped knowledge base, so the admin routes write.
# Usage: scripts/api-check.sh [MAX_EXAMPLES]   (default 100 per route)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/serve-lib.sh
examples="${1:-100}"
venv=target/api-check-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
cargo build --release --quiet
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
./target/release/kefu kb import lexicons/kb.jsonl --index "$tmp/idx" >/dev/null
token="api-check-$$"
KEFU_ADMIN_TOKEN="$token" serve --index "$tmp/idx"
# Every check on every route, but for three bodies valid only by content no JSON schema can
# state (see scripts/schemathesis.toml): those routes get every other check in a second run.
inexpressible='^(POST /v1/kb/import|POST /v1/audit|POST /v2/check)$'
st() {
  PYTHONPATH=scripts SCHEMATHESIS_HOOKS=schemathesis_hooks "$venv/bin/st" \
    --config-file scripts/schemathesis.toml run "$url/openapi.json" \
    -H "Authorization: Bearer $token" --max-examples "$examples" "$@"
}
st --checks all --exclude-name-regex "$inexpressible"
st --checks all --exclude-checks positive_data_acceptance --include-name-regex "$inexpressible"
