#!/usr/bin/env bash
# Eddy's main job on its embedded default: installs what is missing, builds, and runs the quick start
# (Examples/QuickStart) against a data directory it creates (the first argument, or a fresh one).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product QuickStart
data_dir="${1:-$(mktemp -d -t eddy-quickstart-XXXXXX)}"
exec "$(swift build --show-bin-path)/QuickStart" "$data_dir"
