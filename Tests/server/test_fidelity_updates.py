"""Issue 21, points 3 and 4 through boto3 and the AWS CLI: updates that only delete, ReturnValues, and the
checks DynamoDB makes on expressions, with DynamoDB's messages (API Reference: UpdateItem, PutItem; Developer
Guide: update expressions, condition expressions, quotas)."""
import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def create(dynamodb, name, stream=False, range_key=False):
    request = dict(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    if range_key:
        request["KeySchema"].append({"AttributeName": "sk", "KeyType": "RANGE"})
        request["AttributeDefinitions"].append({"AttributeName": "sk", "AttributeType": "S"})
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return dynamodb.create_table(**request)["TableDescription"]


def stream_records(streams, arn):
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


def aws(server, *arguments):
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.endpoint, "--output", "json", *arguments],
                          capture_output=True, text=True, env=environment, timeout=120)


ONLY_DELETING = [
    pytest.param(dict(UpdateExpression="REMOVE a, b.c"), id="REMOVE"),
    pytest.param(dict(UpdateExpression="DELETE s :s", ExpressionAttributeValues={":s": {"SS": ["x"]}}), id="DELETE"),
    pytest.param(dict(UpdateExpression="REMOVE a DELETE s :s", ExpressionAttributeValues={":s": {"NS": ["1"]}}),
                 id="REMOVE and DELETE"),
    pytest.param(dict(AttributeUpdates={"a": {"Action": "DELETE"}}), id="AttributeUpdates DELETE"),
    pytest.param(dict(AttributeUpdates={"s": {"Action": "DELETE", "Value": {"SS": ["x"]}}}),
                 id="AttributeUpdates DELETE with a value"),
]


@pytest.mark.parametrize("update", ONLY_DELETING)
@pytest.mark.parametrize("return_values", ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
def test_an_update_that_only_deletes_creates_no_item_and_no_stream_record(dynamodb, streams, table_name, update,
                                                                          return_values):
    arn = create(dynamodb, table_name, stream=True)["LatestStreamArn"]
    answer = dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, ReturnValues=return_values, **update)
    assert "Attributes" not in answer
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})
    assert dynamodb.scan(TableName=table_name)["Count"] == 0
    assert stream_records(streams, arn) == []


@pytest.mark.parametrize("update, item", [
    pytest.param({}, {"pk": {"S": "k"}}, id="no update"),
    pytest.param(dict(AttributeUpdates={}), {"pk": {"S": "k"}}, id="empty AttributeUpdates"),
    pytest.param(dict(UpdateExpression="SET a = :v REMOVE b", ExpressionAttributeValues={":v": {"N": "1"}}),
                 {"pk": {"S": "k"}, "a": {"N": "1"}}, id="SET and REMOVE"),
    pytest.param(dict(AttributeUpdates={"a": {"Action": "PUT", "Value": {"S": "x"}}, "b": {"Action": "DELETE"}}),
                 {"pk": {"S": "k"}, "a": {"S": "x"}}, id="AttributeUpdates PUT and DELETE"),
])
def test_other_updates_of_a_missing_item_create_it(dynamodb, streams, table_name, update, item):
    arn = create(dynamodb, table_name, stream=True)["LatestStreamArn"]
    answer = dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, ReturnValues="ALL_NEW", **update)
    assert answer["Attributes"] == item
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"] == item
    assert [record["eventName"] for record in stream_records(streams, arn)] == ["INSERT"]


def test_a_transactions_update_that_only_deletes_creates_nothing(dynamodb, streams, table_name):
    arn = create(dynamodb, table_name, stream=True)["LatestStreamArn"]
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table_name, "Key": {"pk": {"S": "k"}}, "UpdateExpression": "REMOVE a"}},
        {"Put": {"TableName": table_name, "Item": {"pk": {"S": "other"}}}},
    ])
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})
    assert [record["dynamodb"]["Keys"] for record in stream_records(streams, arn)] == [{"pk": {"S": "other"}}]


EXISTING = {"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}, "m": {"M": {"x": {"N": "1"}}}}


@pytest.mark.parametrize("return_values, attributes", [
    ("NONE", None),
    ("ALL_OLD", EXISTING),
    ("UPDATED_OLD", {"a": {"N": "1"}, "b": {"N": "2"}}),
    ("ALL_NEW", {"pk": {"S": "k"}, "a": {"N": "2"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}}),
    ("UPDATED_NEW", {"a": {"N": "2"}, "m": {"M": {"y": {"N": "2"}}}}),
])
def test_return_values_of_an_update(dynamodb, table_name, return_values, attributes):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item=EXISTING)
    answer = dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET a = :two, m.y = :two REMOVE b",
        ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValues=return_values)
    assert answer.get("Attributes") == attributes


@pytest.mark.parametrize("return_values, attributes", [
    ("ALL_OLD", None), ("UPDATED_OLD", None),
    ("ALL_NEW", {"pk": {"S": "k"}, "a": {"N": "1"}}), ("UPDATED_NEW", {"a": {"N": "1"}}),
])
def test_return_values_of_an_update_that_creates_the_item(dynamodb, table_name, return_values, attributes):
    create(dynamodb, table_name)
    answer = dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"N": "1"}}, ReturnValues=return_values)
    assert answer.get("Attributes") == attributes


@pytest.mark.parametrize("exists", [True, False])
def test_return_values_on_condition_check_failure(dynamodb, table_name, exists):
    create(dynamodb, table_name)
    if exists:
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "a": {"N": "1"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.update_item(
            TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="REMOVE a", ConditionExpression="a = :two",
            ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert caught.value.response.get("Item") == ({"pk": {"S": "k"}, "a": {"N": "1"}} if exists else None)


@pytest.mark.parametrize("return_values", ["UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
def test_put_and_delete_refuse_return_values_only_update_allows(dynamodb, table_name, return_values):
    create(dynamodb, table_name)
    assert error_of(lambda: dynamodb.put_item(
        TableName=table_name, Item={"pk": {"S": "k"}}, ReturnValues=return_values)) == (
        "ValidationException", "Return values set to invalid value")
    assert error_of(lambda: dynamodb.delete_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, ReturnValues=return_values)) == (
        "ValidationException", "Return values set to invalid value")
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})


def test_the_aws_cli_gets_the_same_answers(server, table_name):
    create(server.client(), table_name)
    refused = aws(server, "dynamodb", "put-item", "--table-name", table_name, "--item", '{"pk": {"S": "k"}}',
                  "--return-values", "ALL_NEW")
    assert refused.returncode != 0
    assert "ValidationException" in refused.stderr and "Return values set to invalid value" in refused.stderr
    removed = aws(server, "dynamodb", "update-item", "--table-name", table_name, "--key", '{"pk": {"S": "k"}}',
                  "--update-expression", "REMOVE a", "--return-values", "ALL_NEW")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout or "{}").get("Attributes") is None
    scanned = aws(server, "dynamodb", "scan", "--table-name", table_name)
    assert json.loads(scanned.stdout)["Count"] == 0
    redundant = aws(server, "dynamodb", "scan", "--table-name", table_name, "--filter-expression", "((pk = :v))",
                    "--expression-attribute-values", '{":v": {"S": "k"}}')
    assert redundant.returncode != 0
    assert "Invalid FilterExpression: The expression has redundant parentheses;" in redundant.stderr


# Point 4: expression checks.

REDUNDANT = "The expression has redundant parentheses;"


@pytest.mark.parametrize("kind, expression", [
    ("ConditionExpression", "((a = :v))"),
    ("ConditionExpression", "a = :v AND ((b = :v))"),
    ("FilterExpression", "NOT ((a = :v))"),
    ("KeyConditionExpression", "((pk = :v))"),
    ("KeyConditionExpression", "pk = :v AND ((sk = :v))"),
    ("UpdateExpression", "SET a = ((:v))"),
])
def test_redundant_parentheses_are_refused_in_every_expression(dynamodb, table_name, kind, expression):
    create(dynamodb, table_name, range_key=True)
    key = {"pk": {"S": "k"}, "sk": {"S": "s"}}
    values = {":v": {"S": "x"}}
    calls = {
        "ConditionExpression": lambda: dynamodb.put_item(
            TableName=table_name, Item=key, ConditionExpression=expression, ExpressionAttributeValues=values),
        "FilterExpression": lambda: dynamodb.scan(
            TableName=table_name, FilterExpression=expression, ExpressionAttributeValues=values),
        "KeyConditionExpression": lambda: dynamodb.query(
            TableName=table_name, KeyConditionExpression=expression, ExpressionAttributeValues=values),
        "UpdateExpression": lambda: dynamodb.update_item(
            TableName=table_name, Key=key, UpdateExpression=expression, ExpressionAttributeValues=values),
    }
    assert error_of(calls[kind]) == ("ValidationException", f"Invalid {kind}: {REDUNDANT}")
    assert dynamodb.scan(TableName=table_name)["Count"] == 0


@pytest.mark.parametrize("expression", ["(a = :v) AND (b = :v)", "((a = :v) OR (b = :v))", "a = :v OR (b = :v AND c = :v)",
                                        "((a = :v AND b = :v) AND c = :v)"])
def test_parentheses_that_group_are_accepted(dynamodb, table_name, expression):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "a": {"S": "x"}, "b": {"S": "x"}, "c": {"S": "x"}})
    assert dynamodb.scan(TableName=table_name, FilterExpression=expression,
                         ExpressionAttributeValues={":v": {"S": "x"}})["Count"] == 1


def test_parentheses_group_a_set_value(dynamodb, table_name):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "c": {"N": "5"}})
    answer = dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET c = (c - :one)",
                                  ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
    assert answer["Attributes"] == {"c": {"N": "4"}}


@pytest.mark.parametrize("expression, values, message", [
    ("SET a = f(b)", None, "Invalid UpdateExpression: Invalid function name; function: f"),
    ("SET a = list_append(a, nope(:v))", {":v": {"L": []}}, "Invalid UpdateExpression: Invalid function name; function: nope"),
    ("SET a = _f(b)", None, 'Invalid UpdateExpression: Syntax error; token: "_f", near: "= _f("'),
    ("SET a = size(b)", None,
     "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
    ("SET a = if_not_exists(a, attribute_exists(b))", None,
     "Invalid UpdateExpression: The function is not allowed in an update expression; function: attribute_exists"),
])
def test_functions_of_update_expressions(dynamodb, table_name, expression, values, message):
    create(dynamodb, table_name)
    extra = {"ExpressionAttributeValues": values} if values else {}
    assert error_of(lambda: dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression=expression, **extra)) == ("ValidationException", message)


def test_update_functions_nest(dynamodb, table_name):
    create(dynamodb, table_name)
    for _ in range(2):
        dynamodb.update_item(
            TableName=table_name, Key={"pk": {"S": "k"}},
            UpdateExpression="SET l = list_append(if_not_exists(l, :empty), :one), n = if_not_exists(n, :zero) + :inc",
            ExpressionAttributeValues={":empty": {"L": []}, ":one": {"L": [{"S": "x"}]}, ":zero": {"N": "0"},
                                       ":inc": {"N": "3"}})
    item = dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"]
    assert item["l"] == {"L": [{"S": "x"}, {"S": "x"}]} and item["n"] == {"N": "6"}


DISTINCT = "The first operand must be distinct from the remaining operands for this operator or function"
TYPE = "Incorrect operand type for operator or function; operator or function:"


@pytest.mark.parametrize("expression, names, values, message", [
    ("contains(a, a)", None, None, f"{DISTINCT}; operator: contains, first operand: [a]"),
    ("contains(#a, a)", {"#a": "a"}, None, f"{DISTINCT}; operator: contains, first operand: [a]"),
    ("a = a", None, None, f"{DISTINCT}; operator: =, first operand: [a]"),
    ("attribute_type(a, b)", None, None, f"{TYPE} attribute_type, operand type: {{NS,SS,L,BS,N,M,B,BOOL,NULL,S}}"),
    ("attribute_type(a, :t)", None, {":t": {"N": "1"}}, f"{TYPE} attribute_type, operand type: N"),
    ("size(n) > :zero", None, {":zero": {"N": "0"}}, f"{TYPE} size, operand type: N"),
    ("size(:v) > :zero", None, {":v": {"S": "x"}, ":zero": {"N": "0"}},
     "Operator or function requires a document path; operator or function: size"),
])
def test_function_operands_are_checked(dynamodb, table_name, expression, names, values, message):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "n": {"N": "5"}})
    extra = {}
    if names:
        extra["ExpressionAttributeNames"] = names
    if values:
        extra["ExpressionAttributeValues"] = values
    assert error_of(lambda: dynamodb.scan(TableName=table_name, FilterExpression=expression, **extra)) == (
        "ValidationException", f"Invalid FilterExpression: {message}")
    assert error_of(lambda: dynamodb.delete_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, ConditionExpression=expression, **extra)) == (
        "ValidationException", f"Invalid ConditionExpression: {message}")
    assert "Item" in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})


@pytest.mark.parametrize("expression, values", [
    ("SET l.x = :v", {":v": {"N": "1"}}), ("SET m[0] = :v", {":v": {"N": "1"}}),
    ("REMOVE l.x", None), ("REMOVE m[0]", None), ("REMOVE s.x", None),
    ("ADD m[0] :v", {":v": {"N": "1"}}), ("DELETE l.x :v", {":v": {"SS": ["a"]}}),
])
def test_paths_that_do_not_fit_the_item_are_refused(dynamodb, table_name, expression, values):
    create(dynamodb, table_name)
    item = {"pk": {"S": "k"}, "l": {"L": [{"N": "1"}]}, "m": {"M": {"x": {"N": "1"}}}, "s": {"S": "text"}}
    dynamodb.put_item(TableName=table_name, Item=item)
    extra = {"ExpressionAttributeValues": values} if values else {}
    assert error_of(lambda: dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression=expression, **extra)) == (
        "ValidationException", "The document path provided in the update expression is invalid for update")
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"] == item


@pytest.mark.parametrize("expression, expected", [
    ("SET l[1] = :v", [{"N": "1"}, {"S": "new"}]),
    ("SET l[100] = :v", [{"N": "1"}, {"S": "new"}]),
    ("SET l[0] = :v", [{"S": "new"}]),
])
def test_setting_past_the_end_of_a_list_appends(dynamodb, table_name, expression, expected):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "l": {"L": [{"N": "1"}]}})
    dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression=expression,
                         ExpressionAttributeValues={":v": {"S": "new"}})
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"]["l"] == {"L": expected}


def deep(steps):
    return "a" + "".join("[0]" if step % 2 == 0 else ".b" for step in range(1, steps))


def test_document_paths_deeper_than_32_levels_are_refused(dynamodb, table_name):
    create(dynamodb, table_name)
    dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}}, ProjectionExpression=deep(32))
    message = "The document path has too many nesting levels; nesting levels: 33"
    assert error_of(lambda: dynamodb.get_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, ProjectionExpression=deep(33))) == (
        "ValidationException", f"Invalid ProjectionExpression: {message}")
    assert error_of(lambda: dynamodb.scan(TableName=table_name, FilterExpression=f"attribute_exists({deep(33)})")) == (
        "ValidationException", f"Invalid FilterExpression: {message}")
    assert error_of(lambda: dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression=f"REMOVE {deep(33)}")) == (
        "ValidationException", f"Invalid UpdateExpression: {message}")


def test_attribute_names_up_to_65535_bytes(dynamodb, table_name):
    create(dynamodb, table_name)
    longest = "é" * 32767 + "n"  # 65,535 bytes of UTF-8
    assert len(longest.encode()) == 65535
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, longest: {"N": "1"}})
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"][longest] == {"N": "1"}
    projected = dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}}, ProjectionExpression="#n",
                                  ExpressionAttributeNames={"#n": longest})
    assert projected["Item"] == {longest: {"N": "1"}}
    updated = dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET #n = #n + :one",
        ConditionExpression="attribute_exists(#n)", ExpressionAttributeNames={"#n": longest},
        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
    assert updated["Attributes"] == {longest: {"N": "2"}}
    too_long = longest + "x"
    too_large = ("ValidationException",
                 "One or more parameter values were invalid: Attribute name is too large, must be less than 65536 bytes")
    assert error_of(lambda: dynamodb.put_item(
        TableName=table_name, Item={"pk": {"S": "k"}, too_long: {"N": "1"}})) == too_large
    assert error_of(lambda: dynamodb.update_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET #n = :one",
        ExpressionAttributeNames={"#n": too_long}, ExpressionAttributeValues={":one": {"N": "1"}})) == too_large
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}, longest: {"N": "2"}}


@pytest.mark.parametrize("operation, message", [
    ("put_item", "One or more parameter values were invalid: Empty attribute name"),
    ("update_item", "ExpressionAttributeNames contains invalid value: Empty attribute name for key #e"),
])
def test_an_empty_attribute_name_is_refused(dynamodb, table_name, operation, message):
    create(dynamodb, table_name)
    if operation == "put_item":
        call = lambda: dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "": {"S": "x"}})
    else:
        call = lambda: dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="SET #e = :v",
                                            ExpressionAttributeNames={"#e": ""}, ExpressionAttributeValues={":v": {"S": "x"}})
    assert error_of(call) == ("ValidationException", message)
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})


@pytest.mark.parametrize("where", ["table", "index"])
def test_key_attribute_names_are_at_most_255_bytes(dynamodb, table_name, where):
    def request(name):
        keyed = {"AttributeName": name, "KeyType": "HASH"}
        request = dict(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": name, "AttributeType": "S"}])
        if where == "table":
            request["KeySchema"] = [keyed]
            request["AttributeDefinitions"] = [{"AttributeName": name, "AttributeType": "S"}]
        else:
            request["GlobalSecondaryIndexes"] = [
                {"IndexName": "byName", "KeySchema": [keyed], "Projection": {"ProjectionType": "ALL"}}]
        return request
    code, message = error_of(lambda: dynamodb.create_table(**request("k" * 256)))
    assert code == "ValidationException" and "Member must have length less than or equal to 255" in message
    dynamodb.create_table(**request("k" * 255))
    key_name = "k" * 255
    item = {"pk": {"S": "p"}, key_name: {"S": "v"}}
    dynamodb.put_item(TableName=table_name, Item=item)
    key = {key_name: {"S": "v"}} if where == "table" else {"pk": {"S": "p"}}
    assert dynamodb.get_item(TableName=table_name, Key=key)["Item"] == item


def test_an_empty_expression_attribute_name_is_refused(dynamodb, table_name):
    create(dynamodb, table_name)
    assert error_of(lambda: dynamodb.get_item(
        TableName=table_name, Key={"pk": {"S": "k"}}, ProjectionExpression="#e", ExpressionAttributeNames={"#e": ""})) == (
        "ValidationException", "ExpressionAttributeNames contains invalid value: Empty attribute name for key #e")


@pytest.mark.parametrize("number", ["0E-200", "0.0e-1000", "-0e-131", "0.000E-9223372036854775808"])
def test_a_zero_with_a_large_negative_exponent_is_a_valid_number(dynamodb, table_name, number):
    create(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "z": {"N": number}})
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"]["z"] == {"N": "0"}
    assert dynamodb.scan(TableName=table_name, FilterExpression="z = :zero",
                         ExpressionAttributeValues={":zero": {"N": number}})["Count"] == 1


@pytest.mark.parametrize("number, message", [
    ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ("1E+126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("1234567890123456789012345678901234567891", "Attempting to store more than 38 significant digits in a Number"),
])
def test_non_zero_numbers_keep_their_limits(dynamodb, table_name, number, message):
    create(dynamodb, table_name)
    code, text = error_of(lambda: dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "z": {"N": number}}))
    assert code == "ValidationException" and message in text


@pytest.mark.parametrize("exists", [True, False])
def test_a_transactions_failed_condition_returns_the_item_that_exists(dynamodb, table_name, exists):
    create(dynamodb, table_name)
    if exists:
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "a": {"N": "1"}})
    condition = {"ConditionExpression": "a = :two", "ExpressionAttributeValues": {":two": {"N": "2"}},
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table_name, "Key": {"pk": {"S": "k"}}, "UpdateExpression": "REMOVE a", **condition}}])
    reasons = caught.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["ConditionalCheckFailed"]
    assert reasons[0].get("Item") == ({"pk": {"S": "k"}, "a": {"N": "1"}} if exists else None)


@pytest.mark.parametrize("operation", ["put_item", "delete_item"])
def test_put_and_delete_return_no_item_on_a_failed_condition_when_there_is_none(dynamodb, table_name, operation):
    create(dynamodb, table_name)
    target = {"Item": {"pk": {"S": "k"}}} if operation == "put_item" else {"Key": {"pk": {"S": "k"}}}
    with pytest.raises(ClientError) as caught:
        getattr(dynamodb, operation)(TableName=table_name, ConditionExpression="attribute_exists(pk)",
                                     ReturnValuesOnConditionCheckFailure="ALL_OLD", **target)
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in caught.value.response


def test_an_update_that_only_deletes_leaves_no_index_entry(dynamodb, table_name):
    # The index is keyed by the table's own partition key, so a key-only item would show in it.
    dynamodb.create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "byPk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}}, UpdateExpression="REMOVE a")
    assert dynamodb.scan(TableName=table_name, IndexName="byPk")["Count"] == 0
    dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "k"}})
    assert dynamodb.scan(TableName=table_name, IndexName="byPk")["Items"] == [{"pk": {"S": "k"}}]
