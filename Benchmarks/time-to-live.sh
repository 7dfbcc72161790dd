#!/usr/bin/env bash
# Runs the TimeToLive benchmarks (release build) and prints a sweep of 1,000 expired items in a
# 1,000,000-item table against deleting the same items with DeleteItem in the same run (issue 22: ≤ 2×), and
# a sweep that finds nothing expired (issue 22: < 5 ms).
#
#   Benchmarks/time-to-live.sh
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/install-deps.sh
export_dir=$(mktemp -d)
trap 'rm -rf "$export_dir"' EXIT
swift package --allow-writing-to-package-directory benchmark baseline update time-to-live --target TimeToLive --no-progress
swift package benchmark baseline read time-to-live --target TimeToLive --format influx --path stdout --no-progress \
    > "$export_dir/run.csv"
# Wall clock percentiles are nanoseconds per iteration: 1,000 items swept or deleted, or one empty sweep.
awk -F, '
    $7 == "Time(wallclock)" && ($10 + 0 == 50 || $10 + 0 == 99) { wall[$9, $10 + 0] = $11 }
    END {
        printf "Time to Live on a 1,000,000-item table, milliseconds per iteration\n"
        printf "%-36s %10s %10s\n", "", "p50", "p99"
        split("TimeToLive.Sweep.1M TimeToLive.DeleteItem.1M TimeToLive.Sweep.None.1M", names, " ")
        for (i = 1; i <= 3; i++) {
            printf "%-36s %10.3f %10.3f\n", names[i], wall[names[i], 50] / 1000000, wall[names[i], 99] / 1000000
        }
        ratio = wall["TimeToLive.Sweep.1M", 50] / wall["TimeToLive.DeleteItem.1M", 50]
        printf "sweep / DeleteItem of 1,000 (p50)     %10.3f  %s (target <= 2)\n", ratio, ratio <= 2 ? "ok" : "MISSED"
        none = wall["TimeToLive.Sweep.None.1M", 50] / 1000000
        printf "sweep, none expired (p50, ms)         %10.3f  %s (target < 5)\n", none, none < 5 ? "ok" : "MISSED"
    }' "$export_dir/run.csv"
