"""Eddy's admin API (`/eddy/2026-12-01/`, signed by botocore for service `eddy`): derivative tables and Kafka sinks
added, listed and removed while `eddy serve` runs, registered again when it restarts on the same data directory;
bad declarations refused; the index check."""
import json
import os
import shutil
import subprocess
import tempfile

from conftest import Server
from test_triggers import ORDERS, eventually, keyed_table, scan_all, write_config

COPIES = {"Name": "copies", "TableName": "Orders", "BatchSize": 10, "Derivative": {"TargetTable": "Copies", "Copy": {}}}


def names(server):
    status, listed = server.admin("GET", "triggers")
    assert status == 200, listed
    return [trigger["Name"] for trigger in listed["Triggers"]]


def copied(client, table):
    return sorted(item["id"]["S"] for item in scan_all(client, table))


def put_orders(client, *ids):
    for id in ids:
        client.put_item(TableName="Orders", Item={"id": {"S": id}, "total": {"N": "1"}})


def test_a_derivative_table_added_while_the_server_runs_survives_a_restart_until_removed():
    data = tempfile.mkdtemp(prefix="eddy-admin-")
    server = Server(data_dir=data)
    try:
        client = server.client()
        for table in [ORDERS, keyed_table("Copies", "id"), keyed_table("Probes", "id")]:
            client.create_table(**table)
        status, added = server.admin("POST", "triggers", COPIES)
        assert status == 201, added
        assert (added["Name"], added["Kind"], added["Origin"], added["TableName"]) == ("copies", "Derivative", "Added", "Orders")
        assert added["Declaration"] == COPIES and added["Settings"]["BatchSize"] == 10
        put_orders(client, "o1", "o2", "o3")
        eventually(lambda: assert_equal(copied(client, "Copies"), ["o1", "o2", "o3"]))
        status, listed = server.admin("GET", "triggers")
        assert [trigger["UUID"] for trigger in listed["Triggers"]] == [added["UUID"]]
        assert server.admin("GET", f"triggers/{added['UUID']}")[1]["Name"] == "copies"

        assert server.stop() == 0, server.final_output
        server = Server(data_dir=data)
        client = server.client()
        status, restored = server.admin("GET", "triggers/copies")
        assert status == 200 and restored["UUID"] == added["UUID"] and restored["Origin"] == "Added"
        put_orders(client, "o4")
        eventually(lambda: assert_equal(copied(client, "Copies"), ["o1", "o2", "o3", "o4"]))

        status, removed = server.admin("DELETE", "triggers/copies")
        assert status == 200 and removed["State"] == "Deleting", removed
        assert names(server) == []
        # A mapping added after the removal copies the next write into Probes; the removed one is gone and
        # does not copy it into Copies.
        status, probe = server.admin("POST", "triggers", {"Name": "probe", "TableName": "Orders", "StartingPosition": "LATEST",
                                                         "Derivative": {"TargetTable": "Probes", "Copy": {}}})
        assert status == 201, probe
        put_orders(client, "o5")
        eventually(lambda: assert_equal(copied(client, "Probes"), ["o5"]))
        assert copied(client, "Copies") == ["o1", "o2", "o3", "o4"]

        assert server.stop() == 0, server.final_output
        server = Server(data_dir=data)
        assert names(server) == ["probe"]
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_a_kafka_sink_added_while_the_server_runs_survives_a_restart_until_removed(kafka_broker):
    data = tempfile.mkdtemp(prefix="eddy-admin-")
    server = Server(data_dir=data)

    def keys():
        result = subprocess.run(["kcat", "-C", "-b", kafka_broker, "-t", "orders", "-e", "-J", "-q"],
                                capture_output=True, text=True, timeout=60)
        return sorted(json.loads(line)["key"] for line in result.stdout.splitlines() if line.strip())

    try:
        client = server.client()
        for table in [ORDERS, keyed_table("Probes", "id")]:
            client.create_table(**table)
        declaration = {"Name": "orders-to-kafka", "TableName": "Orders",
                       "Kafka": {"Topic": "orders", "BootstrapServers": kafka_broker, "CreateTopicPartitions": 2}}
        status, added = server.admin("POST", "triggers", declaration)
        assert status == 201 and added["Kind"] == "Kafka" and added["Declaration"] == declaration, added
        put_orders(client, "o1", "o2", "o3")
        eventually(lambda: assert_equal(keys(), ["o1", "o2", "o3"]))

        assert server.stop() == 0, server.final_output
        server = Server(data_dir=data)
        client = server.client()
        status, restored = server.admin("GET", "triggers/orders-to-kafka")
        assert status == 200 and restored["UUID"] == added["UUID"] and restored["Kind"] == "Kafka", restored
        put_orders(client, "o4", "o5")
        eventually(lambda: assert_equal(keys(), ["o1", "o2", "o3", "o4", "o5"]))

        status, removed = server.admin("DELETE", "triggers/orders-to-kafka")
        assert status == 200 and removed["State"] == "Deleting", removed
        assert names(server) == []
        # As above: a probe mapping has copied the next write, and the topic did not get it.
        server.admin("POST", "triggers", {"Name": "probe", "TableName": "Orders", "StartingPosition": "LATEST",
                                          "Derivative": {"TargetTable": "Probes", "Copy": {}}})
        put_orders(client, "o6")
        eventually(lambda: assert_equal(copied(client, "Probes"), ["o6"]))
        assert keys() == ["o1", "o2", "o3", "o4", "o5"]
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_bad_requests_get_clear_errors_and_create_nothing():
    config = write_config({
        "Tables": [ORDERS, keyed_table("Copies", "id"), keyed_table("Declared", "id")],
        "Triggers": [{"Name": "declared", "TableName": "Orders", "Derivative": {"TargetTable": "Declared", "Copy": {}}}],
    })
    server = Server("--config", config)
    try:
        assert server.admin("POST", "triggers", COPIES)[0] == 201
        before = server.admin("GET", "triggers")[1]
        derivative = {"TargetTable": "Copies", "Copy": {}}
        cases = [
            ({"Name": "x", "TableName": "Orders"}, 400, "ValidationException", "exactly one of Kafka, Derivative and Function"),
            ({"Name": "x", "TableName": "Orders", "Elasticsearch": {"Index": "orders"}}, 400, "ValidationException",
             "exactly one of Kafka, Derivative and Function"),
            ({"TableName": "Orders", "Derivative": derivative}, 400, "ValidationException", "Value null at 'name'"),
            ({"Name": "x", "TableName": "Nope", "Derivative": derivative}, 404, "ResourceNotFoundException", "Nope"),
            ({"Name": "x", "TableName": "Copies", "Derivative": derivative}, 400, "ValidationException", "table Copies has no stream"),
            ({"Name": "x", "TableName": "Orders", "Derivative": {"TargetTable": "Nope", "Copy": {}}}, 400, "ValidationException",
             "The derivative table Nope does not exist"),
            ({"Name": "x", "TableName": "Orders", "BatchSize": 0, "Derivative": derivative}, 400, "ValidationException", "batchSize"),
            (COPIES, 409, "ResourceInUseException", "A trigger mapping named copies exists already"),
            ({"Name": "x", "TableName": "Orders", "Kafka": {"Topic": "t", "BootstrapServers": "127.0.0.1:1", "Format": "Protobuf"}},
             400, "ValidationException", "Value 'Protobuf' at 'Kafka.Format' failed to satisfy constraint: Member must satisfy enum value set: [Kinesis, Debezium]"),
            ({"Name": "f", "TableName": "Orders", "Function": "mailer"}, 400, "ValidationException", "CreateEventSourceMapping"),
            (b'{"Name": "x",', 400, "SerializationException", "not valid JSON"),
        ]
        for body, status, type, words in cases:
            answered, error = server.admin("POST", "triggers", body)
            assert (answered, error["__type"]) == (status, type), (body, error)
            assert words in error["message"], (body, error)
        assert server.admin("GET", "triggers")[1] == before

        for method, path, status, type, words in [
            ("GET", "triggers/nope", 404, "ResourceNotFoundException", "The trigger mapping nope does not exist"),
            ("DELETE", "triggers/nope", 404, "ResourceNotFoundException", "The trigger mapping nope does not exist"),
            ("DELETE", "triggers/declared", 409, "ResourceInUseException", "declared in the server's configuration file"),
            ("PUT", "triggers", 404, "UnknownOperationException", "Unknown operation PUT /eddy/2026-12-01/triggers"),
            ("GET", "tables/Nope/check", 404, "ResourceNotFoundException", "Requested resource not found"),
        ]:
            answered, error = server.admin(method, path)
            assert (answered, error["__type"]) == (status, type), (method, path, error)
            assert words in error["message"], (method, path, error)
        assert server.admin("GET", "triggers")[1] == before
    finally:
        server.stop()


def test_with_credentials_a_wrong_secret_is_refused_and_the_right_one_served():
    data = tempfile.mkdtemp(prefix="eddy-admin-credentials-")
    try:
        credentials = write_config({"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
        server = Server("--credentials", credentials, data_dir=data)
        try:
            status, error = server.admin("GET", "triggers", secret="not-the-secret")
            assert status == 403 and error["__type"] == "InvalidSignatureException", error
            assert "The request signature we calculated does not match" in error["message"]
            assert server.admin("GET", "triggers") == (200, {"Triggers": []})
        finally:
            server.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_the_index_check_runs_on_the_servers_data():
    server = Server()
    try:
        client = server.client()
        client.create_table(
            TableName="Orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "customer", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[{"IndexName": "ByCustomer", "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        for number in range(5):
            client.put_item(TableName="Orders", Item={"id": {"S": f"o{number}"}, "customer": {"S": f"c{number % 2}"}})
        status, report = server.admin("GET", "tables/Orders/check")
        assert status == 200, report
        assert report["TableName"] == "Orders" and report["ItemCount"] == 5
        assert [(index["IndexName"], index["ExpectedEntries"], index["ActualEntries"], index["MissingEntries"])
                for index in report["Indexes"]] == [("ByCustomer", 5, 5, 0)]
    finally:
        server.stop()


def assert_equal(actual, expected):
    assert actual == expected


def test_an_added_mapping_that_cannot_run_again_stops_the_start_until_it_is_removed_from_the_data_directory():
    data = tempfile.mkdtemp(prefix="eddy-admin-")
    server = Server(data_dir=data)
    try:
        client = server.client()
        for table in [ORDERS, keyed_table("Copies", "id")]:
            client.create_table(**table)
        assert server.admin("POST", "triggers", COPIES)[0] == 201
        client.delete_table(TableName="Copies")
        assert server.stop() == 0, server.final_output

        binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
        database = os.path.join(data, "db")
        result = subprocess.run([binary, "serve", "--data-dir", database, "--port", "0"], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "The trigger mapping copies, added while a server ran, cannot run again" in result.stderr, result.stderr
        assert "eddy triggers remove copies --data-dir DIR" in result.stderr

        removed = subprocess.run([binary, "triggers", "remove", "copies", "--data-dir", database],
                                 capture_output=True, text=True, timeout=60)
        assert removed.returncode == 0 and json.loads(removed.stdout)["State"] == "Deleting", removed.stderr
        server = Server(data_dir=data)
        assert names(server) == []
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
