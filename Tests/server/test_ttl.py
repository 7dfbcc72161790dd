"""Time to Live through the server: UpdateTimeToLive and DescribeTimeToLive with boto3 and the AWS CLI, and
expired items deleted by the server's sweeper with REMOVE records naming the service."""
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from test_cli import aws


@pytest.fixture(scope="module")
def sweeping():
    """A server looking for expired items every 0.2 s."""
    started = Server("--ttl-sweep-interval", "0.2")
    yield started
    started.stop()


def create_sessions(dynamodb, name):
    dynamodb.create_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def test_time_to_live_is_enabled_and_described_with_boto3(dynamodb, table_name):
    create_sessions(dynamodb, table_name)
    assert dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    answer = dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expiresAt"}
    assert dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}

    with pytest.raises(ClientError) as again:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    assert again.value.response["Error"] == {"Code": "ValidationException", "Message": "TimeToLive is already enabled"}
    with pytest.raises(ClientError) as soon:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"})
    assert soon.value.response["Error"]["Message"] == "Time to live has been modified multiple times within a fixed interval"
    with pytest.raises(ClientError) as missing:
        dynamodb.describe_time_to_live(TableName="NoSuchTable")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_aws_cli_enables_and_describes_time_to_live(server, table_name):
    create_sessions(server.client(), table_name)
    enabled = aws(server, "dynamodb", "update-time-to-live", "--table-name", table_name,
                  "--time-to-live-specification", "Enabled=true,AttributeName=ttl")
    assert enabled["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "ttl"}
    described = aws(server, "dynamodb", "describe-time-to-live", "--table-name", table_name)
    assert described["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def stream_records(streams, arn):
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


def test_expired_items_are_deleted_by_the_server_with_records_naming_the_service(sweeping, table_name):
    dynamodb = sweeping.client()
    create_sessions(dynamodb, table_name)
    dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    now = int(time.time())
    dynamodb.put_item(TableName=table_name, Item={"id": {"S": "expired"}, "expiresAt": {"N": str(now - 30)}})
    dynamodb.put_item(TableName=table_name, Item={"id": {"S": "later"}, "expiresAt": {"N": str(now + 3600)}})
    dynamodb.put_item(TableName=table_name, Item={"id": {"S": "not-a-number"}, "expiresAt": {"S": str(now - 30)}})

    deadline = time.time() + 20
    while "Item" in dynamodb.get_item(TableName=table_name, Key={"id": {"S": "expired"}}) and time.time() < deadline:
        time.sleep(0.05)
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"id": {"S": "expired"}})
    assert {item["id"]["S"] for item in dynamodb.scan(TableName=table_name)["Items"]} == {"later", "not-a-number"}

    arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records = stream_records(sweeping.client("dynamodbstreams"), arn)
    removes = [record for record in records if record["eventName"] == "REMOVE"]
    assert len(records) == 4
    assert len(removes) == 1
    assert removes[0]["dynamodb"]["Keys"] == {"id": {"S": "expired"}}
    assert removes[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert all("userIdentity" not in record for record in records if record["eventName"] == "INSERT")


def test_a_bad_sweep_interval_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="ttl-sweep-interval"):
        Server("--ttl-sweep-interval", "0", data_dir=str(tmp_path))
