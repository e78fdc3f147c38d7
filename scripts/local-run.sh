#!/usr/bin/env bash
# The local end-to-end run: AWS emulator + mall sandbox (Rakuten, Yahoo, au PAY, Qoo10, Amazon) + the import-orders
# and mall-writer functions.
#
# 1. installs what is missing (.venv: moto, cfn-lint, cargo-lambda);
# 2. starts the AWS emulator (moto) and the mall sandbox;
# 3. creates a demo shop: table, import and mall-write queues + DLQs, one secret per store, two Rakuten stores
#    a Yahoo! Shopping store, two au PAY Market stores, a Qoo10 store (one cart split across
#    three carriers) and an Amazon.co.jp store;
# 4. seeds orders in the sandbox (including odd ones: several destinations, coupons and points,
#    gift wrapping, konbini unpaid, emoji, a total that does not add up …);
# 5. runs the import through the function code under `cargo lambda watch`, invoked with the
#    sample schedule event, prints what happened, re-reads the same orders (a range
#    re-import and the next scheduled run) to show that nothing is imported twice, then
#    sends a targeted re-import through the SQS event shape; after each import, the writes it
#    queued (confirmOrder, orderStatusChange, updateTradeStsProc, SetSellerCheckYN_V2) are
#    handed to the mall-writer function, as Lambda's event source does when deployed;
# 5b. calls the shop API (shop-api, served by the same `cargo lambda watch`) with curl: lists
#    held orders, clears a hold, reports a shipment twice with one Idempotency-Key (acted on
#    once), sets a stock level;
# 6. stops everything it started — or, with --keep, leaves it running for `cargo lambda invoke`
#    from another shell (`source .local/function.env` there) until Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ICHIGEN_ROOT"
trap cleanup EXIT

KEEP=false
[[ "${1:-}" == "--keep" ]] && KEEP=true
SHOP="${ICHIGEN_DEMO_SHOP:-demo}"
ORDERS="${ICHIGEN_DEMO_ORDERS:-40}"

ensure_python_tools --with-cargo-lambda
start_moto

say "building the CLI, the sandbox and the function"
cargo build --locked -p ichigen-cli -p ichigen-sandbox -p import-orders -p mall-writer -p shop-api
ICHIGEN="$ICHIGEN_ROOT/target/debug/ichigen"

say "starting the mall sandbox"
SANDBOX_PORT="$(free_port)"
"$ICHIGEN_ROOT/target/debug/ichigen-sandbox" --port "$SANDBOX_PORT" >"$LOCAL_DIR/sandbox.log" 2>&1 &
STARTED_PIDS+=("$!")
SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
for _ in $(seq 1 100); do grep -q "listening on" "$LOCAL_DIR/sandbox.log" && break; sleep 0.05; done

say "creating the demo shop '$SHOP' and seeding $ORDERS orders per store"
"$ICHIGEN" demo setup --shop "$SHOP" --sandbox-url "$SANDBOX_URL" --orders "$ORDERS" \
  --env-file "$LOCAL_DIR/function.env"

say "starting the function under cargo lambda watch"
LAMBDA_PORT="$(free_port)"
# shellcheck disable=SC1091
source "$LOCAL_DIR/function.env"
# --ignore-changes: an edit in the work tree during the run must not restart the function
# under an invocation (the invocation would be lost).
setsid cargo lambda watch --ignore-changes -A 127.0.0.1 -P "$LAMBDA_PORT" \
  --env-vars "ICHIGEN_TABLE=$ICHIGEN_TABLE,ICHIGEN_IMPORT_QUEUE_URL=$ICHIGEN_IMPORT_QUEUE_URL,ICHIGEN_WRITE_QUEUE_URL=$ICHIGEN_WRITE_QUEUE_URL,ICHIGEN_SHOP_ID=$SHOP,ICHIGEN_RAKUTEN_BASE_URL=$SANDBOX_URL,ICHIGEN_YAHOO_BASE_URL=$SANDBOX_URL,ICHIGEN_AUPAY_BASE_URL=$SANDBOX_URL,ICHIGEN_QOO10_BASE_URL=$SANDBOX_URL,ICHIGEN_AMAZON_BASE_URL=$SANDBOX_URL,ICHIGEN_MALL_RPS=50,AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL,AWS_REGION=$AWS_REGION,AWS_ACCESS_KEY_ID=test,AWS_SECRET_ACCESS_KEY=test,RUST_LOG=warn" \
  >"$LOCAL_DIR/lambda-watch.log" 2>&1 &
STARTED_PIDS+=("$!")
for _ in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:$LAMBDA_PORT/" && break
  sleep 0.1
done
echo "export ICHIGEN_LAMBDA_PORT=$LAMBDA_PORT" >>"$LOCAL_DIR/function.env"

invoke() {  # invoke EVENT_FILE OUTPUT_FILE: an import, then the mall-writer's turn
  cargo lambda invoke import-orders -A 127.0.0.1 -P "$LAMBDA_PORT" --data-file "$1" --output-format json >"$2"
  "$ICHIGEN" writes deliver \
    --function-url "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/mall-writer/invocations" \
    >"$2.writes" 2>&1 || { cat "$2.writes" >&2; return 1; }
}
summarize() {  # summarize OUTPUT_FILE: what the import did, then what the mall-writer did
  "$ICHIGEN" demo summarize "$1"
  cat "$1.writes"
}

say "the mall stops returning one listed order of rakuten:store-b (it will be quarantined, not block the store)"
"$ICHIGEN" demo quarantine --set --shop "$SHOP" --sandbox-url "$SANDBOX_URL"

for store in store-a store-b; do
  event="$LOCAL_DIR/schedule-$store.json"
  printf '{"type": "differential", "store": "rakuten:%s"}\n' "$store" >"$event"
  say "invoking import-orders for rakuten:$store (first run)"
  invoke "$event" "$LOCAL_DIR/run1-$store.json"
  summarize "$LOCAL_DIR/run1-$store.json"
done

say "invoking import-orders for yahoo:store-y (first run: YConnect token, signed order API, XML)"
printf '{"type": "differential", "store": "yahoo:store-y"}\n' >"$LOCAL_DIR/schedule-store-y.json"
invoke "$LOCAL_DIR/schedule-store-y.json" "$LOCAL_DIR/run1-store-y.json"
summarize "$LOCAL_DIR/run1-store-y.json"
say "and again for yahoo:store-y (nothing imported or written twice)"
invoke "$LOCAL_DIR/schedule-store-y.json" "$LOCAL_DIR/run2-store-y.json"
summarize "$LOCAL_DIR/run2-store-y.json"

for store in store-au1 store-au2; do
  event="$LOCAL_DIR/schedule-$store.json"
  printf '{"type": "differential", "store": "aupay:%s"}\n' "$store" >"$event"
  say "invoking import-orders for aupay:$store (first run: Bearer key + shopId, full orders in the list, status by name)"
  invoke "$event" "$LOCAL_DIR/run1-$store.json"
  summarize "$LOCAL_DIR/run1-$store.json"
done
say "and again for aupay:store-au1 (nothing imported or written twice)"
invoke "$LOCAL_DIR/schedule-store-au1.json" "$LOCAL_DIR/run2-store-au1.json"
summarize "$LOCAL_DIR/run2-store-au1.json"

say "invoking import-orders for qoo10:store-q (first run: certification key, per-line rows, a cart split by carrier)"
printf '{"type": "differential", "store": "qoo10:store-q"}\n' >"$LOCAL_DIR/schedule-store-q.json"
invoke "$LOCAL_DIR/schedule-store-q.json" "$LOCAL_DIR/run1-store-q.json"
summarize "$LOCAL_DIR/run1-store-q.json"
say "and again for qoo10:store-q (nothing imported or confirmed twice)"
invoke "$LOCAL_DIR/schedule-store-q.json" "$LOCAL_DIR/run2-store-q.json"
summarize "$LOCAL_DIR/run2-store-q.json"

say "invoking import-orders for amazon:store-amz (first run: LWA token, getOrders by update time, restricted-data token for names and addresses)"
printf '{"type": "differential", "store": "amazon:store-amz"}\n' >"$LOCAL_DIR/schedule-store-amz.json"
invoke "$LOCAL_DIR/schedule-store-amz.json" "$LOCAL_DIR/run1-store-amz.json"
summarize "$LOCAL_DIR/run1-store-amz.json"

say "life goes on at the malls: buyers pay, lines and orders are cancelled, a buyer asks to cancel"
"$ICHIGEN" demo mall-changes --shop "$SHOP" --sandbox-url "$SANDBOX_URL"
say "and again for amazon:store-amz (its list shows the paid orders: followed, not imported twice)"
invoke "$LOCAL_DIR/schedule-store-amz.json" "$LOCAL_DIR/run2-store-amz.json"
summarize "$LOCAL_DIR/run2-store-amz.json"
for store in rakuten:store-a yahoo:store-y aupay:store-au1 qoo10:store-q amazon:store-amz; do
  say "following $store's open orders on the mall (the open-orders schedule)"
  event="$LOCAL_DIR/open-orders-${store#*:}.json"
  printf '{"type": "open_orders", "store": "%s"}\n' "$store" >"$event"
  invoke "$event" "$LOCAL_DIR/open-${store#*:}.json"
  summarize "$LOCAL_DIR/open-${store#*:}.json"
done

FROM="$(date -u -d '-24 hours' +%Y-%m-%dT%H:%M:%SZ)"
TO="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for store in store-a store-b; do
  say "invoking import-orders for rakuten:$store again, re-reading the last 24 hours (nothing may be imported twice)"
  event="$LOCAL_DIR/range-$store.json"
  printf '{"type": "range", "store": "rakuten:%s", "from": "%s", "to": "%s"}\n' "$store" "$FROM" "$TO" >"$event"
  invoke "$event" "$LOCAL_DIR/run2-$store.json"
  summarize "$LOCAL_DIR/run2-$store.json"
  say "and the next scheduled run of rakuten:$store (re-reads the overlap before the checkpoint)"
  invoke "$LOCAL_DIR/schedule-$store.json" "$LOCAL_DIR/run3-$store.json"
  summarize "$LOCAL_DIR/run3-$store.json"
done

say "the quarantine (ichigen failed list)"
"$ICHIGEN" failed list --table "$ICHIGEN_TABLE"
"$ICHIGEN" demo quarantine --clear --shop "$SHOP" --sandbox-url "$SANDBOX_URL" --event-file "$LOCAL_DIR/sqs-retry.json"
invoke "$LOCAL_DIR/sqs-retry.json" "$LOCAL_DIR/run-retry.json"
summarize "$LOCAL_DIR/run-retry.json"
"$ICHIGEN" failed list --table "$ICHIGEN_TABLE"

say "an operator re-imports one order after the mall changed it (SQS event)"
"$ICHIGEN" demo change-one --shop "$SHOP" --sandbox-url "$SANDBOX_URL" --event-file "$LOCAL_DIR/sqs-reimport.json"
invoke "$LOCAL_DIR/sqs-reimport.json" "$LOCAL_DIR/run4.json"
summarize "$LOCAL_DIR/run4.json"

say "the shop API (shop-api under the same cargo lambda watch): what a warehouse and an operator do"
API="http://127.0.0.1:$LAMBDA_PORT/lambda-url/shop-api/shops/$SHOP"
json() { python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), ensure_ascii=False, indent=1))'; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
echo "\$ curl \"\$API/orders?held=true&limit=5\"    (one line per order here; the answer is JSON)" >&2
curl -sf "$API/orders?held=true&limit=5" | field '"\n".join("  %s  %s  holds: %s  lines: %d" % (o["id"], o["status"], ", ".join(h["kind"] for h in o["holds"]), len(o["lines"])) for o in d["orders"]) + "\n  next_cursor: " + str(d["next_cursor"])[:24] + "…"'
HELD="$(curl -sf "$API/orders?hold=totals_mismatch&store=rakuten:store-a&limit=1" | field 'd["orders"][0]["id"]')"
echo "\$ curl -X POST \"\$API/orders/$HELD/holds/clear\" -H 'Idempotency-Key: demo-clear-1' -d '{\"by\": \"sato\", \"reason\": \"checked the amounts with the buyer\"}'" >&2
curl -sf -X POST "$API/orders/$HELD/holds/clear" -H 'Idempotency-Key: demo-clear-1' \
  -H 'content-type: application/json' -d '{"by": "sato", "reason": "checked the amounts with the buyer"}' \
  | field '"  " + d["id"] + " is now " + d["status"] + "; history: " + d["history"][-1]["event"]'
READY="$(curl -sf "$API/orders?status=ready_to_ship&store=yahoo:store-y&limit=1" | field 'd["orders"][0]["id"]')"
echo "\$ curl -X POST \"\$API/orders/$READY/shipment\" -H 'Idempotency-Key: demo-ship-1' -d '{\"carrier\": \"yamato\", \"tracking_numbers\": [\"1234-5678-9012\"], \"shipped_on\": \"…\", \"by\": \"warehouse\"}'" >&2
for attempt in 1 2; do
  curl -sf -D "$LOCAL_DIR/ship-headers.txt" -X POST "$API/orders/$READY/shipment" -H 'Idempotency-Key: demo-ship-1' \
    -H 'content-type: application/json' \
    -d "{\"carrier\": \"yamato\", \"tracking_numbers\": [\"1234-5678-9012\"], \"shipped_on\": \"$(date +%Y-%m-%d)\", \"by\": \"warehouse\"}" \
    | field '"  " + d["id"] + " is now " + d["status"]'
  grep -i '^idempotent-replayed' "$LOCAL_DIR/ship-headers.txt" | sed 's/^/  (the same request again: /; s/\r$/)/' || true
done
echo "\$ curl -X PUT \"\$API/stock/TEA-SET\" -H 'Idempotency-Key: demo-stock-1' -d '{\"quantity\": 12}'" >&2
curl -sf -X PUT "$API/stock/TEA-SET" -H 'Idempotency-Key: demo-stock-1' -H 'content-type: application/json' \
  -d '{"quantity": 12}' | json

say "report"
"$ICHIGEN" demo report --shop "$SHOP" --sandbox-url "$SANDBOX_URL"

if $KEEP; then
  say "still running: AWS emulator $AWS_ENDPOINT_URL, sandbox $SANDBOX_URL, cargo lambda watch on port $LAMBDA_PORT"
  echo "In another shell: source .venv/bin/activate && source .local/function.env" >&2
  echo '  cargo lambda invoke import-orders -A 127.0.0.1 -P "$ICHIGEN_LAMBDA_PORT" --data-file events/schedule-store-a.json' >&2
  echo "Ctrl-C stops everything." >&2
  trap 'cleanup; exit 0' INT TERM
  while true; do sleep 3600; done
fi
