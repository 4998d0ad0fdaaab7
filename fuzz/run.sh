#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser with libFuzzer, on the stable toolchain.
#
#   bash fuzz/run.sh                          # every target for 60 s
#   bash fuzz/run.sh --seconds 600 glb cmpt   # the named targets, 10 min each
#   bash fuzz/run.sh --runs 10000000          # 10 million executions per target
#   bash fuzz/run.sh --runs 10000000 --seconds 1500   # ... or 25 min, whichever comes first
#   bash fuzz/run.sh --smoke                  # CI: every target on its seeds, then 2 s of fuzzing (opt-level 1)
#
# The stable route: libfuzzer-sys (cargo-fuzz's runtime) only needs code compiled with LLVM's
# SanitizerCoverage, and the flags cargo-fuzz passes for that are stable `-C` options
# (`-C passes=sancov-module`, `-C llvm-args=-sanitizer-coverage-*`). So no nightly compiler is
# needed. FUZZ_ASAN=1 adds AddressSanitizer (`-Z sanitizer=address`, unstable: this script then sets
# RUSTC_BOOTSTRAP=1); our Rust is memory-safe, so it is off by default and fuzzing runs ~2× faster.
# Where cargo-fuzz is installed, `RUSTC_BOOTSTRAP=1 cargo fuzz run <target>` uses the same layout.
#
# Seeds: the shared samples (CITYTWIN_DATA, default ../shared/data) by kind, the invalid corpus,
# tests/corpus/fuzz/ (inputs that once failed) and fuzz/seeds/. The corpus grows in FUZZ_CORPUS
# (default ~/.cache/citytwin-fuzz/corpus). A crash, leak of memory past 2 GiB or input slower than
# 10 s is saved under fuzz/artifacts/<target>/ and fails the run; copy it into
# tests/corpus/fuzz/<target>/ and tests/fuzz_regressions.rs runs it in the normal suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${CITYTWIN_DATA:-$ROOT/../shared/data}
CORPUS=${FUZZ_CORPUS:-$HOME/.cache/citytwin-fuzz/corpus}
TARGET_DIR=${FUZZ_TARGET_DIR:-$HOME/.cache/citytwin-fuzz/target}
ALL=(tileset_json glb b3dm i3dm pnts cmpt subtree feature_table batch_table mesh_features osm_pbf live_client live_values sta_request)

mode=()
targets=()
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) mode+=("-max_total_time=$2"); shift 2 ;;
    --runs) mode+=("-runs=$2"); shift 2 ;;
    --smoke) mode=(-max_total_time=2); CORPUS=$(mktemp -d); profile=smoke; shift ;;  # seeds only: bounded, repeatable
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
[ ${#mode[@]} -gt 0 ] || mode=(-max_total_time=60)
[ -d "$DATA/3dtiles" ] || { echo "fuzz/run.sh: shared data missing at $DATA (set CITYTWIN_DATA)" >&2; exit 1; }

host=$(rustc -vV | sed -n 's/^host: //p')
flags="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=4 -C llvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -C llvm-args=-sanitizer-coverage-pc-table -C llvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
flags+=" -C debug-assertions -C overflow-checks"
if [ "${FUZZ_ASAN:-0}" = 1 ]; then
  flags+=" -Z sanitizer=address"
  export RUSTC_BOOTSTRAP=1
fi
start=$(date +%s)
# --target: the flags reach our code and its dependencies, not build scripts and proc macros.
RUSTFLAGS="$flags" cargo build --profile "$profile" --manifest-path fuzz/Cargo.toml --target "$host" --target-dir "$TARGET_DIR" \
  --bins ${targets[@]/#/--bin }
echo "fuzz/run.sh: built in $(( $(date +%s) - start )) s"
BIN=$TARGET_DIR/$host/$profile

# Seeds per target, gathered fresh (subtrees get the scheme/levels byte their target reads first).
SEEDS=$(mktemp -d)
trap 'rm -rf "$SEEDS"' EXIT
copy() { local t=$1; shift; mkdir -p "$SEEDS/$t"; for f in "$@"; do [ -f "$f" ] && cp "$f" "$SEEDS/$t/$(echo "$f" | sha1sum | cut -c1-12)-$(basename "$f")"; done; return 0; }
shared() { find "$DATA" "$ROOT/tests/corpus/invalid" -type f -name "$1" 2>/dev/null; }
mapfile -t jsons < <(shared '*.json' | xargs grep -l '"root"' 2>/dev/null || true)
copy tileset_json "${jsons[@]}" $(shared 'tileset-*')
mapfile -t glbs < <(shared '*.glb')
copy glb "${glbs[@]}"
copy mesh_features "${glbs[@]}"
for k in b3dm i3dm pnts cmpt; do mapfile -t f < <(shared "*.$k"); copy "$k" "${f[@]}"; done
mkdir -p "$SEEDS/subtree"
while read -r f; do { printf '\006'; cat "$f"; } > "$SEEDS/subtree/$(basename "$f")"; done < <(shared '*.subtree')
copy osm_pbf $(find "$DATA/osm" "$ROOT/tests/corpus/osm" -type f -name '*.pbf')
for t in "${ALL[@]}"; do
  [ -d "fuzz/seeds/$t" ] && copy "$t" fuzz/seeds/"$t"/*
  [ -d "tests/corpus/fuzz/$t" ] && copy "$t" tests/corpus/fuzz/"$t"/*
done

failed=()
printf '\n%-14s %12s %10s %8s %s\n' target executions exec/s seeds result
for t in "${targets[@]}"; do
  mkdir -p "$CORPUS/$t" "fuzz/artifacts/$t" "$SEEDS/$t"
  log="fuzz/artifacts/$t/last.log"
  set +e
  "$BIN/$t" "${mode[@]}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="${FUZZ_MAX_LEN:-1048576}" \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" "$CORPUS/$t" "$SEEDS/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ $rc -ne 0 ]; then result="FAILED (exit $rc; see $log and fuzz/artifacts/$t/)"; failed+=("$t"); fi
  printf '%-14s %12s %10s %8s %s\n' "$t" "${runs:-?}" "${speed:-?}" "$(ls "$SEEDS/$t" | wc -l)" "$result"
done
echo "fuzz/run.sh: $(( $(date +%s) - start )) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/run.sh: crashes in ${failed[*]}" >&2
  exit 1
fi
