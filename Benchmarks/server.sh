#!/usr/bin/env bash
# Benchmarks `eddy serve` against moto_server 5.2.1 and against an empty SwiftNIO HTTP/1.1 server (the floor of
# Eddy's own server stack: Benchmarks/Sources/EmptyHTTPServer; also, as the storage floor, that server doing one raw
# RocksDB get or put per request) on the same machine in the same run: PutItem and
# GetItem throughput (wrk, a second process, with Benchmarks/Server/dynamodb.lua), p50/p99 latency at peak, and
# Eddy's p50/p99 at 50 % of its peak throughput, beside the empty server's at the same pacing. Targets: Eddy at
# least 20x moto's throughput, p99 < 2 ms at 50 % of Eddy's peak, GetItem at least 0.8x and PutItem at least
# 0.6x the empty server's throughput. About 6 minutes after the builds.
#
#   Benchmarks/server.sh                                # from the repository root (or anywhere)
#   EDDY_SERVER_PERF=/tmp/eddy.perf Benchmarks/server.sh   # also: perf record -g of Eddy during a GetItem run
#                                                          # and a PutItem run, into /tmp/eddy.perf.GetItem, .PutItem
#
# Installs what is missing (scripts/install-deps.sh, Debian's wrk, moto[server] 5.2.1 and boto3 from PyPI),
# builds eddy and EmptyHTTPServer in release mode, starts `eddy serve` (a temporary data directory, --log-level
# warning), moto's server (moto_server's entry point) and the empty server on free loopback ports, runs
# Benchmarks/Server/bench.py against them (what it measures is in its docstring and in Benchmarks/README.md,
# "Server"), and stops the servers and removes the temporary directory on exit. Exits non-zero if a request fails or an item count does not match; a
# target missed is printed as BELOW.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

bash scripts/install-deps.sh
if ! command -v wrk >/dev/null 2>&1; then
    echo "Installing wrk" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq wrk >/dev/null
fi
if ! command -v moto_server >/dev/null 2>&1 || [ "$(python3 -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != 5.2.1 ]; then
    echo "Installing moto[server] 5.2.1 and boto3" >&2
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet 'moto[server]==5.2.1' boto3
    # pyenv installs console scripts behind shims, which need a rehash to appear on PATH.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

swift build -c release --product eddy
eddy="$(swift build -c release --show-bin-path)/eddy"
swift build -c release --package-path Benchmarks --product EmptyHTTPServer
empty="$(swift build -c release --package-path Benchmarks --show-bin-path)/EmptyHTTPServer"

work=$(mktemp -d -t eddy-server-bench.XXXXXX)
pids=()
stop_servers() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop_servers EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `probe` succeeds, or fails if the server at $pid exits or 60 s pass.
wait_for() {
    local name=$1 pid=$2 log=$3
    shift 3
    for _ in $(seq 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited:" >&2
            cat "$log" >&2
            exit 1
        fi
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "$name did not answer within 60 s:" >&2
    cat "$log" >&2
    exit 1
}

eddy_port=$(free_port)
# --no-throttling: the load runs past DynamoDB's default capacity quotas (a table's 40,000 units a second, a
# partition key value's 3,000 reads); what is measured is the server, not the quota.
"$eddy" serve --data-dir "$work/eddy-data" --port "$eddy_port" --no-throttling --log-level warning >"$work/eddy.log" 2>&1 &
eddy_pid=$!
pids+=("$eddy_pid")
moto_port=$(free_port)
# moto_server's entry point, run by the interpreter itself: through a pyenv shim, $! would be the shim's
# shell, not the server (which then outlives the trap, and its CPU time would count as another process's).
python=$(python3 -c 'import sys; print(sys.executable)')
"$python" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
pids+=("$moto_pid")

empty_port=$(free_port)
"$empty" "$empty_port" >"$work/empty.log" 2>&1 &
empty_pid=$!
pids+=("$empty_pid")
# The storage floor: the empty server with a RocksDB database of its own.
storage_port=$(free_port)
"$empty" "$storage_port" "$work/storage-data" >"$work/storage.log" 2>&1 &
storage_pid=$!
pids+=("$storage_pid")

wait_for "eddy serve" "$eddy_pid" "$work/eddy.log" curl -fsS "http://127.0.0.1:$eddy_port/health"
# moto answers DynamoDB when the Authorization header's credential scope names the service.
wait_for "moto_server" "$moto_pid" "$work/moto.log" curl -fsS -X POST "http://127.0.0.1:$moto_port/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'X-Amz-Date: 20260101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7' \
    -d '{}'
wait_for "EmptyHTTPServer" "$empty_pid" "$work/empty.log" curl -fsS -X POST "http://127.0.0.1:$empty_port/" -d '{}'
wait_for "EmptyHTTPServer (storage floor)" "$storage_pid" "$work/storage.log" curl -fsS -X POST "http://127.0.0.1:$storage_port/" -d '{}'

perf_options=()
[ -z "${EDDY_SERVER_PERF:-}" ] || perf_options=(--perf-data "$EDDY_SERVER_PERF")
python3 Benchmarks/Server/bench.py --eddy "http://127.0.0.1:$eddy_port" --eddy-pid "$eddy_pid" \
    --moto "http://127.0.0.1:$moto_port" --moto-pid "$moto_pid" \
    --empty "http://127.0.0.1:$empty_port" --empty-pid "$empty_pid" \
    --storage "http://127.0.0.1:$storage_port" --storage-pid "$storage_pid" --wrk-script Benchmarks/Server/dynamodb.lua \
    "${perf_options[@]}"
