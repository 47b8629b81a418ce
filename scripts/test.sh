#!/usr/bin/env bash
# Runs Airlock's whole test suite on a fresh machine: installs the guest targets the
# build needs (a no-op when present), then every test of every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2 wasm32-unknown-unknown >/dev/null

cargo test --workspace --locked "$@"
