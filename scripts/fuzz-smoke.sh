#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a short, bounded time (FUZZ_SECONDS, default 20 s
# each) from its committed seed corpus, and fails on the first crash, assertion, leak,
# timeout or out-of-memory, printing the reproducer. Prints how many inputs each target
# executed. Installs what it needs when missing (each a no-op when present): a nightly
# toolchain with the wasm targets the host's build script uses, and cargo-fuzz.
#
# Longer runs and how to reproduce a crash: fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
# A fixed seed keeps CI runs alike (the number of inputs still depends on the machine's
# speed); FUZZ_SEED=0 lets libFuzzer pick one.
seed="${FUZZ_SEED:-1}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
cargo_fuzz_version=0.13.2
# Fuzz builds skip AddressSanitizer by default: every target is safe Rust, and without
# it the build is about a third faster and the targets run about twice as fast. Set
# FUZZ_SANITIZER=address for a run that also checks the dependencies' unsafe code.
sanitizer="${FUZZ_SANITIZER:-none}"
# cargo-fuzz builds with one codegen unit (faster targets, slower build); e.g.
# FUZZ_CODEGEN_UNITS=16 trades run speed for a faster build.
build_flags=(--sanitizer "$sanitizer")
[ -n "${FUZZ_CODEGEN_UNITS:-}" ] && build_flags+=(--codegen-units "$FUZZ_CODEGEN_UNITS")

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$toolchain" --profile minimal
fi
# host/build.rs compiles the bundled plugins (wasm32-unknown-unknown) with the toolchain of
# the outer build.
rustup target add --toolchain "$toolchain" wasm32-unknown-unknown >/dev/null
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

cd fuzz
mkdir -p target/smoke
started=$SECONDS
echo "building the fuzz targets (sanitizer: $sanitizer, $(rustup run "$toolchain" rustc --version))"
cargo +"$toolchain" fuzz build "${build_flags[@]}" >target/smoke/build.log 2>&1 || {
  tail -n 60 target/smoke/build.log
  echo "fuzz-smoke: the fuzz targets do not build" >&2
  exit 1
}
echo "built in $((SECONDS - started)) s"
failed=()
summary=()
for target in $(cargo +"$toolchain" fuzz list); do
  # New inputs go to a scratch corpus; the committed seeds (corpus/<target>) are only read.
  scratch="target/smoke/corpus-$target"
  log="target/smoke/$target.log"
  rm -rf "$scratch"
  mkdir -p "$scratch" "corpus/$target"
  touch target/smoke/stamp
  # libFuzzer's time includes start-up; api_requests first starts a server (and, on a
  # fresh machine, compiles the bundled plugins), so it gets 30 s more.
  budget=$seconds
  [ "$target" = api_requests ] && budget=$((seconds + 30))
  status=0
  cargo +"$toolchain" fuzz run "${build_flags[@]}" "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$budget" -seed="$seed" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1) || true
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //') || true
  # fuzz/known-failures.txt: `target: <text of the panic> | <what it is>`; only a failure
  # whose log holds that exact panic text counts as known, any other one fails.
  known=$(sed -n "s/^$target: //p" known-failures.txt 2>/dev/null | head -n 1)
  if [ "$status" -ne 0 ] && [ -n "$known" ] && grep -qF "${known%% | *}" "$log"; then
    summary+=("$(printf '%-18s KNOWN FAILURE after %s executions: %s' "$target" "${executions:-?}" "$known")")
    echo "== $target: KNOWN FAILURE, not fixed yet (fuzz/known-failures.txt): $known"
    grep -m 1 -A 4 'panicked at' "$log" || true
  elif [ "$status" -ne 0 ]; then
    failed+=("$target")
    summary+=("$(printf '%-18s FAILED after %s executions' "$target" "${executions:-?}")")
    echo "== $target FAILED (exit $status); the end of its log:"
    tail -n 60 "$log"
    for artifact in artifacts/"$target"/*; do
      [ "$artifact" -nt target/smoke/stamp ] || continue
      echo "-- reproducer fuzz/$artifact ($(wc -c <"$artifact") bytes), base64:"
      base64 -w 0 "$artifact"
      echo
      echo "-- replay: (cd fuzz && cargo +$toolchain fuzz run ${build_flags[*]} $target $artifact)"
    done
  else
    summary+=("$(printf '%-18s %10s executions in %s s, coverage %s, %s new corpus inputs' \
      "$target" "${executions:-?}" "$budget" "${coverage:-?}" "$(find "$scratch" -type f | wc -l)")")
  fi
done

echo "== fuzz smoke summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz-smoke: FAILED: ${failed[*]} (reproducers above and in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: every target ran ${seconds} s without a failure ($((SECONDS - started)) s in all)"
