#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, and the integration tests against the
# AWS emulator (moto) and the mall sandboxes over real HTTP. Installs what is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ICHIGEN_ROOT"
trap cleanup EXIT

# A fresh clone gains nothing from incremental compilation, and its files cost disk.
[[ "${CI:-}" == "true" ]] && export CARGO_INCREMENTAL=0

ensure_python_tools
start_moto

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
say "build directory: $(du -sh target 2>/dev/null | cut -f1)"
