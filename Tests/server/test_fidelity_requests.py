"""How DynamoDB decodes a request, through boto3, the AWS CLI and raw HTTP against `eddy serve`: enum members
outside their set, legacy and expression parameters together, and values DynamoDB cannot deserialize.

The messages are DynamoDB's (API reference, "Common errors"; developer guide, "Legacy conditional parameters"):
a member outside its enumeration is a ValidationException in the Coral form
`1 validation error detected: Value 'X' at 'returnValues' failed to satisfy constraint: Member must satisfy enum
value set: [...]`, several are counted and joined with "; ", and a body DynamoDB cannot deserialize is a
SerializationException."""
import json
import os
import subprocess

import botocore.exceptions
import pytest

from conftest import CREDENTIALS, REGION
from test_protocol import post as signed_post

RETURN_VALUES = "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
CONSUMED_CAPACITY = "[INDEXES, TOTAL, NONE]"
COLLECTION_METRICS = "[SIZE, NONE]"
ON_CONDITION_FAILURE = "[ALL_OLD, NONE]"
SELECT = "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
COMPARISON = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
CONDITIONAL = "[OR, AND]"
KEY_TYPE = "[HASH, RANGE]"
ATTRIBUTE_TYPE = "[B, N, S]"
PROJECTION = "[ALL, INCLUDE, KEYS_ONLY]"
BILLING = "[PROVISIONED, PAY_PER_REQUEST]"
VIEW_TYPE = "[OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]"
TABLE_CLASS = "[STANDARD, STANDARD_INFREQUENT_ACCESS]"
ITERATOR_TYPE = "[AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
ACTION = "[ADD, PUT, DELETE]"


def enum(value, path, allowed):
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: {allowed}"


def detected(*violations):
    count = len(violations)
    return f"{count} validation error{'' if count == 1 else 's'} detected: " + "; ".join(violations)


def post(server, target, body):
    """POSTs `body` (bytes, or a dict sent as JSON), signed: (status, parsed JSON answer)."""
    status, _, answer = signed_post(server, target, body)
    return status, json.loads(answer)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}]
KEY = {"pk": {"S": "a"}}
INDEX = {"IndexName": "byPk", "KeySchema": KEY_SCHEMA, "Projection": {"ProjectionType": "ALL"}}

# (operation, request, the violations DynamoDB lists): each request has one or more enum members outside
# their set; every other member is valid.
ENUM_CASES = [
    ("put_item", dict(TableName="Tbl", Item=KEY, ReturnValues="ALL_NEWER"),
     [enum("ALL_NEWER", "returnValues", RETURN_VALUES)]),
    ("put_item", dict(TableName="Tbl", Item=KEY, ReturnConsumedCapacity="ALL"),
     [enum("ALL", "returnConsumedCapacity", CONSUMED_CAPACITY)]),
    ("put_item", dict(TableName="Tbl", Item=KEY, ReturnItemCollectionMetrics="TOTAL"),
     [enum("TOTAL", "returnItemCollectionMetrics", COLLECTION_METRICS)]),
    ("put_item", dict(TableName="Tbl", Item=KEY, ConditionExpression="attribute_exists(pk)",
                      ReturnValuesOnConditionCheckFailure="ALL_NEW"),
     [enum("ALL_NEW", "returnValuesOnConditionCheckFailure", ON_CONDITION_FAILURE)]),
    ("put_item", dict(TableName="Tbl", Item=KEY, Expected={"a": {"ComparisonOperator": "eq",
                                                                "AttributeValueList": [{"S": "x"}]}}),
     [enum("eq", "expected.a.member.comparisonOperator", COMPARISON)]),
    ("put_item", dict(TableName="Tbl", Item=KEY, ConditionalOperator="XOR",
                      Expected={"a": {"Exists": False}, "b": {"Exists": False}}),
     [enum("XOR", "conditionalOperator", CONDITIONAL)]),
    ("delete_item", dict(TableName="Tbl", Key=KEY, ReturnValues="all_old"),
     [enum("all_old", "returnValues", RETURN_VALUES)]),
    ("update_item", dict(TableName="Tbl", Key=KEY, AttributeUpdates={"n": {"Action": "REMOVE"}}),
     [enum("REMOVE", "attributeUpdates.n.member.action", ACTION)]),
    ("update_item", dict(TableName="Tbl", Key=KEY, UpdateExpression="SET n = :n",
                         ExpressionAttributeValues={":n": {"N": "1"}}, ReturnValues="NEW",
                         ReturnConsumedCapacity="ALL"),
     [enum("ALL", "returnConsumedCapacity", CONSUMED_CAPACITY), enum("NEW", "returnValues", RETURN_VALUES)]),
    ("get_item", dict(TableName="Tbl", Key=KEY, ReturnConsumedCapacity="SOME"),
     [enum("SOME", "returnConsumedCapacity", CONSUMED_CAPACITY)]),
    ("query", dict(TableName="Tbl", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                   Select="ALL"),
     [enum("ALL", "select", SELECT)]),
    ("query", dict(TableName="Tbl", KeyConditions={"pk": {"ComparisonOperator": "EQUALS",
                                                         "AttributeValueList": [{"S": "a"}]}}),
     [enum("EQUALS", "keyConditions.pk.member.comparisonOperator", COMPARISON)]),
    ("query", dict(TableName="Tbl", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
                   QueryFilter={"n": {"ComparisonOperator": "Gt", "AttributeValueList": [{"N": "1"}]}}),
     [enum("Gt", "queryFilter.n.member.comparisonOperator", COMPARISON)]),
    ("scan", dict(TableName="Tbl", Select="COUNTS", ConditionalOperator="NOT",
                  ScanFilter={"a": {"ComparisonOperator": "NULL"}, "b": {"ComparisonOperator": "NULL"}}),
     [enum("COUNTS", "select", SELECT), enum("NOT", "conditionalOperator", CONDITIONAL)]),
    ("batch_get_item", dict(RequestItems={"Tbl": {"Keys": [KEY]}}, ReturnConsumedCapacity="NO"),
     [enum("NO", "returnConsumedCapacity", CONSUMED_CAPACITY)]),
    ("batch_write_item", dict(RequestItems={"Tbl": [{"PutRequest": {"Item": KEY}}]}, ReturnConsumedCapacity="NO",
                              ReturnItemCollectionMetrics="ALL"),
     [enum("NO", "returnConsumedCapacity", CONSUMED_CAPACITY),
      enum("ALL", "returnItemCollectionMetrics", COLLECTION_METRICS)]),
    ("transact_write_items", dict(TransactItems=[
        {"Put": {"TableName": "Tbl", "Item": KEY}},
        {"Delete": {"TableName": "Tbl", "Key": KEY, "ConditionExpression": "attribute_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_NEW"}}]),
     [enum("ALL_NEW", "transactItems.2.member.delete.returnValuesOnConditionCheckFailure", ON_CONDITION_FAILURE)]),
    ("transact_get_items", dict(TransactItems=[{"Get": {"TableName": "Tbl", "Key": KEY}}], ReturnConsumedCapacity="X"),
     [enum("X", "returnConsumedCapacity", CONSUMED_CAPACITY)]),
    ("create_table", dict(TableName="Tbl", KeySchema=KEY_SCHEMA, BillingMode="ON_DEMAND",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "BOOL"}]),
     [enum("BOOL", "attributeDefinitions.1.member.attributeType", ATTRIBUTE_TYPE),
      enum("ON_DEMAND", "billingMode", BILLING)]),
    ("create_table", dict(TableName="Tbl", AttributeDefinitions=DEFINITIONS, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "PARTITION"}]),
     [enum("PARTITION", "keySchema.1.member.keyType", KEY_TYPE)]),
    ("create_table", dict(TableName="Tbl", AttributeDefinitions=DEFINITIONS, KeySchema=KEY_SCHEMA,
                          BillingMode="PAY_PER_REQUEST", TableClass="ARCHIVE",
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "new_image"},
                          GlobalSecondaryIndexes=[dict(INDEX, Projection={"ProjectionType": "SOME"})]),
     [enum("SOME", "globalSecondaryIndexes.1.member.projection.projectionType", PROJECTION),
      enum("new_image", "streamSpecification.streamViewType", VIEW_TYPE),
      enum("ARCHIVE", "tableClass", TABLE_CLASS)]),
    ("update_table", dict(TableName="Tbl", BillingMode="FREE"),
     [enum("FREE", "billingMode", BILLING)]),
    ("update_table", dict(TableName="Tbl", AttributeDefinitions=DEFINITIONS, GlobalSecondaryIndexUpdates=[
        {"Create": dict(INDEX, KeySchema=[{"AttributeName": "pk", "KeyType": "SORT"}])}]),
     [enum("SORT", "globalSecondaryIndexUpdates.1.member.create.keySchema.1.member.keyType", KEY_TYPE)]),
    ("update_table", dict(TableName="Tbl", StreamSpecification={"StreamEnabled": True, "StreamViewType": "ALL"},
                          TableClass="standard"),
     [enum("ALL", "streamSpecification.streamViewType", VIEW_TYPE), enum("standard", "tableClass", TABLE_CLASS)]),
]

@pytest.mark.parametrize("operation, request_members, violations", ENUM_CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(ENUM_CASES)])
def test_a_member_outside_its_enumeration_is_a_validation_exception_listing_every_one(
        dynamodb, operation, request_members, violations):
    code, message = error_of(lambda: getattr(dynamodb, operation)(**request_members))
    assert code == "ValidationException"
    assert message == detected(*violations)


def test_get_shard_iterator_refuses_an_unknown_iterator_type(streams):
    code, message = error_of(lambda: streams.get_shard_iterator(
        StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/Tbl/stream/2026-01-01T00:00:00.000",
        ShardId="shardId-00000000000000000000-00000000", ShardIteratorType="OLDEST"))
    assert code == "ValidationException"
    assert message == detected(enum("OLDEST", "shardIteratorType", ITERATOR_TYPE))


def test_enum_violations_are_counted_with_the_table_name_and_a_missing_key(server):
    status, answer = post(server, "DynamoDB_20120810.UpdateItem", {
        "TableName": "no", "UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}},
        "ReturnConsumedCapacity": "INVALID", "ReturnValues": "INVALID"})
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.validate#ValidationException"
    assert answer["message"] == detected(
        enum("INVALID", "returnConsumedCapacity", CONSUMED_CAPACITY),
        "Value 'no' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        enum("INVALID", "returnValues", RETURN_VALUES),
        "Value null at 'key' failed to satisfy constraint: Member must not be null")


@pytest.mark.parametrize("body, path, expected", [
    ({"TableName": "Tbl", "Key": KEY, "ReturnValues": 7}, "returnValues", "a string"),
    ({"TableName": "Tbl", "Key": KEY, "ReturnValues": ["ALL_OLD"]}, "returnValues", "a string"),
    # A member the operation's decoding does not read is refused all the same.
    ({"TableName": "Tbl", "Key": KEY, "ReturnConsumedCapacity": 1}, "returnConsumedCapacity", "a string"),
    # A wrong type wins over an enum violation beside it: DynamoDB could not deserialize the request.
    ({"TableName": "Tbl", "Key": KEY, "ReturnValues": "SOME", "Expected": []}, "expected", "an object"),
])
def test_a_member_of_the_wrong_json_type_stays_a_serialization_exception(server, body, path, expected):
    status, answer = post(server, "DynamoDB_20120810.DeleteItem", body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert answer["message"] == f"Unexpected value at '{path}': expected {expected}"


def test_valid_enum_values_in_any_member_still_work(dynamodb, table_name):
    dynamodb.create_table(TableName=table_name, AttributeDefinitions=DEFINITIONS, KeySchema=KEY_SCHEMA,
                          BillingMode="PAY_PER_REQUEST", TableClass="STANDARD",
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "n": {"N": "1"}}, ReturnValues="NONE",
                      ReturnConsumedCapacity="TOTAL", ReturnItemCollectionMetrics="SIZE")
    updated = dynamodb.update_item(TableName=table_name, Key=KEY, AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "2"}}},
                                   ReturnValues="UPDATED_NEW", ReturnConsumedCapacity="INDEXES")
    assert updated["Attributes"] == {"n": {"N": "3"}}
    counted = dynamodb.scan(TableName=table_name, Select="COUNT", ScanFilter={"n": {"ComparisonOperator": "GE",
                                                                                     "AttributeValueList": [{"N": "3"}]}})
    assert counted["Count"] == 1


def test_the_cli_sends_an_unknown_return_values_and_gets_dynamodbs_message(server):
    environment = dict(os.environ, AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
                       AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"], AWS_DEFAULT_REGION=REGION,
                       AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
    completed = subprocess.run(
        ["aws", "--endpoint-url", server.endpoint, "dynamodb", "put-item", "--table-name", "Tbl",
         "--item", json.dumps(KEY), "--return-values", "EVERYTHING"],
        capture_output=True, text=True, env=environment, timeout=120)
    assert completed.returncode != 0
    assert "(ValidationException)" in completed.stderr
    assert detected(enum("EVERYTHING", "returnValues", RETURN_VALUES)) in completed.stderr


def mixing(legacy, expressions):
    return ("Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} Expression parameters: {{{', '.join(expressions)}}}")


@pytest.fixture
def orders(dynamodb, table_name):
    """A table keyed by pk and sk with three items in partition "p" and one in "q"."""
    dynamodb.create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    for pk, sk, tag in [("p", 1, "x"), ("p", 2, "y"), ("p", 3, "x"), ("q", 1, "x")]:
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": pk}, "sk": {"N": str(sk)}, "tag": {"S": tag}})
    return table_name


PARTITION = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}}


def test_key_conditions_go_with_a_filter_and_a_projection_expression(dynamodb, orders):
    answer = dynamodb.query(TableName=orders, KeyConditions=PARTITION, FilterExpression="#t = :x",
                            ProjectionExpression="sk", ExpressionAttributeNames={"#t": "tag"},
                            ExpressionAttributeValues={":x": {"S": "x"}})
    assert answer["Items"] == [{"sk": {"N": "1"}}, {"sk": {"N": "3"}}]
    assert (answer["Count"], answer["ScannedCount"]) == (2, 3)


def test_the_resource_api_queries_with_key_conditions_and_a_filter(server, orders):
    from boto3.dynamodb.conditions import Attr
    table = server.resource().Table(orders)
    answer = table.query(KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": ["p"]}},
                         FilterExpression=Attr("tag").eq("y"))
    assert [item["sk"] for item in answer["Items"]] == [2]


MIXES = [
    ("query", dict(KeyConditions=PARTITION, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}),
     ["KeyConditions"], ["KeyConditionExpression"]),
    ("query", dict(KeyConditions=PARTITION, FilterExpression="sk > :s", ExpressionAttributeValues={":s": {"N": "1"}},
                   QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}}),
     ["KeyConditions", "QueryFilter"], ["FilterExpression"]),
    ("query", dict(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, AttributesToGet=["sk"],
                   ProjectionExpression="sk"),
     ["AttributesToGet"], ["ProjectionExpression", "KeyConditionExpression"]),
    ("scan", dict(ScanFilter={"tag": {"ComparisonOperator": "NULL"}}, FilterExpression="attribute_exists(tag)"),
     ["ScanFilter"], ["FilterExpression"]),
    ("get_item", dict(Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, AttributesToGet=["tag"], ProjectionExpression="tag"),
     ["AttributesToGet"], ["ProjectionExpression"]),
    ("delete_item", dict(Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, Expected={"tag": {"Exists": True, "Value": {"S": "x"}}},
                         ConditionExpression="attribute_exists(tag)"),
     ["Expected"], ["ConditionExpression"]),
    ("update_item", dict(Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, AttributeUpdates={"n": {"Action": "PUT", "Value": {"N": "1"}}},
                         ConditionExpression="attribute_exists(tag)"),
     ["AttributeUpdates"], ["ConditionExpression"]),
]


@pytest.mark.parametrize("operation, members, legacy, expressions", MIXES,
                         ids=[f"{case[0]}-{'+'.join(case[2])}" for case in MIXES])
def test_any_other_mix_of_legacy_and_expression_parameters_is_refused(dynamodb, orders, operation, members, legacy,
                                                                      expressions):
    code, message = error_of(lambda: getattr(dynamodb, operation)(TableName=orders, **members))
    assert code == "ValidationException"
    assert message == mixing(legacy, expressions)
    assert dynamodb.get_item(TableName=orders, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})["Item"]["tag"] == {"S": "x"}


@pytest.mark.parametrize("operation, members, message", [
    ("scan", dict(ExpressionAttributeNames={"#t": "tag"}),
     "ExpressionAttributeNames can only be specified when using expressions"),
    ("scan", dict(ExpressionAttributeValues={":t": {"S": "x"}}),
     "ExpressionAttributeValues can only be specified when using expressions: FilterExpression is null"),
    ("query", dict(KeyConditions=PARTITION, ExpressionAttributeValues={":t": {"S": "x"}}),
     "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"),
    ("put_item", dict(Item={"pk": {"S": "r"}, "sk": {"N": "1"}}, ExpressionAttributeValues={":t": {"S": "x"}}),
     "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"),
])
def test_placeholders_without_an_expression_get_dynamodbs_message(dynamodb, orders, operation, members, message):
    code, got = error_of(lambda: getattr(dynamodb, operation)(TableName=orders, **members))
    assert (code, got) == ("ValidationException", message)


@pytest.mark.parametrize("value, message", [
    ({"B": "QQ="}, "'QQ=' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
    ({"B": "QQ!="}, "'QQ!=' can not be converted to a Blob: Invalid Base64 character: '!'"),
    ({"BS": ["QQ==", "QR=="]}, "'QR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
])
def test_a_binary_value_that_is_not_base64_is_a_serialization_exception(server, value, message):
    status, answer = post(server, "DynamoDB_20120810.PutItem",
                          {"TableName": "Tbl", "Item": {"pk": {"S": "a"}, "b": value}})
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert answer["message"] == message


def test_a_binary_key_that_is_not_base64_is_a_serialization_exception(server):
    status, answer = post(server, "DynamoDB_20120810.GetItem", {"TableName": "Tbl", "Key": {"pk": {"B": "abc"}}})
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert answer["message"].startswith("'abc' can not be converted to a Blob: ")


@pytest.mark.parametrize("body", [b'{"TableName": "Tbl", "Key": ', b"not json", b'{"TableName":"Tbl",}', b"{'TableName':'Tbl'}"])
def test_a_body_that_is_not_json_is_a_serialization_exception_saying_so(server, body):
    # DynamoDB sends no message here; Eddy says what is wrong, as with every malformed request.
    status, answer = post(server, "DynamoDB_20120810.GetItem", body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert answer["message"].startswith("The request body is not valid JSON")


def test_botocore_reads_the_serialization_exception_of_a_body_that_is_not_json(server):
    def garble(request, **_):
        request.body = b"{not json"
        request.headers["Content-Length"] = str(len(request.body))

    client = server.client()
    client.meta.events.register("before-send.dynamodb.GetItem", garble)
    code, _ = error_of(lambda: client.get_item(TableName="Tbl", Key=KEY))
    assert code == "SerializationException"


def test_eddys_cli_lists_the_return_values_set_as_dynamodb_does(server):
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    completed = subprocess.run(
        [binary, "items", "put", "--table-name", "Tbl", "--item", json.dumps(KEY), "--return-values", "EVERYTHING",
         "--endpoint-url", server.endpoint],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
                 AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"], AWS_REGION=REGION))
    assert completed.returncode != 0
    assert detected(enum("EVERYTHING", "returnValues", RETURN_VALUES)) in completed.stderr
