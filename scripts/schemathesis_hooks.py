"""Hooks of scripts/api-check.sh: JSON lines (`application/x-ndjson`, the audit body) go on the
wire as the text they are, as `text/plain` bodies do."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
