#!/usr/bin/env bash
# Every test of Eddy: installs what is missing, builds, and runs the unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
if [ $# -gt 0 ]; then
    swift test --skip-build "$@"
else
    # The server's fuzz tests keep both cores busy for a while: they run after the others, whose trigger
    # tests wait on deadlines.
    swift test --skip-build --skip EddyServerTests
    swift test --skip-build --filter EddyServerTests
    # The request parser under libFuzzer for 30 seconds, from the committed corpus: a crash fails the run.
    bash scripts/fuzz.sh 30
fi
# The server's protocol tests: boto3 and the AWS CLI against `eddy serve` (Tests/server); a test still running
# after 5 minutes fails.
EDDY_BIN="$(swift build --show-bin-path)/eddy" python3 -m pytest -q -p no:cacheprovider --timeout 300 Tests/server
