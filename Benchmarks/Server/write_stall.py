"""The measurement of Benchmarks/write-stall.sh, against an `eddy serve` it has started.

Creates the table Stall (hash key `id`, a string) and preloads 1,000 items of 100 bytes. Then GetItem of the
preloaded items from READERS threads, each on its own keep-alive connection, one request at a time:
first for QUIET_SECONDS alone, then for FLOOD_SECONDS while WRITERS threads flood the server with PutItem of
ITEM_BYTES items (each on its own connection), which keeps RocksDB's memtables, flushes and compactions busy
and makes single commits wait (RocksDB slows or stops writes while compaction catches up). Each write's
latency is recorded: the longest is the stall a writer saw. Prints GetItem p50/p99/max without and during the
flood, beside PutItem p50/p99/max during the flood. Exits non-zero on any answer other than 200.

    python3 write_stall.py --endpoint http://127.0.0.1:PORT
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

TABLE = "Stall"
PRELOADED = 1_000
READERS = 2
WRITERS = 4
ITEM_BYTES = 350_000
QUIET_SECONDS = 5
FLOOD_SECONDS = 15


class Client:
    """One keep-alive connection speaking DynamoDB's JSON protocol."""

    def __init__(self, endpoint):
        url = urllib.parse.urlparse(endpoint)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=300)

    def call(self, operation, body):
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.connection.request("POST", "/", payload, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + operation,
            # A server started without credentials checks no signature, but a request must carry one.
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        })
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"{operation} answered {response.status}: {data[:300]!r}")
        return data


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def read_loop(endpoint, stop, latencies, index):
    client = Client(endpoint)
    bodies = [json.dumps({"TableName": TABLE, "Key": {"id": {"S": f"item{k:05d}"}}}).encode() for k in range(PRELOADED)]
    k = index
    while not stop.is_set():
        started = time.perf_counter()
        client.call("GetItem", bodies[k % PRELOADED])
        latencies.append(time.perf_counter() - started)
        k += READERS


def write_loop(endpoint, stop, latencies, index):
    client = Client(endpoint)
    filler = "x" * ITEM_BYTES
    k = 0
    while not stop.is_set():
        body = json.dumps({"TableName": TABLE, "Item": {"id": {"S": f"big{index}-{k}"}, "data": {"S": filler}}}).encode()
        started = time.perf_counter()
        client.call("PutItem", body)
        latencies.append(time.perf_counter() - started)
        k += 1


def run(endpoint, seconds, writers):
    stop = threading.Event()
    reads, writes = [], []
    threads = [threading.Thread(target=read_loop, args=(endpoint, stop, reads, i)) for i in range(READERS)]
    threads += [threading.Thread(target=write_loop, args=(endpoint, stop, writes, i)) for i in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return reads, writes


def row(label, values):
    ms = [v * 1000 for v in values]
    print(f"{label:<36} {len(ms):>8} {percentile(ms, 0.5):>9.2f} {percentile(ms, 0.99):>9.2f} {max(ms):>9.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    endpoint = parser.parse_args().endpoint
    client = Client(endpoint)
    client.call("CreateTable", {
        "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]})
    for start in range(0, PRELOADED, 25):
        client.call("BatchWriteItem", {"RequestItems": {TABLE: [
            {"PutRequest": {"Item": {"id": {"S": f"item{k:05d}"}, "name": {"S": "Ada Lovelace0001"},
                                     "email": {"S": "ada@example.invalid0001"}}}}
            for k in range(start, start + 25)]}})
    quiet, _ = run(endpoint, QUIET_SECONDS, 0)
    flood_reads, flood_writes = run(endpoint, FLOOD_SECONDS, WRITERS)
    print()
    print(f"GetItem during a write flood ({WRITERS} writers of {ITEM_BYTES // 1000} KB items), milliseconds")
    print(f"{'':<36} {'requests':>8} {'p50':>9} {'p99':>9} {'max':>9}")
    row("GetItem, no writes", quiet)
    row("GetItem, during the flood", flood_reads)
    row("PutItem (the flood's writes)", flood_writes)
    print("(PutItem's max is the longest a write waited: the stall; GetItem's p99 during the flood should stay far")
    print(" below it)")


if __name__ == "__main__":
    main()
