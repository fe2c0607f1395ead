#!/usr/bin/env bash
# Builds the panel without cargo-leptos (same output layout): the hydration WASM in release mode,
# wasm-bindgen, wasm-opt, the stylesheet and assets, then the server.
#   scripts/build-site.sh [debug|release]
source "$(dirname "$0")/lib.sh"
profile="${1:-release}"
ensure_rust_tools
ensure_node_tools

log "building the hydration bundle (wasm32, wasm-release profile)"
cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --profile wasm-release
pkg="$SITE_ROOT/pkg"
rm -rf "$pkg" && mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name pol "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/app.wasm"
log "optimising the WASM (wasm-opt $(wasm-opt --version | awk '{print $3}'))"
wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals "$pkg/pol_bg.wasm" -o "$pkg/pol_bg.wasm"
cp "$pkg/pol_bg.wasm" "$pkg/pol.wasm"
cp style/main.css "$pkg/pol.css"
cp -r public/. "$SITE_ROOT/"
for f in "$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css; do gzip -9 -k -f "$f"; done
log "WASM: $(stat -c %s "$pkg/pol_bg.wasm") bytes, gzipped $(stat -c %s "$pkg/pol_bg.wasm.gz") bytes"

log "building the server ($profile)"
if [ "$profile" = release ]; then
  cargo build -p server --release
else
  RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}" cargo build -p server
fi
