#!/usr/bin/env bash
# npm test: type-check, build the binary the end-to-end tests run, then bun test.
# JUNIT_REPORT=FILE also writes a JUnit report (CI counts passes from it).
set -euo pipefail
cd "$(dirname "$0")/.."
tsc --noEmit -p .
bun run build >/dev/null
args=(--timeout 60000)
[ -n "${JUNIT_REPORT:-}" ] && args+=(--reporter=junit "--reporter-outfile=$JUNIT_REPORT")
exec bun test "${args[@]}" "$@"
