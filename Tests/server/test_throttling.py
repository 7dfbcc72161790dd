"""Throttling through boto3 against `eddy serve` (issue 23), written from the DynamoDB Developer Guide ("Burst and
adaptive capacity", "Error handling with DynamoDB": throttled requests, retries with exponential backoff, batch
operations' unprocessed items) and the API reference (ProvisionedThroughputExceededException, ThrottlingException,
ThrottlingReason).

The server's clock is the system's: these tests empty a bucket faster than it refills and never sleep. How much
burst a table keeps, and how batches split, is tested in Swift with a manual clock (ThrottlingTests)."""
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import CREDENTIALS, REGION

TABLE_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. "
                 "Consider increasing your provisioning level with the UpdateTable API.")


def create(dynamodb, name, **settings):
    dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], **settings)


def put_until_throttled(dynamodb, table, item, limit=2000):
    """Puts item(n) for n = 0, 1, … with a client that does not retry, until a put is refused; returns how many
    were written and the refusal."""
    for written in range(limit):
        try:
            dynamodb.put_item(TableName=table, Item=item(written))
        except ClientError as error:
            return written, error.response
    pytest.fail(f"{limit} puts and none throttled")


def test_a_one_unit_table_throttles_once_its_burst_is_spent_and_a_retrying_client_gets_through(server, dynamodb, table_name):
    create(dynamodb, table_name, BillingMode="PROVISIONED",
           ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    # 300 seconds of one unit are saved; the puts spend them faster than one a second comes back.
    started = time.monotonic()
    written, refusal = put_until_throttled(dynamodb, table_name, lambda n: {"pk": {"S": f"item-{n}"}})
    assert 300 <= written <= 300 + (time.monotonic() - started) + 1
    assert refusal["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert refusal["Error"]["Message"] == TABLE_MESSAGE
    assert refusal["ResponseMetadata"]["HTTPStatusCode"] == 400
    table_arn = dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]
    assert refusal["ThrottlingReasons"] == [{"reason": "TableWriteProvisionedThroughputExceeded", "resource": table_arn}]
    # Reads have their own bucket.
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "item-0"}})["Item"] == {"pk": {"S": "item-0"}}
    # A batch against the spent bucket: the items it refuses come back unprocessed, or, when none at all could be
    # written, the error itself. A unit a second refills meanwhile: a few items may get in, not more.
    requests = [{"PutRequest": {"Item": {"pk": {"S": f"batch-{n}"}}}} for n in range(25)]
    try:
        unprocessed = dynamodb.batch_write_item(RequestItems={table_name: requests})["UnprocessedItems"][table_name]
        assert len(unprocessed) >= 20
        assert all(request in requests for request in unprocessed)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    # boto3's standard retry mode backs off exponentially until the bucket has refilled.
    retrying = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=REGION,
                            config=Config(retries={"mode": "standard", "max_attempts": 10}), **CREDENTIALS)
    retrying.put_item(TableName=table_name, Item={"pk": {"S": "after-retries"}})
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "after-retries"}})["Item"] == {"pk": {"S": "after-retries"}}


def test_a_throttled_transaction_is_cancelled_with_the_reason_of_the_throttled_item(dynamodb, table_name):
    create(dynamodb, table_name, BillingMode="PROVISIONED",
           ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    other = table_name + "_roomy"
    create(dynamodb, other, BillingMode="PAY_PER_REQUEST")
    # A refused put leaves the bucket at most one unit short, and a unit a second comes back: the transaction,
    # a few milliseconds later, is admitted when that refill crossed zero in between. Then it wrote both items,
    # and the bucket is spent again before the next try.
    error = None
    for attempt in range(5):
        put_until_throttled(dynamodb, table_name, lambda n: {"pk": {"S": f"item-{attempt}-{n}"}})
        a, b = {"pk": {"S": f"a-{attempt}"}}, {"pk": {"S": f"b-{attempt}"}}
        try:
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": other, "Item": a}},
                {"Put": {"TableName": table_name, "Item": b}},
            ])
        except ClientError as refused:
            error = refused.response
            break
        assert dynamodb.get_item(TableName=other, Key=a)["Item"] == a
        assert dynamodb.get_item(TableName=table_name, Key=b)["Item"] == b
    assert error is not None, "five transactions on a spent bucket, none refused"
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "ProvisionedThroughputExceeded"]
    assert "Item" not in dynamodb.get_item(TableName=other, Key=a)


def test_a_hot_partition_key_throttles_while_another_key_of_the_table_does_not(dynamodb, table_name):
    # On demand: no provisioned limit, but one partition key value takes 1,000 write units a second. Items of
    # 350 KB cost 350 units each: the fourth within a second finds the key's share spent.
    create(dynamodb, table_name, BillingMode="PAY_PER_REQUEST")
    body = "x" * (350 * 1024)
    written, refusal = put_until_throttled(
        dynamodb, table_name, lambda n: {"pk": {"S": "hot"}, "body": {"S": body}}, limit=20)
    assert written >= 3
    assert refusal["Error"]["Code"] == "ThrottlingException"
    # The API model names ThrottlingException's member `throttlingReasons`.
    assert [reason["reason"] for reason in refusal["throttlingReasons"]] == ["TableWriteKeyRangeThroughputExceeded"]
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "cold"}, "body": {"S": body}})

