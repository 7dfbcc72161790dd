"""`eddy`'s own commands with `--endpoint-url` against a running `eddy serve`, next to the same commands with
`--data-dir` on a data directory: the same output, errors included."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from conftest import CREDENTIALS, Server, free_port
from test_triggers import ORDERS, eventually, keyed_table, write_config

SIGNING = {"AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
           "AWS_REGION": "us-east-1"}
QUIET = dict(ORDERS, TableName="Quiet")
ORDERS_WITH_INDEX = dict(
    ORDERS,
    AttributeDefinitions=ORDERS["AttributeDefinitions"] + [{"AttributeName": "customer", "AttributeType": "S"}],
    GlobalSecondaryIndexes=[{"IndexName": "ByCustomer", "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "ALL"}}])


def eddy(*arguments, environment=None):
    """Runs `eddy` with the test credentials in its environment: exit status, standard output and error."""
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    result = subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **SIGNING, **(environment or {})})
    return result.returncode, result.stdout, result.stderr


def item(id, customer, total):
    return json.dumps({"id": {"S": id}, "customer": {"S": customer}, "total": {"N": str(total)}})


def test_reading_commands_print_the_same_against_the_server_and_its_data_directory():
    data = tempfile.mkdtemp(prefix="eddy-cli-")
    server = Server(data_dir=data)
    try:
        client = server.client()
        for table in [ORDERS_WITH_INDEX, QUIET, keyed_table("QuietCopies", "id")]:
            client.create_table(**table)
        for number in range(6):
            client.put_item(TableName="Orders", Item=json.loads(item(f"o{number}", f"c{number % 2}", number)))
        client.update_item(TableName="Orders", Key={"id": {"S": "o1"}}, UpdateExpression="SET #t = :t",
                           ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":t": {"N": "10.5"}})
        client.delete_item(TableName="Orders", Key={"id": {"S": "o5"}})
        # A mapping on a table nobody writes: it has processed nothing, on the server and off it alike.
        assert server.admin("POST", "triggers", {"Name": "quiet-copies", "TableName": "Quiet",
                                                 "Derivative": {"TargetTable": "QuietCopies", "Copy": {}}})[0] == 201
        arn = client.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
        query = {"TableName": "Orders", "IndexName": "ByCustomer", "KeyConditionExpression": "customer = :c",
                 "ExpressionAttributeValues": {":c": {"S": "c1"}}}
        commands = [
            ["tables", "list"],
            ["tables", "describe", "Orders"],
            ["tables", "describe", "Nope"],
            ["items", "get", "--table-name", "Orders", "--key", '{"id":{"S":"o1"}}'],
            ["items", "query", "--cli-input-json", json.dumps(query)],
            ["items", "scan", "--table-name", "Orders"],
            ["items", "scan", "--table-name", "Orders", "--index-name", "ByCustomer", "--limit", "2"],
            ["items", "scan", "--table-name", "Nope"],
            ["stream", "list"],
            ["stream", "describe", arn],
            ["stream", "tail", "Orders", "--no-follow"],
            ["check", "Orders"],
            ["triggers", "list"],
            ["triggers", "describe", "quiet-copies"],
            ["triggers", "describe", "nope"],
        ]
        remote = [eddy(*command, "--endpoint-url", server.endpoint) for command in commands]
        assert server.stop() == 0, server.final_output
        local = [eddy(*command, "--data-dir", os.path.join(data, "db")) for command in commands]
        for command, over_http, here in zip(commands, remote, local):
            assert over_http == here, command
        # They did run: the stream holds the 8 changes, and the errors are the engine's.
        assert len(remote[10][1].splitlines()) == 8
        assert [status for status, _, _ in remote] == [0, 0, 254, 0, 0, 0, 0, 254, 0, 0, 0, 0, 0, 0, 254]
        assert "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation" in remote[2][2]
        assert json.loads(remote[13][1])["Kind"] == "Derivative"
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_writing_commands_print_the_same_against_a_server_and_a_data_directory():
    condition_fails = {"TableName": "Orders", "Key": {"id": {"S": "o1"}}, "UpdateExpression": "SET #t = :t",
                       "ConditionExpression": "#t > :t", "ExpressionAttributeNames": {"#t": "total"},
                       "ExpressionAttributeValues": {":t": {"N": "100"}}}
    adds = {"TableName": "Orders", "Key": {"id": {"S": "o1"}}, "UpdateExpression": "ADD #t :t", "ReturnValues": "UPDATED_NEW",
            "ExpressionAttributeNames": {"#t": "total"}, "ExpressionAttributeValues": {":t": {"N": "2"}}}
    commands = [
        ["tables", "create", "--cli-input-json", json.dumps(ORDERS)],
        ["tables", "create", "--cli-input-json", json.dumps(QUIET)],
        ["tables", "create", "--cli-input-json", json.dumps(keyed_table("QuietCopies", "id"))],
        ["tables", "create", "--cli-input-json", json.dumps(ORDERS)],
        ["items", "put", "--table-name", "Orders", "--item", item("o1", "c1", 1)],
        ["items", "put", "--table-name", "Orders", "--item", item("o1", "c2", 3), "--return-values", "ALL_OLD"],
        ["items", "update", "--cli-input-json", json.dumps(adds)],
        ["items", "update", "--cli-input-json", json.dumps(condition_fails)],
        ["tables", "update", "--cli-input-json", json.dumps({"TableName": "QuietCopies", "DeletionProtectionEnabled": True})],
        ["triggers", "add", "--cli-input-json", json.dumps({"Name": "copies", "TableName": "Quiet", "BatchSize": 5,
                                                            "Derivative": {"TargetTable": "QuietCopies", "Copy": {}}})],
        ["triggers", "add", "--cli-input-json", json.dumps({"Name": "f", "TableName": "Quiet", "Function": "mailer"})],
        ["triggers", "disable", "copies"],
        ["triggers", "enable", "copies"],
        ["triggers", "remove", "copies"],
        ["triggers", "remove", "copies"],
        ["tables", "delete", "Quiet"],
    ]
    server = Server()
    try:
        remote = [eddy(*command, "--endpoint-url", server.endpoint) for command in commands]
    finally:
        server.stop()
    data = tempfile.mkdtemp(prefix="eddy-cli-")
    try:
        local = [eddy(*command, "--data-dir", data) for command in commands]
    finally:
        shutil.rmtree(data, ignore_errors=True)
    for command, over_http, here in zip(commands, remote, local):
        assert normalized(over_http) == normalized(here), command
    assert [status for status, _, _ in remote] == [0, 0, 0, 254, 0, 0, 0, 254, 0, 0, 254, 0, 0, 0, 254, 0]
    assert json.loads(remote[6][1]) == {"Attributes": {"total": {"N": "5"}}}
    assert json.loads(remote[11][1])["State"] == "Disabled" and json.loads(remote[13][1])["State"] == "Deleting"


def normalized(result):
    """A command's result without what differs from one database to another: creation and billing-change times,
    stream labels and ARNs, table and mapping ids."""
    status, output, errors = result
    volatile = {"CreationDateTime", "LastUpdateToPayPerRequestDateTime", "LatestStreamArn", "LatestStreamLabel",
                "EventSourceArn", "LastModified", "TableId", "UUID"}

    def strip(value):
        if isinstance(value, dict):
            return {key: "*" if key in volatile else strip(member) for key, member in value.items()}
        if isinstance(value, list):
            return [strip(member) for member in value]
        return value

    return status, strip(json.loads(output)) if output.strip() else output, errors


def test_stream_tail_follows_a_server():
    server = Server()
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    tails = {}
    try:
        client = server.client()
        client.create_table(**ORDERS)
        client.put_item(TableName="Orders", Item=json.loads(item("o0", "c0", 0)))
        received = {}
        for start in ["trim-horizon", "latest"]:
            tails[start] = subprocess.Popen(
                [binary, "stream", "tail", "Orders", "--from", start, "--endpoint-url", server.endpoint],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **SIGNING))
            received[start] = []
            threading.Thread(target=lambda tail=tails[start], lines=received[start]: lines.extend(tail.stdout), daemon=True).start()
        eventually(lambda: assert_true(len(received["trim-horizon"]) == 1))
        # The tail from latest has begun once it prints a marker written after it started.
        markers = iter(range(1000))

        def latest_has_begun():
            client.put_item(TableName="Orders", Item=json.loads(item(f"m{next(markers)}", "c0", 0)))
            assert received["latest"]

        eventually(latest_has_begun)
        for number in range(1, 6):
            client.put_item(TableName="Orders", Item=json.loads(item(f"o{number}", "c1", number)))
        client.update_item(TableName="Orders", Key={"id": {"S": "o1"}}, UpdateExpression="SET #t = :t",
                           ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":t": {"N": "9"}})
        status, so_far, _ = eddy("stream", "tail", "Orders", "--no-follow", "--endpoint-url", server.endpoint)
        assert status == 0 and len(so_far.splitlines()) >= 8
        eventually(lambda: assert_true(sorted(received["trim-horizon"]) == sorted(so_far.splitlines(keepends=True))))
        assert [json.loads(line)["eventName"] for line in received["trim-horizon"] if '"o1"' in line] == ["INSERT", "MODIFY"]

        def latest_has_the_writes_after_it_began():
            keys = [json.loads(line)["dynamodb"]["Keys"]["id"]["S"] for line in received["latest"]]
            assert [key for key in keys if key.startswith("o")] == ["o1", "o2", "o3", "o4", "o5", "o1"] or \
                sorted(key for key in keys if key.startswith("o")) == ["o1", "o1", "o2", "o3", "o4", "o5"]

        eventually(latest_has_the_writes_after_it_began)
        assert not any('"o0"' in line for line in received["latest"])
    finally:
        for tail in tails.values():
            tail.terminate()
            tail.wait(timeout=30)
        server.stop()


def test_a_command_needs_exactly_one_of_data_dir_and_endpoint_url():
    status, _, errors = eddy("tables", "list", "--data-dir", "/tmp/nowhere", "--endpoint-url", "http://127.0.0.1:1")
    assert status == 64 and "--data-dir and --endpoint-url exclude each other" in errors
    status, _, errors = eddy("triggers", "list")
    assert status == 64 and "Give --data-dir DIR to open a data directory, or --endpoint-url URL" in errors
    status, _, errors = eddy("items", "scan", "--table-name", "T", "--endpoint-url", "https://127.0.0.1:8000")
    assert status == 64 and "is not http://HOST[:PORT]" in errors
    status, _, errors = eddy("tables", "list", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
    assert status == 255 and "Could not connect to the endpoint URL" in errors


def test_with_credentials_on_the_server_a_wrong_secret_fails_with_the_servers_error():
    directory = tempfile.mkdtemp(prefix="eddy-cli-credentials-")
    credentials = write_config({CREDENTIALS["aws_access_key_id"]: CREDENTIALS["aws_secret_access_key"]})
    server = Server("--credentials", credentials, data_dir=directory)
    try:
        endpoint = ["--endpoint-url", server.endpoint]
        assert eddy("tables", "list", *endpoint) == (0, '{\n  "TableNames" : [\n\n  ]\n}\n', "")
        assert eddy("triggers", "list", *endpoint)[0] == 0
        wrong = {"AWS_SECRET_ACCESS_KEY": "not-the-secret"}
        for command, operation in [(["tables", "list"], "ListTables"), (["triggers", "list"], "ListTriggers"),
                                   (["check", "Orders"], "CheckIndexes")]:
            status, output, errors = eddy(*command, *endpoint, environment=wrong)
            assert (status, output) == (254, ""), errors
            assert errors.startswith(
                f"An error occurred (InvalidSignatureException) when calling the {operation} operation: "
                "The request signature we calculated does not match the signature you provided."), errors
        status, _, errors = eddy("tables", "list", *endpoint, environment={"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"})
        assert status == 254 and "(UnrecognizedClientException)" in errors
        # --region names the Region the requests are signed for, whose tables they see.
        assert eddy("tables", "list", *endpoint, "--region", "eu-west-1") == (0, '{\n  "TableNames" : [\n\n  ]\n}\n', "")
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def assert_true(condition):
    assert condition
