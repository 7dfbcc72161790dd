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

        def six_messages():
            # The sink sends after the writes are acknowledged: read the topic to its end until all are there.
            result = subprocess.run(["kcat", "-C", "-b", kafka_broker, "-t", "orders", "-e", "-J", "-q"],
                                    capture_output=True, text=True, timeout=60)
            read = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
            assert len(read) == 6, result.stderr
            return read

        messages = eventually(six_messages)
        records = [json.loads(message["payload"]) for message in messages]
        assert sorted(record["eventName"] for record in records) == ["INSERT"] * 5 + ["REMOVE"]
        assert all(record["eventSource"] == "aws:dynamodb" and record["tableName"] == "Orders" for record in records)
        assert {message["key"] for message in messages} == {f"o{number}" for number in range(5)}
        o0 = [record["eventName"] for message, record in zip(messages, records) if message["key"] == "o0"]
        assert o0 == ["INSERT", "REMOVE"]
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
