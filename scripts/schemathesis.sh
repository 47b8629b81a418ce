#!/usr/bin/env bash
# Property-based API tests: schemathesis against the real server, run by .ci/run.
#
# Builds `airlock` and the fake OpenAI upstream, starts both on 127.0.0.1 in a temp dir
# (provider `openai-compatible` points at the fake; the other bundled providers may
# reach no host, so nothing leaves the machine), makes a tenant and its API key with the
# CLI, then runs schemathesis over every operation of the public API's /openapi.json
# (with that key) and of the control plane's (with the owner key), with the checks: no
# server error, and status code, content type and response schema as documented.
# Prints the counts; exits non-zero on any failure.
#
# Installs schemathesis at the version pinned in tests/schemathesis/requirements.txt
# when missing (no-op when present). AIRLOCK_ST_MAX_EXAMPLES bounds the cases per
# operation (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

pinned=$(sed -n 's/^schemathesis==//p' tests/schemathesis/requirements.txt)
if [ "$(schemathesis --version 2>/dev/null)" != "schemathesis, version $pinned" ]; then
  python3 -m pip install --quiet --disable-pip-version-check -r tests/schemathesis/requirements.txt
  hash -r
fi
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"

# The whole workspace's binaries: the same feature set as `cargo test --workspace`, so
# nothing is built again after the tests.
cargo build --locked --workspace --bins
airlock="$root/target/debug/airlock"
upstream_bin="$root/target/debug/airlock-fake-upstream"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # URL, what
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "schemathesis: $2 did not come up; its log:" >&2
  cat "$work"/*.log >&2
  exit 1
}

upstream_key="sk-schemathesis-upstream" # pragma: allowlist secret
"$upstream_bin" "$upstream_key" >"$work/upstream.out" 2>"$work/upstream.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/upstream.out" 2>/dev/null && break; sleep 0.1; done
upstream=$(sed -n 's/^listening on //p' "$work/upstream.out")
[ -n "$upstream" ] || { echo "schemathesis: the fake upstream did not start" >&2; cat "$work/upstream.log" >&2; exit 1; }

port=$(free_port)
admin_port=$(free_port)
admin_token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
cat >"$work/airlock.toml" <<TOML
listen = "127.0.0.1:$port"
data_dir = "$work/data"
admin_token = "$admin_token"

[gateway]
admin_listen = "127.0.0.1:$admin_port"
anonymous = false

[providers.openai-compatible]
base_url = "http://$upstream/v1"
hosts = ["http://$upstream"]
api_key = "$upstream_key"

[providers.openai]
hosts = []

[providers.anthropic]
hosts = []

[providers.gemini]
hosts = []
TOML
export AIRLOCK_CONFIG="$work/airlock.toml"

owner=$("$airlock" admin init 2>/dev/null)
"$airlock" serve >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/readyz" "the server"

export AIRLOCK_ADMIN_KEY="$owner"
"$airlock" tenant create schemathesis --name "schemathesis" >/dev/null
key=$("$airlock" key create --tenant schemathesis --role user --name schemathesis |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
unset AIRLOCK_ADMIN_KEY

report="$root/target/schemathesis"
mkdir -p "$report"
failed=0
# run NAME URL KEY: one schemathesis run over the document at URL, with KEY for the
# `api_key` scheme; its report in target/schemathesis/NAME.*; prints its counts.
run() {
  local name=$1 url=$2 status=0
  # From the temp dir: schemathesis keeps its example database in `.schemathesis/` there.
  # One worker: with several, CPython's `ast` (which Hypothesis uses to describe its
  # filters) fails now and then with "AST constructor recursion depth mismatch".
  (cd "$work" && AIRLOCK_ST_KEY="$3" AIRLOCK_ST_ADMIN_TOKEN="$admin_token" \
    schemathesis --config-file "$root/tests/schemathesis/schemathesis.toml" run "$url" \
    --checks "${AIRLOCK_ST_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}" \
    --max-examples "${AIRLOCK_ST_MAX_EXAMPLES:-50}" --workers 1 --seed "${AIRLOCK_ST_SEED:-1}" --request-timeout 20 \
    --report junit --report-junit-path "$report/$name.junit.xml") | tee "$report/$name.txt" || status=$?
  # The counts: operations and test cases (from the summary), failures (from the report).
  python3 - "$name" "$report/$name.junit.xml" "$report/$name.txt" <<'PY'
import re
import sys
import xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[2]).getroot().findall(".//testcase")
failed = sorted({case.get("name") for case in cases if case.find("failure") is not None or case.find("error") is not None})
summary = open(sys.argv[3], encoding="utf-8").read()
tested = re.search(r"Tested: (\d+)", summary)
generated = re.search(r"Test cases:\s*\n\s*(.*)", summary)
print(f"schemathesis ({sys.argv[1]}): {tested.group(1) if tested else '?'} operations tested; "
      f"test cases: {generated.group(1).strip() if generated else '?'}; "
      f"{len(failed)} operations failed{': ' + ', '.join(failed) if failed else ''}")
PY
  [ "$status" -eq 0 ] || failed=$status
}

# The public API with the tenant's key (and the admin token for /admin/…), then the
# control plane with the owner key.
run api "http://127.0.0.1:$port/openapi.json" "$key"
run control "http://127.0.0.1:$admin_port/openapi.json" "$owner"
cp "$work/server.log" "$report/server.log"
if [ "$failed" -ne 0 ]; then
  echo "schemathesis: FAILED; the reports and the server's log are in $report/" >&2
  exit "$failed"
fi
echo "schemathesis: passed"
