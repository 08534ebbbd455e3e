#!/usr/bin/env bash
# repro.sh INSTANCES CONNECTIONS BYTES: counts `cargo lambda watch`'s own 500s for a function that answers BYTES bytes,
# under wrk for DUR (default 5s). Builds the function first (release, offline: the workspace's crates are cached).
# BENCHMARKS.md ("The emulator's own 500s") has the figures.
#
#   infra/emulator-500-repro/repro.sh 2 4 100000
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/../../.venv/bin:$PATH"
export CARGO_TARGET_DIR="$PWD/../../target/emulator-500-repro"
inst=$1 conns=$2 bytes=$3
port=$(../free-port)
cargo build --quiet --release --offline
log=$(mktemp)
setsid cargo lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >"$log" 2>&1 &
watch=$!
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill -TERM -- "-$watch" 2>/dev/null || true; rm -f "$log" "$log.lua"; }
trap cleanup EXIT
sleep 3
for _ in $(seq "$inst"); do
  HELLO_BYTES=$bytes AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/hello" AWS_LAMBDA_FUNCTION_NAME=hello \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 "$CARGO_TARGET_DIR/release/hello" >/dev/null 2>&1 &
  pids+=($!)
done
sleep 1
cat >"$log.lua" <<'LUA'
e = 0
function response(s, h, b) if s == 500 then e = e + 1 end end
threads = {}
function setup(t) table.insert(threads, t) end
function done(s) local n = 0 for _, t in ipairs(threads) do n = n + t:get("e") end
  io.write(string.format("requests=%d emulator500=%d\n", s.requests, n)) end
LUA
out=$(wrk -t1 -c"$conns" -d"${DUR:-5s}" -s "$log.lua" "http://127.0.0.1:$port/lambda-url/hello/" | tail -1)
echo "instances=$inst connections=$conns body=$bytes $out"
