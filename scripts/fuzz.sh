#!/usr/bin/env bash
# Coverage-guided fuzzing of the request parser (JSONReader and the attribute values' JSONDecodable) with
# libFuzzer: builds Sources/RequestParserFuzzer with -sanitize=fuzzer in its own build directory, then runs it
# for N seconds (default 30) on a copy of the committed corpus, Tests/Fuzz/corpus/request-parser. A crash or a
# broken invariant fails the script and leaves the input that found it in .build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
flags=(--product RequestParserFuzzer --build-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer -Xswiftc -DREQUEST_PARSER_FUZZER)
swift build "${flags[@]}"
fuzzer="$(swift build "${flags[@]}" --show-bin-path)/RequestParserFuzzer"
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
cp Tests/Fuzz/corpus/request-parser/* "$corpus"/
mkdir -p .build-fuzz/artifacts
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=.build-fuzz/artifacts/ "$corpus"
