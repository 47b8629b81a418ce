#!/usr/bin/env bash
# Runs Airlock's whole test suite on a fresh machine: installs what the tests need (the
# guest targets; Debian's chromium and playwright-core from npm for the browser test,
# minisign for the signature interoperability check; the official `openai` Python
# package for the OpenAI-compatibility check),
# each a no-op when present, then every test of every crate, the traces test (the
# `otel` feature) and schemathesis against a live server.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2 wasm32-unknown-unknown >/dev/null

if { [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || [ ! -x /usr/bin/minisign ]; } \
  && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  packages="chromium minisign"
  apt-get install -y -q $packages >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; }
fi
if [ ! -d tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null; then
  (cd tests/browser && npm ci --no-audit --no-fund >/dev/null)
fi
if [ ! -d examples/js-sanitizer/node_modules ] && command -v npm >/dev/null; then
  (cd examples/js-sanitizer && npm ci --no-audit --no-fund >/dev/null)
fi

if ! python3 -c "import openai" 2>/dev/null && command -v python3 >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
fi

# Every group runs even when an earlier one failed; the summary at the end says which.
log_dir="$(mktemp -d)"
trap 'rm -rf "$log_dir"' EXIT
summary=()
failed=0

# Runs cargo test with the given arguments as group $1, keeping its output for the summary.
cargo_group() {
  local name="$1"
  shift
  local log="$log_dir/$name.log" status=0
  cargo test --no-fail-fast --locked "$@" 2>&1 | tee "$log" || status=$?
  # `test result: ok. 3 passed; 0 failed; 1 ignored; ...`, one line per test binary.
  local counts
  counts=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1); if ($(i) ~ /^ignored/) g += $(i-1) } }
    END { printf "%d passed, %d failed, %d ignored", p, f, g }' "$log")
  local skipped
  skipped=$(grep -c -E 'SKIPP(ING|ED)' "$log" || true)
  summary+=("$(printf '%-14s %s, %s skipped loudly%s' "$name" "$counts" "$skipped" "$([ "$status" -ne 0 ] && echo ' — FAILED')")")
  [ "$status" -eq 0 ] || failed=1
}

cargo_group "rust" --workspace "$@"

# With arguments (a test filter) only the filtered Rust tests run; without, the rest of
# the suite: the host built with the `otel` feature (one test binary, against a fake
# collector) and schemathesis against a live server (both listeners' OpenAPI documents).
if [ "$#" -eq 0 ]; then
  echo "== traces (the host built with the otel feature: one test binary)"
  # `--workspace` keeps the dependencies' features those of the build above, so only
  # the host is built again (with `-p airlock` alone, wasmtime would be rebuilt too).
  cargo_group "traces" --workspace --features airlock/otel --test otel
  echo "== schemathesis (the API as documented)"
  if bash scripts/schemathesis.sh; then
    summary+=("$(printf '%-14s passed' schemathesis)")
  else
    summary+=("$(printf '%-14s FAILED' schemathesis)")
    failed=1
  fi
fi

echo "== test summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
