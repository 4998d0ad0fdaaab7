#!/usr/bin/env bash
# Builds the browser viewer into wasm/pkg/: the `citytwin-web` binary for wasm32 (profile `web`:
# size-optimised, no LTO), bound by wasm-bindgen --target web, shrunk by wasm-opt -Os, plus
# .gz copies the data server sends to browsers that accept gzip.
#
#   bash wasm/build.sh            # then: cargo run --release -p citytwin-server -- --web-root .
#   bash wasm/build.sh --no-opt   # skips wasm-opt (same code, the module before wasm-opt)
#   bash wasm/build.sh --test     # the browser test's build (CI): profile web-test (opt-level 1), no wasm-opt;
#                                 # same behaviour, a larger module, a fraction of the build time
#
# Normal machines: `rustup target add wasm32-unknown-unknown`. The module is bound by wasm/bindgen/
# (wasm-bindgen-cli-support of the version in Cargo.lock), which this script builds. Where the rustup
# target is missing (offline machines), the toolchain comes from ../shared/tools/wasm-toolchain.sh
# (Debian's rustc-web, std built from source).
#
# Env: CITYTWIN_WASM_TARGET_DIR (default ~/.cache/citytwin-wasm-target), CITYTWIN_NPM_DIR (where
# binaryen's wasm-opt is installed from npm if none is on PATH, default ~/.cache/citytwin-npm).
set -euo pipefail
cd "$(dirname "$0")/.."
OPTIMISE=1
PROFILE=web
case "${1:-}" in
  --no-opt) OPTIMISE=0 ;;
  --test) OPTIMISE=0 PROFILE=web-test ;;
  "") ;;
  *) echo "usage: wasm/build.sh [--no-opt|--test]" >&2; exit 2 ;;
esac
ROOT=$PWD
OUT=$ROOT/wasm/pkg
TARGET_DIR=${CITYTWIN_WASM_TARGET_DIR:-$HOME/.cache/citytwin-wasm-target}
NPM_DIR=${CITYTWIN_NPM_DIR:-$HOME/.cache/citytwin-npm}
BINARYEN_VERSION=132
BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
[ -n "$BINDGEN_VERSION" ] || { echo "build.sh: no wasm-bindgen in Cargo.lock" >&2; exit 1; }

# wasm-bindgen of exactly the version the crate links: our small binder over wasm-bindgen-cli-support
# (wasm/bindgen/), built with the host's toolchain beside the module (cached in the target directory).
PINNED=$(sed -n 's/^wasm-bindgen-cli-support = "=\(.*\)"$/\1/p' wasm/bindgen/Cargo.toml)
[ "$PINNED" = "$BINDGEN_VERSION" ] || {
  echo "build.sh: wasm/bindgen/Cargo.toml pins wasm-bindgen-cli-support $PINNED, Cargo.lock has wasm-bindgen $BINDGEN_VERSION: make them one" >&2
  exit 1
}
cargo build --release --locked --manifest-path wasm/bindgen/Cargo.toml --target-dir "$TARGET_DIR/bindgen" >&2 &
BINDGEN_BUILD=$!
BINDGEN=$TARGET_DIR/bindgen/release/citytwin-bindgen

BUILD_STD=()
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  CARGO=${CARGO:-cargo}
else
  TOOLCHAIN=${WASM_TOOLCHAIN_SCRIPT:-$ROOT/../shared/tools/wasm-toolchain.sh}
  [ -f "$TOOLCHAIN" ] || {
    echo "build.sh: the wasm32 target is missing: run 'rustup target add wasm32-unknown-unknown'" >&2
    exit 1
  }
  echo "build.sh: no rustup wasm32 target; using the offline toolchain from $TOOLCHAIN" >&2
  eval "$(bash "$TOOLCHAIN" env)"
  BUILD_STD=(-Zbuild-std=std,panic_abort)
fi

# No path of the checkout in the flags: a different clone would otherwise rebuild every dependency.
# -D warnings: clippy does not see the wasm-only code, rustc at least holds it to no warnings.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-D warnings --cfg getrandom_backend=\"wasm_js\" --remap-path-prefix=$HOME=~"
start=$(date +%s)
"$CARGO" build --profile "$PROFILE" --target wasm32-unknown-unknown "${BUILD_STD[@]}" \
  --target-dir "$TARGET_DIR" --no-default-features --features web --bin citytwin-web
echo "build.sh: cargo build took $(( $(date +%s) - start )) s" >&2
wait $BINDGEN_BUILD || { echo "build.sh: building wasm/bindgen failed" >&2; exit 1; }

rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
"$BINDGEN" "$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/citytwin-web.wasm" "$OUT.tmp" citytwin

if [ $OPTIMISE = 1 ]; then
  WASM_OPT=$(command -v wasm-opt || true)
  if [ -n "$WASM_OPT" ] && ! "$WASM_OPT" --version | grep -Eq "version (1[2-9][0-9]|[2-9][0-9]{2})"; then
    WASM_OPT=""  # Debian's binaryen 108 breaks wasm-bindgen's externref table
  fi
  if [ -z "$WASM_OPT" ] && command -v npm >/dev/null; then
    [ -x "$NPM_DIR/node_modules/.bin/wasm-opt" ] || npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >&2
    WASM_OPT=$NPM_DIR/node_modules/.bin/wasm-opt
  fi
  if [ -x "$WASM_OPT" ]; then
    "$WASM_OPT" -Os --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$OUT.tmp/citytwin_bg.wasm" -o "$OUT.tmp/citytwin_bg.opt.wasm"
    mv "$OUT.tmp/citytwin_bg.opt.wasm" "$OUT.tmp/citytwin_bg.wasm"
  else
    echo "build.sh: WARNING: no wasm-opt (binaryen >= 116, or npm to install it): the .wasm is not size-optimised" >&2
  fi
fi
for f in "$OUT.tmp"/citytwin_bg.wasm "$OUT.tmp"/citytwin.js; do gzip -9 -k -f "$f"; done
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"

raw=$(stat -c %s "$OUT/citytwin_bg.wasm"); gz=$(stat -c %s "$OUT/citytwin_bg.wasm.gz")
echo "build.sh: $OUT/citytwin_bg.wasm: $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip; total $(( $(date +%s) - start )) s"
