#!/usr/bin/env bash
# The tiler's figures: wall time, peak memory and output of tiling N procedural buildings with the
# release build (the README quotes this script's output).
#
#   bash benches/tiler.sh            # 1,000,000 buildings
#   bash benches/tiler.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
command -v /usr/bin/time >/dev/null || { echo "benches/tiler.sh needs GNU time (apt-get install time)" >&2; exit 1; }
cargo build --release --no-default-features --features cli --bin citytwin
bin=${CARGO_TARGET_DIR:-target}/release/citytwin
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v "$bin" tile procedural --buildings "$n" --seed 1 -o "$out/city" 2>"$out/time"
sed -n 's/^\s*\(Elapsed (wall clock) time.*\|Maximum resident set size.*\)/\1/p' "$out/time"
echo "output: $(du -sh "$out/city" | cut -f1) in $(find "$out/city" -name '*.glb' | wc -l) glb files"
