#!/usr/bin/env bash
# Group commit under fsync (issue 22's point 7): runs the Fsync benchmarks (release build) RUNS times (default
# 1) and prints, for Eddy's PutItem with Durability.machineCrashSafe and for raw RocksDB writes with sync, the
# writes per second of 1 and of 64 concurrent writers and their ratio (target for Eddy: >= 10x; RocksDB's
# own ratio is printed beside it from the same run). Medians over the runs.
#
#   Benchmarks/fsync.sh            # from the repository root (or anywhere)
#   RUNS=3 Benchmarks/fsync.sh
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/install-deps.sh
runs=${RUNS:-1}
exports=$(mktemp -d)
trap 'rm -rf "$exports"' EXIT
for run in $(seq 1 "$runs"); do
    swift package --allow-writing-to-package-directory benchmark baseline update "fsync-$run" --target Fsync --no-progress
    swift package benchmark baseline read "fsync-$run" --target Fsync --format influx --path stdout --no-progress \
        > "$exports/run$run.csv"
done
# The influx export has one CSV line per benchmark, metric and percentile:
# target,host,cpu,cores,memory,kernel,metric,unit,test,percentile,value,...
# One iteration is 640 writes for every benchmark, so iterations per second x 640 is writes per second.
awk -F, -v runs="$runs" '
    FNR == 1 { run++ }
    $7 ~ /^Throughput/ && $10 + 0 == 50 { rate[run, $9] = $11 * 640 }
    function median(values, count,   i, j, swap) {
        for (i = 2; i <= count; i++)
            for (j = i; j > 1 && values[j - 1] > values[j]; j--) {
                swap = values[j]; values[j] = values[j - 1]; values[j - 1] = swap
            }
        return count % 2 ? values[(count + 1) / 2] : (values[count / 2] + values[count / 2 + 1]) / 2
    }
    function row(label, prefix, target,   r, n, one, many, q, list, ratio) {
        n = 0; list = ""
        for (r = 1; r <= runs; r++) {
            if (!((r, prefix ".1writer") in rate) || !((r, prefix ".64writers") in rate)) continue
            n++
            one[n] = rate[r, prefix ".1writer"]; many[n] = rate[r, prefix ".64writers"]; q[n] = many[n] / one[n]
            list = list sprintf(" %.1f", q[n])
        }
        if (n == 0) { printf "%-24s (not run)\n", label; return }
        ratio = median(q, n)
        printf "%-24s %10d %10d %7.1fx  %-10s runs:%s\n", label, median(one, n), median(many, n), ratio,
            (!target ? "" : ratio >= target ? "ok" : "BELOW " target "x"), list
    }
    END {
        printf "\nfsync: 64 concurrent writers / 1 writer, writes per second (median of %d run(s); target for Eddy: >= 10x)\n", runs
        printf "%-24s %10s %10s %8s\n", "", "1 writer", "64 writers", "ratio"
        row("Eddy PutItem", "Fsync.PutItem", 10)
        row("raw RocksDB, sync", "Fsync.RawRocksDB", 0)
    }' "$exports"/run*.csv
