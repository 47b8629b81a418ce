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

cargo test --workspace --locked "$@"

# With arguments (a test filter) only the filtered Rust tests run; without, the rest of
# the suite: the host built with the `otel` feature (one test binary, against a fake
# collector) and schemathesis against a live server (both listeners' OpenAPI documents).
if [ "$#" -eq 0 ]; then
  echo "== traces (the host built with the otel feature: one test binary)"
  cargo test -p airlock --features otel --test otel --locked
  echo "== schemathesis (the API as documented)"
  bash scripts/schemathesis.sh
fi
