#!/usr/bin/env bash
# The benchmarks: starts the AWS emulator, then the import (tests/integration/benches/import.rs:
# BENCH_ORDERS, default 10,000, Rakuten sandbox orders with the rate limit off and on, then
# Yahoo, au PAY, Qoo10 and Amazon at their real pace: BENCH_YAHOO_ORDERS, BENCH_AUPAY_ORDERS,
# BENCH_QOO10_CARTS, default 100 each, BENCH_AMAZON_ORDERS, default 60); then the shop API
# (tests/integration/benches/shop_api.rs: BENCH_API_ORDERS imported orders, default 1,000;
# BENCH_API_CALLS calls of each kind, default 200); then following the malls
# (tests/integration/benches/follow.rs: BENCH_FOLLOW_PAYMENTS payments on the malls, default
# 500, BENCH_FOLLOW_SEED, default 2026; five stores' open-orders runs at the malls' real pace).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ICHIGEN_ROOT"
trap cleanup EXIT
ensure_python_tools
start_moto
cargo bench --locked -p ichigen-integration --bench import
cargo bench --locked -p ichigen-integration --bench shop_api
cargo bench --locked -p ichigen-integration --bench follow
