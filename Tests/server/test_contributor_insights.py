"""Contributor Insights and the capacity metrics through boto3 against `eddy serve` (issue 23), written from the
DynamoDB API reference (UpdateContributorInsights, DescribeContributorInsights, ListContributorInsights), the
Developer Guide ("CloudWatch Contributor Insights for DynamoDB: How it works": rule names) and CloudWatch's
DynamoDB metric names. Which keys come first over which window is tested in Swift with a manual clock
(ContributorInsightsTests); here, the wire shapes, the errors, `/metrics` and the admin API."""
import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError

from test_eddy_cli import eddy


def create(dynamodb, name):
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gk", "lk")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                  {"AttributeName": "lk", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])


def metrics(server):
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=5) as response:
        return response.read().decode()


def sample(text, name, **labels):
    """The value of the sample of metric `name` with exactly these labels, or None."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2)))
        if found == labels:
            return float(match.group(3))
    return None


def test_update_describe_and_list_round_trip(dynamodb, table_name):
    create(dynamodb, table_name)
    never = dynamodb.describe_contributor_insights(TableName=table_name)
    assert never["ContributorInsightsStatus"] == "DISABLED"
    assert "ContributorInsightsRuleList" not in never

    updated = dynamodb.update_contributor_insights(TableName=table_name, ContributorInsightsAction="ENABLE")
    assert updated["TableName"] == table_name
    assert updated["ContributorInsightsStatus"] == "ENABLED"
    assert updated["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"

    described = dynamodb.describe_contributor_insights(TableName=table_name)
    assert described["ContributorInsightsStatus"] == "ENABLED"
    rules = described["ContributorInsightsRuleList"]
    assert [rule.split("-")[1] for rule in rules] == ["PKC", "PKT", "SKC", "SKT"]
    assert all(re.fullmatch(rf"DynamoDBContributorInsights-[A-Z]{{3}}-{table_name}-\d{{13}}", rule) for rule in rules)
    assert described["LastUpdateDateTime"].year >= 2025
    assert "FailureException" not in described

    index = dynamodb.update_contributor_insights(TableName=table_name, IndexName="byG", ContributorInsightsAction="ENABLE",
                                                 ContributorInsightsMode="THROTTLED_KEYS")
    assert (index["IndexName"], index["ContributorInsightsMode"]) == ("byG", "THROTTLED_KEYS")
    index_rules = dynamodb.describe_contributor_insights(TableName=table_name, IndexName="byG")["ContributorInsightsRuleList"]
    assert [rule.split("-")[1] for rule in index_rules] == ["PKT"]

    listed = dynamodb.list_contributor_insights(TableName=table_name)["ContributorInsightsSummaries"]
    assert [(s.get("IndexName"), s["ContributorInsightsStatus"], s["ContributorInsightsMode"]) for s in listed] == [
        (None, "ENABLED", "ACCESSED_AND_THROTTLED_KEYS"), ("byG", "ENABLED", "THROTTLED_KEYS")]
    everywhere = dynamodb.list_contributor_insights()["ContributorInsightsSummaries"]
    assert [s.get("IndexName") for s in everywhere if s["TableName"] == table_name] == [None, "byG"]

    disabled = dynamodb.update_contributor_insights(TableName=table_name, ContributorInsightsAction="DISABLE")
    assert disabled["ContributorInsightsStatus"] == "DISABLED"
    assert dynamodb.describe_contributor_insights(TableName=table_name)["ContributorInsightsStatus"] == "DISABLED"


def test_refused_requests(dynamodb, table_name):
    create(dynamodb, table_name)
    with pytest.raises(ClientError) as missing:
        dynamodb.describe_contributor_insights(TableName=table_name + "Missing")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_index:
        dynamodb.update_contributor_insights(TableName=table_name, IndexName="nope", ContributorInsightsAction="ENABLE")
    assert no_index.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as local:
        dynamodb.update_contributor_insights(TableName=table_name, IndexName="byL", ContributorInsightsAction="ENABLE")
    assert local.value.response["Error"]["Code"] == "ValidationException"
    # boto3 checks enum values only against its model's type (a string): the server refuses the value.
    with pytest.raises(ClientError) as action:
        dynamodb.update_contributor_insights(TableName=table_name, ContributorInsightsAction="START")
    assert action.value.response["Error"]["Code"] == "ValidationException"
    assert ("Value 'START' at 'contributorInsightsAction' failed to satisfy constraint: "
            "Member must satisfy enum value set: [ENABLE, DISABLE]") in action.value.response["Error"]["Message"]


def test_metrics_show_consumed_units_and_top_keys(server, dynamodb, table_name):
    create(dynamodb, table_name)
    dynamodb.update_contributor_insights(TableName=table_name, ContributorInsightsAction="ENABLE")
    for sk in ("1", "2", "3"):
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "hot"}, "sk": {"S": sk}, "gk": {"S": "g"}})
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "cold"}, "sk": {"S": "1"}})
    text = metrics(server)
    # Small items: one write unit each on the table; the three with `gk` also one each on the index.
    assert sample(text, "eddy_capacity_units_total", table=table_name, index="", metric="ConsumedWriteCapacityUnits") == 4
    assert sample(text, "eddy_capacity_units_total", table=table_name, index="byG", metric="ConsumedWriteCapacityUnits") == 3
    assert sample(text, "eddy_capacity_provisioned_units", table=table_name, index="",
                  metric="ProvisionedWriteCapacityUnits") == 0
    assert sample(text, "eddy_contributor_insights_key_value", table=table_name, index="", rule="PKC",
                  partition_key="hot", sort_key="") == 3
    assert sample(text, "eddy_contributor_insights_key_value", table=table_name, index="", rule="SKC",
                  partition_key="cold", sort_key="1") == 1

    status, report = server.admin("GET", f"tables/{table_name}/contributor-insights")
    assert status == 200
    accessed = next(rule for rule in report["Rules"] if rule["Rule"] == "PKC")
    assert accessed["RuleName"].startswith(f"DynamoDBContributorInsights-PKC-{table_name}-")
    assert [(c["PartitionKey"], c["Value"]) for c in accessed["Contributors"]] == [({"S": "hot"}, 3), ({"S": "cold"}, 1)]
    status, error = server.admin("GET", f"tables/{table_name}/indexes/byG/contributor-insights")
    assert (status, error["__type"]) == (400, "ValidationException")


def test_eddy_tables_describe_shows_the_capacity(server, dynamodb, table_name):
    dynamodb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    dynamodb.update_contributor_insights(TableName=table_name, ContributorInsightsAction="ENABLE")
    for n in range(3):
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": f"k{n}"}})
    status, output, error = eddy("tables", "describe", table_name, "--capacity", "--endpoint-url", server.endpoint)
    assert status == 0, error
    described = json.loads(output)
    assert described["Table"]["TableName"] == table_name
    table = described["Capacity"]["Resources"][0]
    assert table["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
    assert table["ContributorInsightsStatus"] == "ENABLED"
    # The puts fall in the minute in progress, or (past a minute's end) partly in the one before.
    minutes = (table["LastMinute"], table["CurrentMinute"])
    assert sum(minute["ConsumedWriteCapacityUnits"] for minute in minutes) == 3
    assert sum(minute["WriteThrottleEvents"] for minute in minutes) == 0
