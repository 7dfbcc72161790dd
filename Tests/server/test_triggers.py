"""`eddy serve --config FILE`: declared tables, and declared trigger mappings kept by the server: derivative
tables (copy, project, count, sum) and a Kafka sink read back with Debian's kcat."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import Server

ORDERS = {
    "TableName": "Orders",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


def keyed_table(name, key):
    return {"TableName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}


def write_config(configuration):
    directory = tempfile.mkdtemp(prefix="eddy-config-")
    path = os.path.join(directory, "eddy.json")
    with open(path, "w") as file:
        json.dump(configuration, file)
    return path


def scan_all(client, table):
    items, start = [], None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def eventually(check, timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def read_topic(kafka_broker, topic, count):
    """The messages of `topic` as `kcat -J` prints them, once it holds `count` (the sink sends after the writes
    are acknowledged: the topic is read to its end until all are there)."""
    def all_there():
        result = subprocess.run(["kcat", "-C", "-b", kafka_broker, "-t", topic, "-e", "-J", "-q"],
                                capture_output=True, text=True, timeout=60)
        read = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        assert len(read) == count, result.stderr
        return read

    return eventually(all_there)


def test_declared_derivative_tables_follow_the_source_table():
    config = write_config({
        "Tables": [ORDERS, keyed_table("OrderCopies", "id"), keyed_table("OrderNotes", "id"),
                   keyed_table("OrdersPerCustomer", "customer"), keyed_table("SpentPerCustomer", "customer")],
        "Triggers": [
            {"Name": "copies", "TableName": "Orders", "Derivative": {"TargetTable": "OrderCopies", "Copy": {}}},
            {"Name": "notes", "TableName": "Orders", "Derivative": {"TargetTable": "OrderNotes", "Project": ["id", "note"]}},
            {"Name": "counts", "TableName": "Orders", "BatchSize": 10,
             "Derivative": {"TargetTable": "OrdersPerCustomer", "Count": {"GroupBy": {"customer": "customer"}, "Into": "orders"}}},
            {"Name": "sums", "TableName": "Orders",
             "Derivative": {"TargetTable": "SpentPerCustomer", "Sum": {"GroupBy": {"customer": "customer"}, "Of": "total", "Into": "spent"}}},
        ],
    })
    server = Server("--config", config)
    try:
        client = server.client()
        expected = {}
        for number in range(40):
            customer, total = f"c{number % 3}", number + 0.5
            client.put_item(TableName="Orders", Item={
                "id": {"S": f"o{number}"}, "customer": {"S": customer}, "total": {"N": str(total)}, "note": {"S": f"n{number}"}})
            expected[f"o{number}"] = (customer, total)
        # Changes: an order moves to another customer, one changes its total, two are deleted.
        client.update_item(TableName="Orders", Key={"id": {"S": "o1"}}, UpdateExpression="SET customer = :c",
                           ExpressionAttributeValues={":c": {"S": "c9"}})
        expected["o1"] = ("c9", expected["o1"][1])
        client.update_item(TableName="Orders", Key={"id": {"S": "o2"}}, UpdateExpression="SET #t = :t",
                           ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":t": {"N": "100"}})
        expected["o2"] = (expected["o2"][0], 100.0)
        for gone in ["o3", "o4"]:
            client.delete_item(TableName="Orders", Key={"id": {"S": gone}})
            del expected[gone]

        counts, sums = {}, {}
        for customer, total in expected.values():
            counts[customer] = counts.get(customer, 0) + 1
            sums[customer] = sums.get(customer, 0) + total

        def derived_tables_match():
            copies = {item["id"]["S"]: item for item in scan_all(client, "OrderCopies")}
            assert {key: (item["customer"]["S"], float(item["total"]["N"])) for key, item in copies.items()} == expected
            notes = scan_all(client, "OrderNotes")
            assert sorted(item["id"]["S"] for item in notes) == sorted(expected)
            assert all(set(item) == {"id", "note"} for item in notes)
            per_customer = {item["customer"]["S"]: int(item["orders"]["N"]) for item in scan_all(client, "OrdersPerCustomer")}
            assert {customer: count for customer, count in per_customer.items() if count} == counts
            spent = {item["customer"]["S"]: float(item["spent"]["N"]) for item in scan_all(client, "SpentPerCustomer")}
            assert {customer: total for customer, total in spent.items() if total} == pytest.approx(sums)

        eventually(derived_tables_match)
    finally:
        server.stop()


def test_a_bad_configuration_stops_the_server_with_a_clear_error():
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    cases = [
        ({"Triggers": [{"Name": "x", "TableName": "Nope", "Derivative": {"TargetTable": "T", "Copy": {}}}]}, "Nope"),
        ({"Tables": [ORDERS], "Triggers": [{"Name": "x", "TableName": "Orders"}]}, "exactly one of Kafka, Elasticsearch, Derivative and Function"),
        ({"Tables": [ORDERS, keyed_table("T", "id")],
          "Triggers": [{"Name": "x", "TableName": "Orders", "Derivative": {"TargetTable": "T", "Copy": {}, "Project": ["id"]}}]},
         "exactly one of Copy, Project, Count and Sum"),
        ({"Tables": [ORDERS], "Triggers": [{"Name": "x", "TableName": "Orders",
                                             "Kafka": {"Topic": "t", "BootstrapServers": "127.0.0.1:1", "Format": "Protobuf"}}]},
         "Trigger x: 1 validation error detected: Value 'Protobuf' at 'Kafka.Format' failed to satisfy constraint: "
         "Member must satisfy enum value set: [Kinesis, Debezium]"),
        ({"Tables": [ORDERS], "Triggers": [{"Name": "x", "TableName": "Orders",
                                             "Kafka": {"Topic": "t", "BootstrapServers": "127.0.0.1:1", "Key": "Foo"}}]},
         "Value 'Foo' at 'Kafka.Key' failed to satisfy constraint: Member must satisfy enum value set: [PartitionKey, PrimaryKey]"),
    ]
    for configuration, complaint in cases:
        data = tempfile.mkdtemp(prefix="eddy-bad-config-")
        try:
            result = subprocess.run([binary, "serve", "--data-dir", data, "--port", "0", "--config", write_config(configuration)],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode != 0
            assert complaint in result.stderr + result.stdout
        finally:
            shutil.rmtree(data, ignore_errors=True)


def test_a_declared_kafka_sink_sends_each_change_as_a_kinesis_record(kafka_broker):
    config = write_config({
        "Tables": [ORDERS],
        "Triggers": [{"Name": "orders-to-kafka", "TableName": "Orders", "BatchSize": 10,
                      "Kafka": {"Topic": "orders", "BootstrapServers": kafka_broker, "CreateTopicPartitions": 2}}],
    })
    server = Server("--config", config)
    try:
        client = server.client()
        for number in range(5):
            client.put_item(TableName="Orders", Item={"id": {"S": f"o{number}"}, "total": {"N": str(number)}})
        client.delete_item(TableName="Orders", Key={"id": {"S": "o0"}})

        messages = read_topic(kafka_broker, "orders", 6)
        records = [json.loads(message["payload"]) for message in messages]
        assert sorted(record["eventName"] for record in records) == ["INSERT"] * 5 + ["REMOVE"]
        assert all(record["eventSource"] == "aws:dynamodb" and record["tableName"] == "Orders" for record in records)
        assert {message["key"] for message in messages} == {f"o{number}" for number in range(5)}
        o0 = [record["eventName"] for message, record in zip(messages, records) if message["key"] == "o0"]
        assert o0 == ["INSERT", "REMOVE"]
    finally:
        server.stop()


def test_a_declared_kafka_sink_sends_debezium_events_keyed_by_primary_key_with_tombstones(kafka_broker):
    """Format Debezium, Key PrimaryKey, Tombstones true, read back with kcat: Debezium's envelope, one key per item
    (two items share a partition key), a tombstone right after the delete."""
    events = {
        "TableName": "Events",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    }
    config = write_config({
        "Tables": [events],
        "Triggers": [{"Name": "events-cdc", "TableName": "Events",
                      "Kafka": {"Topic": "events", "BootstrapServers": kafka_broker, "CreateTopicPartitions": 2,
                                "Format": "Debezium", "Key": "PrimaryKey", "Tombstones": True}}],
    })
    server = Server("--config", config)
    try:
        client = server.client()
        first = {"pk": {"S": "u1"}, "sk": {"N": "1"}}
        client.put_item(TableName="Events", Item={
            **first, "n": {"N": "36"}, "big": {"N": "12345678901234567890"}, "tags": {"SS": ["a", "b"]},
            "blob": {"B": b"\x00\x01\xfe"}, "ok": {"BOOL": True}, "none": {"NULL": True},
            "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2.5"}]}}}})
        client.put_item(TableName="Events", Item={"pk": {"S": "u1"}, "sk": {"N": "2"}, "v": {"N": "1"}})
        client.update_item(TableName="Events", Key=first, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": {"N": "2"}})
        client.delete_item(TableName="Events", Key=first)

        messages = read_topic(kafka_broker, "events", 5)
        by_key = {}
        for message in messages:
            by_key.setdefault(message["key"], []).append(message)
        assert set(by_key) == {'{"pk":"u1","sk":1}', '{"pk":"u1","sk":2}'}
        first_messages = by_key['{"pk":"u1","sk":1}']
        assert len({message["partition"] for message in first_messages}) == 1
        assert first_messages[3]["payload"] is None
        created, updated, deleted = [json.loads(message["payload"]) for message in first_messages[:3]]
        assert [created["op"], updated["op"], deleted["op"]] == ["c", "u", "d"]
        image = {"pk": "u1", "sk": 1, "n": 36, "big": "12345678901234567890", "tags": ["a", "b"], "blob": "AAH+",
                 "ok": True, "none": None, "m": {"x": ["y", 2.5]}}
        assert created["before"] is None and {**created["after"], "tags": sorted(created["after"]["tags"])} == image
        assert updated["before"] == created["after"] and updated["after"] == {**created["after"], "v": 2}
        assert deleted["before"] == updated["after"] and deleted["after"] is None
        for message, event in zip(first_messages, [created, updated, deleted]):
            assert set(event) == {"before", "after", "source", "op", "ts_ms"}
            headers = dict(zip(message["headers"][::2], message["headers"][1::2]))
            source = event["source"]
            assert source == {"connector": "eddy", "name": "events-cdc", "ts_ms": source["ts_ms"], "snapshot": "false",
                              "db": "us-east-1", "table": "Events", "shard": headers["eddy-shard-id"],
                              "sequence": headers["eddy-sequence-number"], "user_identity": None}
            assert 1_700_000_000_000 < source["ts_ms"] <= event["ts_ms"]
        # The tombstone carries its delete's headers.
        assert first_messages[3]["headers"] == first_messages[2]["headers"]
        assert [json.loads(message["payload"])["op"] for message in by_key['{"pk":"u1","sk":2}']] == ["c"]
    finally:
        server.stop()


def test_the_server_demo_of_the_readme_runs():
    server = Server("--config", "Examples/ServerDemo/eddy.yaml")
    try:
        result = subprocess.run(["python3", "Examples/ServerDemo/demo.py", server.endpoint],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "UsersPerPlan, kept by the server from the stream: {'free': 1, 'pro': 3, 'team': 1}" in result.stdout
    finally:
        server.stop()


def test_a_kafka_sink_added_with_a_snapshot_sends_the_table_then_its_changes(kafka_broker):
    """A Debezium Kafka sink added with Snapshot while the table holds items and takes writes: a read (op r) of
    every item the snapshot saw, the last marked "last", then the changes from where the snapshot was read; the
    topic replayed by key equals the table. `eddy triggers progress` follows the snapshot to its end."""
    server = Server("--config", write_config({"Tables": [ORDERS]}))
    try:
        client = server.client()
        for number in range(300):
            client.put_item(TableName="Orders", Item={"id": {"S": f"o{number:03d}"}, "v": {"N": "1"}})
        status, added = server.admin("POST", "triggers", {
            "Name": "orders-cdc", "TableName": "Orders", "BatchSize": 20, "Snapshot": True,
            "Kafka": {"Topic": "orders-cdc", "BootstrapServers": kafka_broker, "CreateTopicPartitions": 2,
                      "Format": "Debezium", "Key": "PrimaryKey"}})
        assert status == 201, added
        for number in range(0, 330, 3):
            client.put_item(TableName="Orders", Item={"id": {"S": f"o{number:03d}"}, "v": {"N": "2"}})
        for number in range(1, 300, 7):
            client.delete_item(TableName="Orders", Key={"id": {"S": f"o{number:03d}"}})
        progress = subprocess.run(
            [server.binary, "triggers", "progress", "orders-cdc", "--endpoint-url", server.endpoint, "--interval-ms", "50"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1"})
        assert progress.returncode == 0, progress.stderr
        status, described = server.admin("GET", "triggers/orders-cdc")
        # The snapshot is read when the mapping starts: the writes above may have begun by then.
        snapshot_items = described["SnapshotProgress"]["ItemsTotal"]
        assert 300 - 43 <= snapshot_items <= 330
        assert described["SnapshotProgress"] == {"ItemsDone": snapshot_items, "ItemsTotal": snapshot_items, "Complete": True}
        assert f"100% {snapshot_items}/{snapshot_items} items, complete" in progress.stderr

        table = {item["id"]["S"]: item for item in scan_all(client, "Orders")}

        def replayed():
            result = subprocess.run(["kcat", "-C", "-b", kafka_broker, "-t", "orders-cdc", "-e", "-J", "-q"],
                                    capture_output=True, text=True, timeout=60)
            messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
            events = [json.loads(message["payload"]) for message in messages]
            reads = [event for event in events if event["op"] == "r"]
            assert len(reads) == snapshot_items
            state = {}
            for message, event in sorted(zip(messages, events), key=lambda pair: int(pair[1]["source"]["sequence"])):
                key = json.loads(message["key"])["id"]
                state[key] = event["after"]
            assert {key: after for key, after in state.items() if after is not None} == {
                key: {"id": key, "v": int(item["v"]["N"])} for key, item in table.items()}
            return reads

        reads = eventually(replayed, timeout=60)
        assert [read["source"]["snapshot"] for read in reads].count("last") == 1
        assert all(read["before"] is None for read in reads)
    finally:
        server.stop()
