#!/usr/bin/env bash
# The import benchmark (tests/integration/benches/import.rs): starts the AWS emulator, then
# imports BENCH_ORDERS (default 10,000) sandbox orders with the rate limit off and on, then
# Yahoo (BENCH_YAHOO_ORDERS, default 100) and au PAY (BENCH_AUPAY_ORDERS, default 100) at
# their real pace.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ICHIGEN_ROOT"
trap cleanup EXIT
ensure_python_tools
start_moto
cargo bench --locked -p ichigen-integration --bench import
