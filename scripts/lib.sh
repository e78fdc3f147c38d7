# Shared by scripts/local-run.sh and scripts/test.sh. Source it; don't run it.
#
# Installs what is missing on a fresh machine (Python tools in ./.venv) and starts/stops the
# local AWS emulator (moto server). Everything it starts is stopped by `cleanup` on exit.

ICHIGEN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ICHIGEN_ROOT/.venv"
LOCAL_DIR="$ICHIGEN_ROOT/.local"
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
SCHEMATHESIS_VERSION="4.32.5"
OPENAPI_VALIDATOR_VERSION="0.9.0"
STARTED_PIDS=()

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Python tools in a venv of the project's own: moto (AWS emulator), cfn-lint, schemathesis
# (fuzzes the shop API from its OpenAPI file) and openapi-spec-validator, and with
# `--with-cargo-lambda` also cargo-lambda (it brings zig for cross-linking).
ensure_python_tools() {
  local want=("moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION")
  [[ "${1:-}" == "--with-cargo-lambda" ]] && want+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
  if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local missing=()
  for pkg in "${want[@]}"; do
    local name="${pkg%%[=\[]*}"
    "$VENV/bin/pip" show -q "$name" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]} into .venv"
    "$VENV/bin/pip" install -q "${missing[@]}"
  fi
  export PATH="$VENV/bin:$PATH"
  export ICHIGEN_CFN_LINT="$VENV/bin/cfn-lint"
  export ICHIGEN_SCHEMATHESIS="$VENV/bin/schemathesis"
  export ICHIGEN_OPENAPI_VALIDATOR="$VENV/bin/openapi-spec-validator"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts moto on a free port and points the AWS SDK at it.
start_moto() {
  mkdir -p "$LOCAL_DIR"
  local port
  port="$(free_port)"
  say "starting the AWS emulator (moto) on 127.0.0.1:$port"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOCAL_DIR/moto.log" 2>&1 &
  STARTED_PIDS+=("$!")
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_REGION="ap-northeast-1" AWS_DEFAULT_REGION="ap-northeast-1"
  export AWS_ACCESS_KEY_ID="test" AWS_SECRET_ACCESS_KEY="test"
  for _ in $(seq 1 200); do
    curl -sf "$AWS_ENDPOINT_URL/moto-api/data.json" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "moto did not start; see $LOCAL_DIR/moto.log" >&2
  return 1
}

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    # Process groups first (setsid'd children), then the process itself.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
