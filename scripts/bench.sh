#!/usr/bin/env bash
# The import benchmark (tests/integration/benches/import.rs): starts the AWS emulator, then
# imports BENCH_ORDERS (default 10,000) sandbox orders with the rate limit off and on.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ICHIGEN_ROOT"
trap cleanup EXIT
ensure_python_tools
start_moto
cargo bench --locked -p ichigen-integration --bench import
