#!/usr/bin/env bash
# Sets up whatever is missing, builds in release mode with cargo-leptos and serves the panel at
# http://127.0.0.1:3000 on the embedded defaults (SQLite and mail outbox under ./data).
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_node_tools
ensure_cargo_leptos

log "building the panel (release)"
cargo leptos build --release

export LEPTOS_SITE_ROOT="$SITE_ROOT"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
log "serving on http://$LEPTOS_SITE_ADDR (Ctrl-C stops)"
exec "$TARGET_DIR/release/pol" serve
