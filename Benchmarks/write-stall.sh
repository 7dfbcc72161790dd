#!/usr/bin/env bash
# GetItem latency through `eddy serve` while writes stall (issue 22: a write stall must not freeze the
# connections): builds eddy in release mode, starts `eddy serve` on a temporary data directory and a free
# loopback port, runs Benchmarks/Server/write_stall.py against it (GetItem p50/p99/max alone, then during a
# flood of 350-KB PutItems, beside the PutItems' own p50/p99/max), and stops the server and removes the
# directory on exit. About a minute after the build.
#
#   Benchmarks/write-stall.sh                       # from the repository root (or anywhere)
#   EDDY_BIN=/path/to/eddy Benchmarks/write-stall.sh   # another build of eddy (e.g. an older commit's)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
if [ -z "${EDDY_BIN:-}" ]; then
    swift build -c release --product eddy
    EDDY_BIN="$(swift build -c release --show-bin-path)/eddy"
fi

work=$(mktemp -d -t eddy-write-stall.XXXXXX)
eddy_pid=
stop_server() {
    if [ -n "$eddy_pid" ]; then
        kill "$eddy_pid" 2>/dev/null || true
        wait "$eddy_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_server EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# --no-throttling: the load runs past DynamoDB's default capacity quotas (a table's 40,000 units a second, a
# partition key value's 3,000 reads); what is measured is the server, not the quota.
"$EDDY_BIN" serve --data-dir "$work/data" --port "$port" --no-throttling --log-level warning >"$work/eddy.log" 2>&1 &
eddy_pid=$!
for _ in $(seq 600); do
    if ! kill -0 "$eddy_pid" 2>/dev/null; then
        cat "$work/eddy.log" >&2
        exit 1
    fi
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
    sleep 0.1
done
python3 Benchmarks/Server/write_stall.py --endpoint "http://127.0.0.1:$port"
