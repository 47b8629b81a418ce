#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a fixed number of inputs from its committed seed
# corpus, and fails on the first crash, assertion, leak, timeout or out-of-memory,
# printing the reproducer. Prints how many inputs each target executed and how long it
# took. Installs what it needs when missing (each a no-op when present): a nightly
# toolchain with the wasm targets the host's build script uses, and cargo-fuzz.
#
# The budget is work, not time: a fixed seed and a fixed number of inputs per target, so
# a slow or busy machine runs the same amount of fuzzing as a fast one. Runs are not
# identical across builds (coverage feedback differs with hash seeds and code layout), so
# a smoke run can still find something new; what it finds becomes a regression case and
# a named seed. FUZZ_SCALE multiplies every budget (e.g. FUZZ_SCALE=10); FUZZ_SEED picks
# another sequence (0: libFuzzer picks one). Exploratory runs, hours long: fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

scale="${FUZZ_SCALE:-1}"
seed="${FUZZ_SEED:-1}"
# Inputs per target, 15 to 60 s each on this project's CI machine (2 cores).
declare -A runs=(
  [api_requests]=8000
  [image_check]=2000000
  [output_pipeline]=15000
  [sanitize_html]=20000
  [sanitize_secrets]=30000
  [sse]=1000000
)
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
  budget=$(( ${runs[$target]:-10000} * scale ))
  status=0
  target_started=$SECONDS
  # -max_total_time only guards against a stuck machine; the runs are the budget.
  cargo +"$toolchain" fuzz run "${build_flags[@]}" "$target" "$scratch" "corpus/$target" -- \
    -runs="$budget" -max_total_time=$((600 * scale)) -seed="$seed" -timeout=60 -rss_limit_mb=4096 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  took=$((SECONDS - target_started))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1) || true
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //') || true
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    summary+=("$(printf '%-18s FAILED after %s executions' "$target" "${executions:-?}")")
    echo "== $target FAILED (exit $status); what failed:"
    grep -m 1 -A 12 'panicked at' "$log" || true
    echo "-- the end of its log:"
    tail -n 30 "$log"
    for artifact in artifacts/"$target"/*; do
      [ "$artifact" -nt target/smoke/stamp ] || continue
      echo "-- reproducer fuzz/$artifact ($(wc -c <"$artifact") bytes), base64:"
      base64 -w 0 "$artifact"
      echo
      echo "-- replay: (cd fuzz && cargo +$toolchain fuzz run ${build_flags[*]} $target $artifact)"
    done
  else
    summary+=("$(printf '%-18s %10s executions in %4s s, coverage %s, %s new corpus inputs' \
      "$target" "${executions:-?}" "$took" "${coverage:-?}" "$(find "$scratch" -type f | wc -l)")")
  fi
done

echo "== fuzz smoke summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz-smoke: FAILED: ${failed[*]} (reproducers above and in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: every target ran its inputs (seed $seed, scale $scale) without a failure ($((SECONDS - started)) s in all)"
