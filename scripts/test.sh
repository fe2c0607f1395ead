#!/usr/bin/env bash
# Installs what the tests need and runs every check: formatting, clippy, unit and integration
# tests (SQLite and PostgreSQL), then the browser tests against a real server.
source "$(dirname "$0")/lib.sh"

apt_install chromium postgresql sip-tester
ensure_rust_tools
ensure_node_tools

# PostgreSQL: use the one running on 127.0.0.1:5432, or start the packaged cluster.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export POL_TEST_POSTGRES_URL="${POL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# One set of flags for every host build, the same cargo-leptos uses for debug builds, so nothing
# is compiled twice.
export RUSTFLAGS="--cfg erase_components"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
log "unit and integration tests (SQLite and PostgreSQL)"
# Bounded so a stuck test fails the run instead of eating CI's whole budget. One test at a
# time: each integration test runs its own server and runtime, and several servers sharing
# process-wide framework state have (rarely) stalled a request.
timeout 2400 cargo test --workspace -- --test-threads=1

log "building the site for the browser tests"
scripts/build-site.sh debug
log "browser tests (headless Chromium)"
(cd end2end && POL_BIN="$TARGET_DIR/debug/pol" LEPTOS_SITE_ROOT="$SITE_ROOT" timeout 900 npm test)
