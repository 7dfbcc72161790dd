#!/usr/bin/env bash
# Every test of Eddy: installs what is missing, builds, and runs the unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
