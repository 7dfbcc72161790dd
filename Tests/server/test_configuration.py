"""`eddy serve`'s own options: the home Region and account in ARNs, and what it refuses to start with."""
import os
import subprocess

import boto3

from conftest import CREDENTIALS, Server


def test_arns_name_the_configured_region_and_account():
    server = Server("--region", "eu-west-1", "--account-id", "123456789012")
    try:
        # The server's own Region is its home; a table's ARN names the Region of the request that made it.
        dynamodb = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="eu-west-1", **CREDENTIALS)
        table = dynamodb.create_table(
            TableName="Regional", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
        assert table["TableArn"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/Regional"
        assert table["LatestStreamArn"].startswith("arn:aws:dynamodb:eu-west-1:123456789012:table/Regional/stream/")
        elsewhere = server.client().create_table(
            TableName="Regional", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        assert elsewhere["TableDescription"]["TableArn"] == "arn:aws:dynamodb:us-east-1:123456789012:table/Regional"
    finally:
        server.stop()


def test_bad_options_and_non_loopback_addresses_are_refused_before_starting():
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    for arguments, complaint in [
        (["--account-id", "12345"], "--account-id must be 12 digits"),
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
    ]:
        result = subprocess.run([binary, "serve", "--data-dir", "/nonexistent/never-created", *arguments],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert complaint in result.stderr


def test_sigterm_stops_the_server_and_its_triggers_cleanly_and_the_data_stays():
    import shutil
    import tempfile

    data = tempfile.mkdtemp(prefix="eddy-restart-")
    try:
        first = Server("--config", "Examples/ServerDemo/eddy.yaml", data_dir=data)
        first.client().put_item(TableName="Users", Item={"id": {"S": "zed"}, "plan": {"S": "pro"}})
        assert first.stop() == 0
        second = Server("--config", "Examples/ServerDemo/eddy.yaml", data_dir=data)
        try:
            item = second.client().get_item(TableName="Users", Key={"id": {"S": "zed"}}, ConsistentRead=True)["Item"]
            assert item["plan"] == {"S": "pro"}
        finally:
            assert second.stop() == 0
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_fifty_stops_in_a_row_all_exit_cleanly():
    """SIGTERM while a trigger may still be finishing: each of 50 servers, on an empty data directory, takes
    a write its trigger acts on and is stopped at once; every one must exit with status 0 (an abort, a crash or
    a hang past the stop's 20 s shows as another status)."""
    for round in range(50):
        server = Server("--config", "Examples/ServerDemo/eddy.yaml")
        try:
            server.client().put_item(TableName="Users", Item={"id": {"S": f"user-{round}"}, "plan": {"S": "free"}})
        finally:
            status = server.stop()
        assert status == 0, f"stop {round + 1} of 50 ended with status {status}: {server.final_output[-2000:]}"
