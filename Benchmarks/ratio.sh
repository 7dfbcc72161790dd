#!/usr/bin/env bash
# Runs Eddy's ItemThroughput benchmarks (release build) and prints the Eddy / raw RocksDB throughput ratios.
#
#   Benchmarks/ratio.sh                  # RUNS (default 3) runs of all the benchmarks, then the table of the
#                                        # last run and the 4 ratios (medians over the runs)
#   RUNS=1 Benchmarks/ratio.sh           # one run (the expression benchmarks always run once, at the end)
#   Benchmarks/ratio.sh --filter 'Put'   # extra options go to `swift package benchmark`
#
# Run N is stored as the benchmark baseline `$EDDY_BENCH_BASELINE-N` (default `eddy-vs-raw-N`, under
# Benchmarks/.benchmarkBaselines/), so it can be re-read or compared later:
#   swift package benchmark baseline read eddy-vs-raw-1
#   swift package benchmark baseline compare eddy-vs-raw-1 eddy-vs-raw-2
set -euo pipefail
cd "$(dirname "$0")"
bash ../scripts/install-deps.sh
baseline=${EDDY_BENCH_BASELINE:-eddy-vs-raw}
runs=${RUNS:-3}
exports=$(mktemp -d)
trap 'rm -rf "$exports"' EXIT

for run in $(seq 1 "$runs"); do
    echo "=== Run $run of $runs"
    swift package --allow-writing-to-package-directory benchmark baseline update "$baseline-$run" \
        --target ItemThroughput --no-progress "$@"
    # The influx export has one CSV line per benchmark, metric and percentile:
    # target,host,cpu,cores,memory,kernel,metric,unit,test,percentile,value,average,iterations,warmup,time
    swift package benchmark baseline read "$baseline-$run" --target ItemThroughput \
        --format influx --path stdout --no-progress > "$exports/run$run.csv"
done
swift package benchmark baseline read "$baseline-$runs" --target ItemThroughput --no-progress

# Throughput is in iterations per second; one iteration is 1,000 operations. The figure of a benchmark in a run
# is its median (p50) over the run's iterations; the figures and ratios printed are medians over the runs.
awk -F, -v runs="$runs" '
    FNR == 1 { run++ }
    $7 ~ /^Throughput/ && $10 + 0 == 50 { ops[run, $9] = $11 * 1000 }
    function median(values, count,   i, j, swap) {
        for (i = 2; i <= count; i++)
            for (j = i; j > 1 && values[j - 1] > values[j]; j--) {
                swap = values[j]; values[j] = values[j - 1]; values[j - 1] = swap
            }
        return count % 2 ? values[(count + 1) / 2] : (values[count / 2] + values[count / 2 + 1]) / 2
    }
    function row(label, eddy, raw, judged,   r, n, e, w, q, list, ratio, verdict) {
        n = 0; list = ""
        for (r = 1; r <= runs; r++) {
            if (!((r, eddy) in ops) || !((r, raw) in ops)) continue
            n++
            e[n] = ops[r, eddy]; w[n] = ops[r, raw]; q[n] = ops[r, eddy] / ops[r, raw]
            list = list sprintf(" %.2f", q[n])
        }
        if (n == 0) { printf "%-20s (not run)\n", label; return }
        ratio = median(q, n)
        verdict = !judged ? "" : (ratio >= 0.5) ? "ok" : "BELOW 0.5"
        printf "%-20s %10d %10d %7.3f  %-9s  runs:%s\n", label, median(e, n), median(w, n), ratio, verdict, list
    }
    END {
        print ""
        printf "Eddy / raw RocksDB throughput, operations per second (median of %d run(s); target: ratio >= 0.5)\n", runs
        printf "%-20s %10s %10s %7s\n", "", "Eddy", "raw", "ratio"
        row("PutItem, 1 writer", "PutItem.Eddy", "PutItem.RawRocksDB", 1)
        row("GetItem, 1 reader", "GetItem.Eddy", "GetItem.RawRocksDB", 1)
        row("PutItem, 8 writers", "PutItem.8writers.Eddy", "PutItem.8writers.RawRocksDB", 1)
        row("GetItem, 8 readers", "GetItem.8readers.Eddy", "GetItem.8readers.RawRocksDB", 1)
        print ""
        print "Diagnostics: Eddy'"'"'s storage layer alone (EddyStorage.RocksDBStore, no item layer) / raw RocksDB"
        row("put, 1 writer", "PutItem.EddyStorage", "PutItem.RawRocksDB", 0)
        row("get, 1 reader", "GetItem.EddyStorage", "GetItem.RawRocksDB", 0)
    }' "$exports"/run*.csv

# Expressions: the time of one request's expression work (binding to the cached parse, then evaluating),
# against the issue's absolute target of 2 µs. The wall clock of an iteration covers 1,000 evaluations.
swift package --allow-writing-to-package-directory benchmark baseline update "$baseline-expressions" \
    --target ExpressionEvaluation --no-progress > /dev/null
swift package benchmark baseline read "$baseline-expressions" --target ExpressionEvaluation \
    --format influx --path stdout --no-progress |
    awk -F, '
        $7 == "Time(wallclock)" && $10 + 0 == 50 { ns[$9] = $11 / 1000 }
        END {
            print ""
            print "Expressions, nanoseconds per evaluation (median; target: < 2000)"
            for (name in ns) printf "%-36s %8.0f  %s\n", name, ns[name], ns[name] < 2000 ? "ok" : "ABOVE 2000"
        }'
