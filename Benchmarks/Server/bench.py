"""The measurements of Benchmarks/server.sh, against an `eddy serve`, a `moto_server` and an empty SwiftNIO
HTTP/1.1 server (Benchmarks/Sources/EmptyHTTPServer) it has started.

In each server: creates the table Bench (hash key `id`, a string; PAY_PER_REQUEST) with boto3 and preloads
10,000 items of 100 bytes. Then, with wrk (2 threads, dynamodb.lua) from this process, for GetItem then
PutItem: a 3-second warm-up and 10-second peak runs at a few connection counts on each server (the best is
the server's peak); then, for Eddy only, a 10-second run paced at 50 % of its peak (each connection waits a
random delay of mean 10 ms before each request; a 3-second pacing run sets the connection count, and the
achieved rate must be within ±10 % of the target, re-measuring with a corrected count if it is not), followed by a
floor run: GET /health with the same connections and pacing, the same HTTP round trips at the same rate with
no database work, which shows how much of the p99 the machine (2 cores shared by wrk and the server) and wrk
themselves set. The empty server, which reads each request's body and answers 200 with a fixed body, is
measured the same way as Eddy (the same peak runs, then the same requests with the connections and pacing of
Eddy's run at 50 %): the floor of Eddy's own server stack, against which Eddy's peak is a ratio (targets:
GetItem at least 0.8, PutItem at least 0.6) and beside which its p99 at 50 % is printed. The storage floor (the
empty server with a RocksDB directory: the same, plus one raw RocksDB get or put per request, answering a GetItem
with the stored item's JSON) has the same peak runs, and its peak is printed as a ratio of the empty server's
too: what a server doing nothing but the storage call reaches, the bound of Eddy's ratios on this machine. Any
response other than 200, GetItem answer without an item, timeout or socket error fails the benchmark.
Afterwards each table's item count (Scan with Select=COUNT) must equal the preload plus the PutItems served.
Prints every run (with the CPUs the machine had busy meanwhile, and how much of that other processes used), then the tables.

    python3 bench.py --eddy URL --eddy-pid PID --moto URL --moto-pid PID --empty URL --empty-pid PID \
        --storage URL --storage-pid PID --wrk-script dynamodb.lua [--perf-data FILE]

With --perf-data FILE, one more 8-second GetItem run and one more PutItem run, each at Eddy's best connection
count for the operation, follow the measurements, with `perf record -g` attached to Eddy for 5 seconds of each,
into FILE.GetItem and FILE.PutItem (their figures are not in the tables, their PutItems are in the item
counts)."""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

TABLE = "Bench"
PRELOADED = 10_000
THREADS = 2
WARMUP_SECONDS = 3
PEAK_SECONDS = 10
PACING_SECONDS = 3
PACED_SECONDS = 10
EDDY_CONNECTIONS = (8, 32, 128)
MOTO_CONNECTIONS = (4, 16)
MEAN_DELAY_MS = 10
PACED_ATTEMPTS = 3
TARGET_RATIO = 20
TARGET_P99_MS = 2.0
# Eddy's peak over the empty server's, per operation.
TARGET_EMPTY_RATIOS = {"GetItem": 0.8, "PutItem": 0.6}
OPERATIONS = (("get", "GetItem"), ("put", "PutItem"))
BUSY_CPUS = 0.1


def client(endpoint):
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 1}, read_timeout=300))


def item(key):
    """A 100-byte item, as dynamodb.lua's PutItem writes them."""
    return {"id": {"S": key}, "name": {"S": "Ada Lovelace0001"}, "email": {"S": "ada@example.invalid0001"},
            "city": {"S": "London000001"}, "note": {"S": "benchmarkitem000"}}


def create_and_preload(dynamodb):
    dynamodb.create_table(
        TableName=TABLE, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    for start in range(0, PRELOADED, 25):
        requests = [{"PutRequest": {"Item": item(f"preload-{i:06d}")}} for i in range(start, min(start + 25, PRELOADED))]
        while requests:
            answer = dynamodb.batch_write_item(RequestItems={TABLE: requests})
            requests = answer.get("UnprocessedItems", {}).get(TABLE, [])


def item_count(dynamodb):
    count, arguments = 0, {"TableName": TABLE, "Select": "COUNT"}
    while True:
        page = dynamodb.scan(**arguments)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def cpu_seconds(pids):
    """CPU seconds used so far by the machine (user, nice and system: /proc/stat), and by the processes
    `pids`, this one and its finished children (the wrk runs) together."""
    with open("/proc/stat") as stat:
        user, nice, system = map(int, stat.readline().split()[1:4])
    ours = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ours += int(fields[11]) + int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    own = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return (user + nice + system) / tick, ours / tick + own


class Runner:
    """Runs wrk and keeps every run's figures; numbers the runs so that PutItem keys never repeat. Also
    measures how many CPUs other processes of the machine used during each run (the servers `pids`, wrk and
    this process excluded), since the two cores are shared."""

    def __init__(self, wrk_script, pids):
        self.wrk_script = wrk_script
        self.pids = pids
        self.runs = []

    def run(self, server, endpoint, operation, phase, connections, seconds, mean_delay_ms=0):
        number = len(self.runs) + 1
        command = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
                   "-s", self.wrk_script, endpoint, "--", operation, str(number), str(mean_delay_ms), str(PRELOADED)]
        machine_before, ours_before = cpu_seconds(self.pids)
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        machine_after, ours_after = cpu_seconds(self.pids)
        lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
        if not lines:
            sys.exit(f"wrk printed no result:\n{output}")
        result = json.loads(lines[-1][len("RESULT "):])
        # wrk builds one request in its first thread to check the script, and never sends it.
        result["sent"] -= 1
        seconds = result["duration_us"] / 1e6
        others = max(0.0, (machine_after - machine_before) - (ours_after - ours_before)) / seconds
        busy = (machine_after - machine_before) / seconds
        result.update(server=server, operation=operation, phase=phase, connections=connections,
                      mean_delay_ms=mean_delay_ms, rate=result["requests"] / seconds, others=others, busy=busy)
        self.runs.append(result)
        print(f"  {server:5} {operation:3} {phase:8} -c{connections:<4}"
              f"{f' delay~{mean_delay_ms}ms' if mean_delay_ms else '':13} {result['rate']:9.0f} req/s"
              f"  p50 {result['p50_us'] / 1000:7.3f} ms  p99 {result['p99_us'] / 1000:7.3f} ms"
              f"  machine busy {busy:4.2f} CPU, other processes {others:4.2f}", flush=True)
        failures = {name: result[name] for name in
                    ("non200", "missing", "timeouts", "connect_errors", "read_errors", "write_errors") if result[name]}
        if failures:
            sys.exit(f"FAILED: {server} {operation} {phase} run: {failures}; first error answer: {result['first_error']!r}")
        return result

    def peak(self, server, endpoint, operation, connection_counts):
        self.run(server, endpoint, operation, "warm-up", connection_counts[0], WARMUP_SECONDS)
        return max((self.run(server, endpoint, operation, "peak", c, PEAK_SECONDS) for c in connection_counts),
                   key=lambda r: r["rate"])

    def paced(self, server, endpoint, operation, target, latency_us):
        """A run within ±10 % of `target` requests/s, then its floor run. Each connection makes about 1000 /
        (MEAN_DELAY_MS + latency in ms) requests a second: a 3-second pacing run with target × (MEAN_DELAY_MS +
        latency) / 1000 connections gives the rate per connection, which sets the count of the measured run; a
        measured run off target is followed by one with the count scaled by target / achieved. If no run of
        PACED_ATTEMPTS lands within ±10 % (near saturation the rate stops following the connection count), the
        closest is the result, marked "off_target" and printed as such."""
        connections = even(target * (MEAN_DELAY_MS + latency_us / 1000) / 1000)
        result = self.run(server, endpoint, operation, "pacing", connections, PACING_SECONDS, MEAN_DELAY_MS)
        attempts = []
        for _ in range(PACED_ATTEMPTS):
            connections = even(connections * target / result["rate"])
            result = self.run(server, endpoint, operation, "50%", connections, PACED_SECONDS, MEAN_DELAY_MS)
            result["target"] = target
            attempts.append(result)
            if abs(result["rate"] / target - 1) <= 0.10:
                break
        result = min(attempts, key=lambda r: abs(r["rate"] / target - 1))
        result["off_target"] = abs(result["rate"] / target - 1) > 0.10
        result["floor"] = self.run(server, endpoint, "health", "floor", result["connections"], PACED_SECONDS, MEAN_DELAY_MS)
        return result

    def put_counts(self, server):
        runs = [r for r in self.runs if r["server"] == server and r["operation"] == "put"]
        return sum(r["requests"] for r in runs), sum(r["sent"] for r in runs)


def even(x):
    return max(THREADS, 2 * round(x / 2))


def eddy_put_items_served(endpoint):
    """PutItem requests Eddy answered without error, from its /metrics."""
    text = urllib.request.urlopen(endpoint + "/metrics", timeout=30).read().decode()

    def total(pattern):
        return sum(float(v) for v in re.findall(pattern + r"\S*\s+([0-9.e+]+)$", text, re.MULTILINE))

    return int(total(r'^eddy_requests_total\{operation="PutItem"\}') - total(r'^eddy_request_errors_total\{operation="PutItem"'))


def profile(runner, endpoint, operation, connections, perf_data, pid):
    """An extra 8-second run of `operation`, with `perf record -g` attached to Eddy from its 2nd to its 7th
    second."""
    perf = subprocess.Popen(
        ["perf", "record", "-g", "-D", "2000", "-o", perf_data, "-p", str(pid), "--", "sleep", "7"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runner.run("eddy", endpoint, operation, "perf", connections, 8)
    if perf.wait() != 0:
        sys.exit(f"FAILED: perf record exited with {perf.returncode}")
    print(f"  perf data: {perf_data} (perf report -i {perf_data} --no-children --sort dso,sym)")


def ms(us):
    return f"{us / 1000:.3f}"


def print_empty_table(figures, floors):
    """Eddy's peak as a ratio of the empty server's, and Eddy's paced run beside the empty server's; then the
    storage floor's peak as a ratio of the empty server's."""
    print()
    print(f"Eddy vs an empty SwiftNIO HTTP/1.1 server (reads the body, answers 200), same run, same wrk settings and requests "
          f"(targets: ratio >= {', '.join(f'{TARGET_EMPTY_RATIOS[n]:g} for {n}' for n in figures)}; p99 reported)")
    print(f"{'':9}{'Eddy req/s':>11}{'empty req/s':>12}{'ratio':>8}{'':11}"
          f"{'empty peak p50/p99 ms':>22}{'50% req/s':>11}{'Eddy p50/p99 ms':>17}{'empty req/s':>13}{'empty p50/p99 ms':>18}")
    for name, (eddy, _, paced) in figures.items():
        empty, empty_paced, _ = floors[name]
        ratio = eddy["rate"] / empty["rate"]
        verdict = "ok" if ratio >= TARGET_EMPTY_RATIOS[name] else f"BELOW {TARGET_EMPTY_RATIOS[name]:g}"
        print(f"{name:9}{eddy['rate']:11.0f}{empty['rate']:12.0f}{ratio:8.2f}  {verdict:9}"
              f"{ms(empty['p50_us']) + '/' + ms(empty['p99_us']):>22}{paced['rate']:11.0f}"
              f"{ms(paced['p50_us']) + '/' + ms(paced['p99_us']):>17}{empty_paced['rate']:13.0f}"
              f"{ms(empty_paced['p50_us']) + '/' + ms(empty_paced['p99_us']):>18}")
    print("(empty peak: the best of the same -c" + "/".join(map(str, EDDY_CONNECTIONS)) + " runs (chosen: "
          + ", ".join(f"{n} -c{floors[n][0]['connections']}" for n in figures)
          + "); 50%: Eddy's paced run and the empty server's with the same requests, connections and pacing)")
    print()
    print("The storage floor (\"raw\": the empty server plus one raw RocksDB get or put per request), same run: "
          "the most Eddy's ratio can be on this machine")
    print(f"{'':9}{'raw req/s':>11}{'empty req/s':>12}{'ratio':>8}{'Eddy ratio':>12}{'Eddy / raw':>12}")
    for name, (eddy, _, _) in figures.items():
        empty, _, storage = floors[name]
        print(f"{name:9}{storage['rate']:11.0f}{empty['rate']:12.0f}{storage['rate'] / empty['rate']:8.2f}"
              f"{eddy['rate'] / empty['rate']:12.2f}{eddy['rate'] / storage['rate']:12.2f}")
    print("(raw peak: the best of the same -c" + "/".join(map(str, EDDY_CONNECTIONS)) + " runs (chosen: "
          + ", ".join(f"{n} -c{floors[n][2]['connections']}" for n in figures) + "))")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eddy", required=True)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--wrk-script", required=True)
    parser.add_argument("--eddy-pid", type=int, required=True)
    parser.add_argument("--moto-pid", type=int, required=True)
    parser.add_argument("--empty", required=True)
    parser.add_argument("--empty-pid", type=int, required=True)
    parser.add_argument("--storage", required=True)
    parser.add_argument("--storage-pid", type=int, required=True)
    parser.add_argument("--perf-data")
    options = parser.parse_args()
    endpoints = {"eddy": options.eddy, "moto": options.moto}
    clients = {server: client(endpoint) for server, endpoint in endpoints.items()}

    for server, dynamodb in clients.items():
        started = time.monotonic()
        create_and_preload(dynamodb)
        print(f"{server}: table {TABLE} created, {PRELOADED} items preloaded in {time.monotonic() - started:.1f} s", flush=True)

    runner = Runner(options.wrk_script, (options.eddy_pid, options.moto_pid, options.empty_pid, options.storage_pid))
    figures = {}
    floors = {}
    for operation, name in OPERATIONS:
        print(f"{name}:", flush=True)
        eddy = runner.peak("eddy", options.eddy, operation, EDDY_CONNECTIONS)
        empty = runner.peak("empty", options.empty, operation, EDDY_CONNECTIONS)
        storage = runner.peak("raw", options.storage, operation, EDDY_CONNECTIONS)
        moto = runner.peak("moto", options.moto, operation, MOTO_CONNECTIONS)
        # The latency least inflated by queueing: the smallest p50 of Eddy's peak runs.
        latency = min(r["p50_us"] for r in runner.runs
                      if (r["server"], r["operation"], r["phase"]) == ("eddy", operation, "peak"))
        paced = runner.paced("eddy", options.eddy, operation, eddy["rate"] / 2, latency)
        figures[name] = (eddy, moto, paced)
        floors[name] = (empty, runner.run("empty", options.empty, operation, "50%", paced["connections"],
                                          PACED_SECONDS, MEAN_DELAY_MS), storage)
    if options.perf_data:
        for operation, name in OPERATIONS:
            profile(runner, options.eddy, operation, figures[name][0]["connections"], f"{options.perf_data}.{name}",
                    options.eddy_pid)

    print()
    print(f"Eddy vs moto_server 5.2.1, same machine, same run; wrk -t{THREADS} on the same 2 cores "
          f"(targets: ratio >= {TARGET_RATIO}, p99 at 50 % of peak < {TARGET_P99_MS:g} ms)")
    print(f"{'':9}{'Eddy req/s':>11}{'moto req/s':>11}{'ratio':>8}{'':7}"
          f"{'peak p50/p99 ms':>17}{'50% req/s':>11}{'(target)':>10}{'p50/p99 ms':>14}{'':7}{'floor p50/p99 ms':>17}")
    for name, (eddy, moto, paced) in figures.items():
        ratio = eddy["rate"] / moto["rate"]
        ratio_verdict = "ok" if ratio >= TARGET_RATIO else "BELOW"
        p99_verdict = "ok" if paced["p99_us"] / 1000 < TARGET_P99_MS and not paced["off_target"] else "BELOW"
        print(f"{name:9}{eddy['rate']:11.0f}{moto['rate']:11.0f}{ratio:8.1f}  {ratio_verdict:5}"
              f"{ms(eddy['p50_us']) + '/' + ms(eddy['p99_us']):>17}{paced['rate']:11.0f}{paced['target']:10.0f}"
              f"{ms(paced['p50_us']) + '/' + ms(paced['p99_us']):>14}  {p99_verdict:5}"
              f"{ms(paced['floor']['p50_us']) + '/' + ms(paced['floor']['p99_us']):>17}")
    print(f"(peak: the best of -c{'/'.join(map(str, EDDY_CONNECTIONS))} for Eddy (chosen: "
          + ", ".join(f"{n} -c{f[0]['connections']}" for n, f in figures.items())
          + f"), of -c{'/'.join(map(str, MOTO_CONNECTIONS))} for moto (chosen: "
          + ", ".join(f"{n} -c{f[1]['connections']}" for n, f in figures.items())
          + "); 50%: -c" + "/".join(str(f[2]["connections"]) for f in figures.values())
          + f" with a random delay of mean {MEAN_DELAY_MS} ms before each request; floor: GET /health, same"
          + " connections and pacing, run right after)")
    print_empty_table(figures, floors)
    busiest = max((run for name, runs in figures.items() for run in (*runs, runs[2]["floor"], *floors[name])),
                  key=lambda r: r["others"])
    print(f"(other processes of the machine used up to {busiest['others']:.2f} of its {os.cpu_count()} CPUs during a run "
          f"of this table: {busiest['server']} {busiest['operation']} {busiest['phase']} -c{busiest['connections']})")
    for name, (_, _, paced) in figures.items():
        if paced["off_target"]:
            print(f"warning: no {name} run at 50 % landed within ±10 % of {paced['target']:.0f} req/s; the closest "
                  f"({paced['rate']:.0f} req/s) is shown, and its p99 is marked BELOW whatever it is")
    if busiest["others"] > BUSY_CPUS:
        print("warning: the machine was not idle; its other processes took CPU from the servers and wrk")

    print()
    print("Sanity check: items in Bench = preload + PutItems served")
    failed = False
    for server, dynamodb in clients.items():
        items = item_count(dynamodb)
        acknowledged, sent = runner.put_counts(server)
        written = items - PRELOADED
        # wrk stops with requests in flight: those were sent and may be served, but are not acknowledged.
        ok = acknowledged <= written <= sent
        detail = f"{items} items = {PRELOADED} preloaded + {written}; wrk: {acknowledged} PutItems answered 200, {sent} sent"
        if server == "eddy":
            served = eddy_put_items_served(options.eddy)
            ok = ok and written == served
            detail += f"; Eddy's /metrics: {served} PutItems served"
        failed = failed or not ok
        print(f"  {server}: {detail}  {'ok' if ok else 'MISMATCH'}")
    if failed:
        sys.exit("FAILED: item counts do not match the PutItems served")


if __name__ == "__main__":
    main()
