"""Capacity settings of tables through boto3 against `eddy serve` (issue 23): OnDemandThroughput on
CreateTable, UpdateTable and DescribeTable, the provisioned throughput's decrease counters and DynamoDB's limit
on decreases, and the limit on switching to on-demand, written from the DynamoDB API reference (CreateTable,
UpdateTable, OnDemandThroughput, ProvisionedThroughputDescription, BillingModeSummary) and the Developer Guide
("Service, account, and table quotas": 4 decreases at any time of a UTC day, then one per hour;
"Considerations when switching capacity modes": 4 switches to on-demand in a rolling 24 hours).

The server's clock is the system's, so the hourly and daily windows are tested in Swift with a manual clock;
here each limit is reached within one call sequence."""
import datetime

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def create(dynamodb, name, **settings):
    request = dict(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], **settings)
    return dynamodb.create_table(**request)["TableDescription"]


def units(read, write=None):
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": read if write is None else write}


def test_on_demand_throughput_is_created_described_and_updated(dynamodb, table_name):
    created = create(dynamodb, table_name, BillingMode="PAY_PER_REQUEST", OnDemandThroughput={"MaxReadRequestUnits": 100})
    assert created["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": -1}
    updated = dynamodb.update_table(TableName=table_name, OnDemandThroughput={"MaxWriteRequestUnits": 50})
    assert updated["TableDescription"]["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    dynamodb.update_table(TableName=table_name, OnDemandThroughput={"MaxReadRequestUnits": -1})
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert described["OnDemandThroughput"] == {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 50}
    assert error_of(lambda: dynamodb.update_table(TableName=table_name, OnDemandThroughput={"MaxWriteRequestUnits": 0})) == (
        "ValidationException",
        "One or more parameter values were invalid: Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of valid range")
    assert error_of(lambda: dynamodb.update_table(
        TableName=table_name, OnDemandThroughput={"MaxWriteRequestUnits": 5}, DeletionProtectionEnabled=True)) == (
        "ValidationException",
        "One or more parameter values were invalid: OnDemandThroughput can only be combined with BillingMode in an UpdateTable request")


def test_on_demand_throughput_needs_pay_per_request(dynamodb, table_name):
    assert error_of(lambda: create(dynamodb, table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(1),
                                   OnDemandThroughput={"MaxReadRequestUnits": 5})) == (
        "ValidationException",
        "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED")
    provisioned = create(dynamodb, table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(1))
    assert "OnDemandThroughput" not in provisioned
    switched = dynamodb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                                     OnDemandThroughput={"MaxWriteRequestUnits": 7})["TableDescription"]
    assert switched["OnDemandThroughput"] == {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 7}


def test_decreases_are_counted_and_limited(dynamodb, table_name):
    create(dynamodb, table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(10))
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    for read in (9, 8, 7, 6):
        dynamodb.update_table(TableName=table_name, ProvisionedThroughput=units(read))
    throughput = dynamodb.describe_table(TableName=table_name)["Table"]["ProvisionedThroughput"]
    assert throughput["NumberOfDecreasesToday"] == 4
    assert throughput["LastDecreaseDateTime"] >= before
    assert "LastIncreaseDateTime" not in throughput
    code, message = error_of(lambda: dynamodb.update_table(TableName=table_name, ProvisionedThroughput=units(5)))
    assert code == "LimitExceededException"
    assert message.startswith(
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the "
        "first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 "
        "seconds. Number of decreases today: 4. Last decrease at ")
    raised = dynamodb.update_table(TableName=table_name, ProvisionedThroughput=units(20))["TableDescription"]
    assert raised["ProvisionedThroughput"]["ReadCapacityUnits"] == 20
    assert raised["ProvisionedThroughput"]["LastIncreaseDateTime"] >= throughput["LastDecreaseDateTime"]
    assert raised["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 4


def test_a_table_switches_to_on_demand_at_most_four_times_a_day(dynamodb, table_name):
    create(dynamodb, table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(5))
    for _ in range(4):
        switched = dynamodb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
        assert switched["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert "LastUpdateToPayPerRequestDateTime" in switched["BillingModeSummary"]
        dynamodb.update_table(TableName=table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(5))
    code, message = error_of(lambda: dynamodb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST"))
    assert code == "LimitExceededException"
    assert message.startswith("Subscriber limit exceeded: Update to PayPerRequest mode are limited to 4 times in 1 day(s).")
    assert dynamodb.describe_table(TableName=table_name)["Table"]["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_the_server_serves_with_throttling_off(table_name):
    server = Server("--no-throttling")
    try:
        dynamodb = server.client()
        create(dynamodb, table_name, BillingMode="PROVISIONED", ProvisionedThroughput=units(1))
        # More than the 300 units of burst a one-unit table keeps, without a refusal.
        for n in range(400):
            dynamodb.put_item(TableName=table_name, Item={"pk": {"S": f"item-{n}"}})
        assert dynamodb.describe_table(TableName=table_name)["Table"]["ItemCount"] == 400
    finally:
        server.stop()
