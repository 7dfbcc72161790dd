#!/usr/bin/env bash
# Runs the TableMetadata benchmarks (release build) and prints DescribeTable's latency on a 1,000,000-item
# table against a 1,000-item table of the same run (issue 22: < 1 ms, and within 2×), and PutItem's throughput
# with the counters.
#
#   Benchmarks/table-metadata.sh
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/install-deps.sh
export_dir=$(mktemp -d)
trap 'rm -rf "$export_dir"' EXIT
swift package --allow-writing-to-package-directory benchmark baseline update table-metadata --target TableMetadata --no-progress
swift package benchmark baseline read table-metadata --target TableMetadata --format influx --path stdout --no-progress \
    > "$export_dir/run.csv"
# One iteration is 1,000 calls: a call's latency is the iteration's wall clock (p50 and p99 over iterations,
# nanoseconds) / 1,000; PutItem's throughput is the p50 of iterations per second × 1,000.
awk -F, '
    $7 == "Time(wallclock)" && ($10 + 0 == 50 || $10 + 0 == 99) { wall[$9, $10 + 0] = $11 }
    $7 ~ /^Throughput/ && $10 + 0 == 50 { ops[$9] = $11 * 1000 }
    END {
        printf "DescribeTable latency, microseconds per call (target: 1M p50 < 1000, and 1M / 1K < 2)\n"
        printf "%-22s %10s %10s\n", "", "p50", "p99"
        for (i = 1; i <= 2; i++) {
            name = i == 1 ? "DescribeTable.1K" : "DescribeTable.1M"
            printf "%-22s %10.2f %10.2f\n", name, wall[name, 50] / 1000 / 1000, wall[name, 99] / 1000 / 1000
        }
        ratio = wall["DescribeTable.1M", 50] / wall["DescribeTable.1K", 50]
        ok = (wall["DescribeTable.1M", 50] / 1000 / 1000 < 1000 && ratio < 2) ? "ok" : "MISSED"
        printf "1M / 1K (p50)          %10.3f  %s\n", ratio, ok
        printf "PutItem, 1 writer, with counters: %d operations per second\n", ops["TableMetadata.PutItem"]
    }' "$export_dir/run.csv"
