"""Tables belong to a Region, as DynamoDB's regional endpoints keep them (and DynamoDB Local without -sharedDb):
a request signed for one Region neither sees nor changes the tables of another, ARNs name the request's Region
(`arn:aws:dynamodb:<region>:<account>:table/<name>`), a transaction's tables must all be in its Region, and
`--region` is the home Region, the one `eddy serve` was started with."""
import json
import os
import subprocess
import tempfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import CREDENTIALS, Server
from test_protocol import post


def client(server, region, service="dynamodb"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region,
                        config=Config(retries={"max_attempts": 1}), **CREDENTIALS)


def create(dynamodb, name, key="id", stream=False):
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}} if stream else {}
    return dynamodb.create_table(
        TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        **extra)["TableDescription"]


def error_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]


def test_a_table_is_seen_only_from_its_region(server, table_name):
    east, west = client(server, "us-east-1"), client(server, "us-west-2")
    created = create(west, table_name, stream=True)
    assert created["TableArn"] == f"arn:aws:dynamodb:us-west-2:000000000000:table/{table_name}"
    assert created["LatestStreamArn"].startswith(f"arn:aws:dynamodb:us-west-2:000000000000:table/{table_name}/stream/")

    assert table_name in west.list_tables()["TableNames"]
    assert table_name not in east.list_tables()["TableNames"]
    error = error_of(lambda: east.describe_table(TableName=table_name))
    assert error["Code"] == "ResourceNotFoundException"
    assert error_of(lambda: east.get_item(TableName=table_name, Key={"id": {"S": "a"}}))["Code"] == "ResourceNotFoundException"

    # The same name in another Region is another table, with its own key schema, items and ARN.
    east_table = create(east, table_name, key="pk")
    assert east_table["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    west.put_item(TableName=table_name, Item={"id": {"S": "a"}, "where": {"S": "west"}})
    east.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "where": {"S": "east"}})
    assert west.get_item(TableName=table_name, Key={"id": {"S": "a"}})["Item"]["where"] == {"S": "west"}
    assert east.get_item(TableName=table_name, Key={"pk": {"S": "a"}})["Item"]["where"] == {"S": "east"}
    assert east.scan(TableName=table_name)["Count"] == 1
    assert west.scan(TableName=table_name)["Count"] == 1
    # Deleting one leaves the other.
    east.delete_table(TableName=table_name)
    assert west.describe_table(TableName=table_name)["Table"]["TableStatus"] == "ACTIVE"


def test_streams_belong_to_the_region_of_their_table(server, table_name):
    west = client(server, "eu-west-1")
    east_streams, west_streams = client(server, "us-east-1", "dynamodbstreams"), client(server, "eu-west-1", "dynamodbstreams")
    arn = create(west, table_name, stream=True)["LatestStreamArn"]
    west.put_item(TableName=table_name, Item={"id": {"S": "a"}})

    assert arn in [s["StreamArn"] for s in west_streams.list_streams(TableName=table_name)["Streams"]]
    assert arn not in [s["StreamArn"] for s in east_streams.list_streams()["Streams"]]
    assert error_of(lambda: east_streams.list_streams(TableName=table_name))["Code"] == "ResourceNotFoundException"
    error = error_of(lambda: east_streams.describe_stream(StreamArn=arn))
    assert error["Code"] == "ResourceNotFoundException"

    shard = west_streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records = []
    for each in shard:
        iterator = west_streams.get_shard_iterator(
            StreamArn=arn, ShardId=each["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += west_streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["awsRegion"] for r in records] == ["eu-west-1"]
    assert [r["dynamodb"]["Keys"] for r in records] == [{"id": {"S": "a"}}]


def test_a_transaction_cannot_reach_into_another_region(server, table_name):
    east, west = client(server, "us-east-1"), client(server, "us-west-2")
    here, elsewhere = table_name + "_here", table_name + "_elsewhere"
    create(west, here)
    create(east, elsewhere)
    error = error_of(lambda: west.transact_write_items(TransactItems=[
        {"Put": {"TableName": here, "Item": {"id": {"S": "a"}}}},
        {"Put": {"TableName": elsewhere, "Item": {"id": {"S": "b"}}}},
    ]))
    assert error == {"Code": "ResourceNotFoundException", "Message": f"Requested resource not found: Table: {elsewhere} not found"}
    assert "Item" not in west.get_item(TableName=here, Key={"id": {"S": "a"}})
    assert "Item" not in east.get_item(TableName=elsewhere, Key={"id": {"S": "b"}})
    error = error_of(lambda: west.transact_get_items(TransactItems=[
        {"Get": {"TableName": elsewhere, "Key": {"id": {"S": "b"}}}},
        {"Get": {"TableName": here, "Key": {"id": {"S": "b"}}}},
        {"Get": {"TableName": "Nowhere", "Key": {"id": {"S": "b"}}}},
    ]))
    assert error == {"Code": "ResourceNotFoundException", "Message": f"Requested resource not found: Tables: {elsewhere}, Nowhere not found"}


def test_the_aws_cli_names_the_region(server, table_name):
    create(client(server, "ap-southeast-2"), table_name)
    environment = dict(os.environ, AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
                       AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"], AWS_PAGER="")

    def tables(region):
        listed = subprocess.run(["aws", "dynamodb", "list-tables", "--region", region, "--endpoint-url", server.endpoint],
                                env=environment, capture_output=True, text=True, timeout=120, check=True)
        return json.loads(listed.stdout)["TableNames"]

    assert table_name in tables("ap-southeast-2")
    assert table_name not in tables("us-east-1")


def test_regions_survive_a_restart_in_their_own_directories(table_name):
    data = tempfile.mkdtemp(prefix="eddy-regions-")
    first = Server("--region", "eu-central-1", data_dir=data)
    try:
        home = create(client(first, "eu-central-1"), table_name + "_home")
        assert home["TableArn"].startswith("arn:aws:dynamodb:eu-central-1:")
        create(client(first, "us-east-1"), table_name + "_away")
        client(first, "us-east-1").put_item(TableName=table_name + "_away", Item={"id": {"S": "kept"}})
    finally:
        assert first.stop() == 0
    assert os.path.isdir(os.path.join(data, "db", "regions", "us-east-1"))
    second = Server("--region", "eu-central-1", data_dir=data)
    try:
        assert client(second, "eu-central-1").list_tables()["TableNames"] == [table_name + "_home"]
        away = client(second, "us-east-1")
        assert away.list_tables()["TableNames"] == [table_name + "_away"]
        assert away.get_item(TableName=table_name + "_away", Key={"id": {"S": "kept"}})["Item"] == {"id": {"S": "kept"}}
    finally:
        second.stop()


def signed_list_tables(server, region, secret=CREDENTIALS["aws_secret_access_key"]):
    """ListTables signed by botocore for `region`, which need not be a name boto3's clients accept."""
    status, _, body = post(server, "DynamoDB_20120810.ListTables", {}, region=region, secret=secret)
    return status, json.loads(body)


@pytest.mark.parametrize("region", ["us.west", "..", "a" * 65])
def test_a_region_that_cannot_be_one_is_refused(server, region):
    status, answer = signed_list_tables(server, region)
    assert status == 400
    assert answer["__type"].endswith("#InvalidSignatureException")
    assert f"Credential should be scoped to a valid region, not '{region}'." in answer["message"]


def test_with_credentials_every_region_is_checked_and_kept_apart(table_name):
    secrets = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({CREDENTIALS["aws_access_key_id"]: CREDENTIALS["aws_secret_access_key"]}, secrets)
    secrets.close()
    server = Server("--credentials", secrets.name)
    try:
        create(client(server, "sa-east-1"), table_name)
        status, answer = signed_list_tables(server, "sa-east-1")
        assert (status, answer["TableNames"]) == (200, [table_name])
        status, answer = signed_list_tables(server, "us-east-1")
        assert (status, answer["TableNames"]) == (200, [])
        # The signature is still checked, whatever the Region.
        status, answer = signed_list_tables(server, "sa-east-1", secret="not-the-secret")
        assert status == 400 and answer["__type"].endswith("#InvalidSignatureException")
    finally:
        server.stop()
        os.unlink(secrets.name)
