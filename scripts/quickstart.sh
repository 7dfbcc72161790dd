#!/usr/bin/env bash
# Eddy's main job on its default: installs what is missing, builds `eddy`, starts `eddy serve` on a free
# loopback port with a fresh data directory (or the first argument) and the demo setup of
# Examples/ServerDemo/eddy.yaml (a Users table and a derivative table the server keeps from its stream), runs
# the demo client (boto3, Examples/ServerDemo/demo.py) against it, and stops the server.
# The embedded library's quick start, without a server: swift run QuickStart DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product eddy
data_dir="${1:-$(mktemp -d -t eddy-quickstart-XXXXXX)}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$(swift build --show-bin-path)/eddy" serve --data-dir "$data_dir" --port "$port" \
    --config Examples/ServerDemo/eddy.yaml &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "eddy serve did not start" >&2; exit 1; }
    sleep 0.1
done
python3 Examples/ServerDemo/demo.py "http://127.0.0.1:$port"
