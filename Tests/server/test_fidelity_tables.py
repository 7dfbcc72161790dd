"""DynamoDB fidelity of Query and Scan, DynamoDB Streams and table operations (issue 21, points 5 to 7), through
boto3 and the AWS CLI against `eddy serve`, written from the DynamoDB API reference (Query's ExclusiveStartKey,
KeyConditionExpression and QueryFilter; DynamoDB Streams' DescribeStream ShardFilter, ExclusiveStartShardId and
GetShardIterator; CreateTable, UpdateTable, DeleteTable and BillingModeSummary) and DynamoDB's error messages."""
import datetime
import json
import os
import subprocess
import tempfile

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def aws(server, *arguments):
    """Runs the AWS CLI against `server`; returns its exit status, its JSON answer (or None) and its stderr."""
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    result = subprocess.run(["aws", "--endpoint-url", server.endpoint, "--output", "json", *arguments],
                            capture_output=True, text=True, env=environment, timeout=120)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None, result.stderr


def create(dynamodb, name, sort_type=None, stream=None, billing="PAY_PER_REQUEST", extra=None):
    """Creates table `name` keyed by `pk` (S) and, with `sort_type`, `sk`; returns its description."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort_type:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        definitions.append({"AttributeName": "sk", "AttributeType": sort_type})
    request = dict(TableName=name, KeySchema=keys, AttributeDefinitions=definitions, BillingMode=billing)
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    request.update(extra or {})
    return dynamodb.create_table(**request)["TableDescription"]


@pytest.fixture
def tables(dynamodb, table_name):
    """A table keyed by pk (S) and sk (N) holding sk 1 to 5 in partition p, and a table keyed by pk alone."""
    composite, hash_only = table_name + "_q", table_name + "_h"
    create(dynamodb, composite, sort_type="N")
    create(dynamodb, hash_only)
    for sk in range(1, 6):
        dynamodb.put_item(TableName=composite, Item={"pk": {"S": "p"}, "sk": {"N": str(sk)}, "n": {"N": str(sk)}})
    dynamodb.put_item(TableName=hash_only, Item={"pk": {"S": "p"}, "n": {"N": "1"}})
    return composite, hash_only


P = {":p": {"S": "p"}}


@pytest.mark.parametrize("which, condition, values, start, message", [
    ("composite", "pk = :p", P, {"pk": {"S": "q"}, "sk": {"N": "1"}},
     "The provided starting key is outside query boundaries based on provided conditions"),
    ("composite", "pk = :p AND sk > :s", dict(P, **{":s": {"N": "2"}}), {"pk": {"S": "p"}, "sk": {"N": "1"}},
     "The provided starting key does not match the range key predicate"),
    ("hash", "pk = :p", P, {"pk": {"S": "p"}, "sk": {"N": "1"}},
     "Exclusive Start Key must have same size as table's key schema"),
    ("composite", "pk = :p", P, {"pk": {"S": "p"}}, "Exclusive Start Key must have same size as table's key schema"),
    ("composite", "pk = :p", P, {"pk": {"S": "p"}, "x": {"N": "1"}}, "The provided starting key is invalid"),
    ("composite", "pk = :p", P, {"pk": {"S": "p"}, "sk": {"S": "1"}},
     "The provided starting key is invalid: The provided key element does not match the schema"),
])
def test_query_refuses_start_keys_outside_the_query(dynamodb, tables, which, condition, values, start, message):
    table = tables[0] if which == "composite" else tables[1]
    assert error_of(lambda: dynamodb.query(TableName=table, KeyConditionExpression=condition,
                                           ExpressionAttributeValues=values, ExclusiveStartKey=start)) == (
        "ValidationException", message)


def test_query_resumes_after_a_start_key_within_the_query(dynamodb, tables):
    page = dynamodb.query(TableName=tables[0], KeyConditionExpression="pk = :p AND sk >= :s",
                          ExpressionAttributeValues=dict(P, **{":s": {"N": "2"}}),
                          ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "2.5"}})
    assert [item["sk"]["N"] for item in page["Items"]] == ["3", "4", "5"]


@pytest.mark.parametrize("condition, values, message", [
    ("pk = :p AND begins_with(sk, :s)", dict(P, **{":s": {"N": "1"}}),
     "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
     "operator or function: begins_with, operand type: N"),
    ("pk = :p AND n = :n", dict(P, **{":n": {"N": "1"}}), "Query condition missed key schema element: sk"),
    ("pk = :p AND sk.x = :n", dict(P, **{":n": {"N": "1"}}),
     "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("pk = :p AND size(sk) = :n", dict(P, **{":n": {"N": "1"}}), "KeyConditionExpressions cannot contain nested operations"),
    ("pk = :p AND sk = n", P, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
    ("pk = :p AND :a = :b", dict(P, **{":a": {"N": "1"}, ":b": {"N": "1"}}),
     "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("pk = :p AND sk > :a AND sk < :b", dict(P, **{":a": {"N": "1"}, ":b": {"N": "2"}}),
     "KeyConditionExpressions must only contain one condition per key"),
])
def test_key_conditions_are_refused_in_dynamodbs_words(dynamodb, tables, condition, values, message):
    assert error_of(lambda: dynamodb.query(TableName=tables[0], KeyConditionExpression=condition,
                                           ExpressionAttributeValues=values)) == ("ValidationException", message)


def test_the_aws_cli_shows_dynamodbs_message_for_begins_with_on_a_number(server, tables):
    status, _, stderr = aws(server, "dynamodb", "query", "--table-name", tables[0],
                            "--key-condition-expression", "pk = :p AND begins_with(sk, :s)",
                            "--expression-attribute-values", '{":p": {"S": "p"}, ":s": {"N": "1"}}')
    assert status != 0
    assert ("ValidationException" in stderr and "operator or function: begins_with, operand type: N" in stderr), stderr


@pytest.mark.parametrize("name", ["pk", "sk"])
def test_query_filter_on_a_key_attribute_is_refused(dynamodb, tables, name):
    assert error_of(lambda: dynamodb.query(
        TableName=tables[0], KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={name: {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}})) == (
        "ValidationException", f"QueryFilter can only contain non-primary key attributes: Primary key attribute: {name}")


@pytest.mark.parametrize("operator, operands", [
    ("IN", [{"N": "1"}, {"S": "1"}]),
    ("BETWEEN", [{"N": "1"}, {"S": "2"}]),
])
def test_legacy_lists_of_mixed_types_are_refused(dynamodb, tables, operator, operands):
    message = "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
    condition = {"n": {"ComparisonOperator": operator, "AttributeValueList": operands}}
    assert error_of(lambda: dynamodb.scan(TableName=tables[0], ScanFilter=condition)) == ("ValidationException", message)
    assert error_of(lambda: dynamodb.query(
        TableName=tables[0], KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter=condition)) == ("ValidationException", message)


@pytest.fixture
def stream(dynamodb, table_name):
    """A table with a stream and a few records; returns its name and stream ARN."""
    arn = create(dynamodb, table_name, stream="KEYS_ONLY")["LatestStreamArn"]
    for key in ["a", "b", "c"]:
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": key}})
    return table_name, arn


def test_child_shards_filter_describes_the_children_of_a_shard(streams, stream):
    _, arn = stream
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert shards
    for shard in shards:
        described = streams.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard["ShardId"]})["StreamDescription"]
        assert described["StreamStatus"] == "ENABLED"
        assert described["Shards"] == [child for child in shards if child.get("ParentShardId") == shard["ShardId"]]
    unknown = "shardId-00000000000000000001-000000ff"
    assert error_of(lambda: streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": unknown})) == (
        "ResourceNotFoundException", f"Requested resource not found: Shard: {unknown} in Stream: {arn} not found")


@pytest.mark.parametrize("shard_filter, message", [
    ({"Type": "CHILD_SHARDS"},
     "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: Member must not be null"),
    ({"ShardId": "shardId-00000000000000000001-00000000"},
     "1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"),
    ({"Type": "PARENT_SHARDS", "ShardId": "shardId-00000000000000000001-00000000"},
     "1 validation error detected: Value 'PARENT_SHARDS' at 'shardFilter.type' failed to satisfy constraint: "
     "Member must satisfy enum value set: [CHILD_SHARDS]"),
])
def test_a_shard_filter_needs_its_type_and_shard(streams, stream, shard_filter, message):
    assert error_of(lambda: streams.describe_stream(StreamArn=stream[1], ShardFilter=shard_filter)) == (
        "ValidationException", message)


def test_describe_stream_pages_after_a_shard_id_the_stream_does_not_have(streams, stream):
    _, arn = stream
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    before_all = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="shardId-00000000000000000000-00000000")
    assert before_all["StreamDescription"]["Shards"] == shards
    after_all = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="shardId-99999999999999999999-ffffffff")
    assert after_all["StreamDescription"]["Shards"] == []
    assert "LastEvaluatedShardId" not in after_all["StreamDescription"]


def test_shard_iterators_start_at_any_sequence_number_of_the_shards_range(streams, stream):
    _, arn = stream
    shard = next(shard for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
                 if "EndingSequenceNumber" not in shard["SequenceNumberRange"])
    start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=str(start).zfill(21))["ShardIterator"]
    assert iterator
    code, message = error_of(lambda: streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(start - 1).zfill(21)))
    assert code == "ValidationException"
    assert message == f"Invalid SequenceNumber: {str(start - 1).zfill(21)} is not in the range of shard {shard['ShardId']}"


def test_disabling_a_stream_a_table_does_not_have_is_refused(dynamodb, table_name):
    create(dynamodb, table_name)
    assert error_of(lambda: dynamodb.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})) == (
        "ValidationException", f"Table has no stream to disable: TableName: {table_name}")


@pytest.mark.parametrize("definitions, keys, indexes, message", [
    ([("pk", "S"), ("pk", "S")], [("pk", "HASH")], None, "Attribute Name is duplicated: pk"),
    ([("pk", "S"), ("sk", "S"), ("sk", "N")], [("pk", "HASH"), ("sk", "RANGE")], None, "Attribute Name is duplicated: sk"),
    ([("pk", "S")], [("pk", "HASH"), ("pk", "RANGE")], None,
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    ([("pk", "S"), ("extra", "S")], [("pk", "HASH")], None,
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of "
     "attributes defined in AttributeDefinitions"),
    ([("pk", "S"), ("extra", "S"), ("g", "S")], [("pk", "HASH")], "g",
     "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
     "AttributeDefinitions: [pk, extra, g], keys used: [pk, g]"),
])
def test_create_table_refuses_bad_definitions_in_dynamodbs_words(dynamodb, table_name, definitions, keys, indexes, message):
    request = dict(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in definitions],
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys])
    if indexes:
        request["GlobalSecondaryIndexes"] = [{"IndexName": "byG", "KeySchema": [{"AttributeName": indexes, "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}]
    assert error_of(lambda: dynamodb.create_table(**request)) == ("ValidationException", message)
    assert table_name not in dynamodb.list_tables()["TableNames"]


def test_delete_table_answers_with_what_dynamodb_returns_for_a_deleting_table(dynamodb, table_name):
    create(dynamodb, table_name, sort_type="S", stream="NEW_IMAGE")
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    deleted = dynamodb.delete_table(TableName=table_name)["TableDescription"]
    assert sorted(deleted) == ["ItemCount", "ProvisionedThroughput", "TableArn", "TableName", "TableSizeBytes", "TableStatus"]
    assert deleted["TableStatus"] == "DELETING"
    assert deleted["ItemCount"] == 1
    assert deleted["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"


def test_the_aws_cli_prints_the_deleting_tables_description(server, dynamodb, table_name):
    create(dynamodb, table_name)
    status, answer, stderr = aws(server, "dynamodb", "delete-table", "--table-name", table_name)
    assert status == 0, stderr
    assert answer["TableDescription"]["TableStatus"] == "DELETING"
    assert "KeySchema" not in answer["TableDescription"]


def test_last_update_to_pay_per_request_is_reported_and_survives_a_restart():
    data_dir = tempfile.mkdtemp(prefix="eddy-fidelity-billing-")
    server = Server(data_dir=data_dir)
    try:
        dynamodb = server.client()
        on_demand = create(dynamodb, "OnDemand")["BillingModeSummary"]
        assert on_demand["BillingMode"] == "PAY_PER_REQUEST"
        assert isinstance(on_demand["LastUpdateToPayPerRequestDateTime"], datetime.datetime)
        provisioned = create(dynamodb, "Provisioned", billing="PROVISIONED")["BillingModeSummary"]
        assert "LastUpdateToPayPerRequestDateTime" not in provisioned
        switched = dynamodb.update_table(TableName="Provisioned", BillingMode="PAY_PER_REQUEST")["TableDescription"]
        switched_at = switched["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"]
        assert switched_at >= on_demand["LastUpdateToPayPerRequestDateTime"]
        described = {name: dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"]
                     for name in ["OnDemand", "Provisioned"]}
    finally:
        server.stop()
    restarted = Server(data_dir=data_dir)
    try:
        dynamodb = restarted.client()
        for name, summary in described.items():
            assert dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"] == summary
        assert described["Provisioned"]["LastUpdateToPayPerRequestDateTime"] == switched_at
    finally:
        restarted.stop()
        subprocess.run(["rm", "-rf", data_dir], check=False)
