"""boto3's client and resource APIs against `eddy serve`: tables, items, batches, queries, scans, paginators,
waiters and the errors DynamoDB answers."""
import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


def create_orders(dynamodb, name, stream=None):
    request = dict(
        TableName=name,
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "order", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    description = dynamodb.create_table(**request)["TableDescription"]
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    return description


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"], caught.value.response


def test_a_table_is_created_described_listed_and_deleted(dynamodb, table_name):
    description = create_orders(dynamodb, table_name)
    assert description["TableName"] == table_name
    assert description["TableStatus"] == "ACTIVE"
    assert description["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert described["KeySchema"] == description["KeySchema"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table_name in dynamodb.list_tables()["TableNames"]
    dynamodb.delete_table(TableName=table_name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    code, message, _ = error_of(lambda: dynamodb.describe_table(TableName=table_name))
    assert code == "ResourceNotFoundException"


def test_list_tables_pages_with_the_paginator(dynamodb, table_name):
    names = [f"{table_name}_{i}" for i in range(5)]
    for name in names:
        create_orders(dynamodb, name)
    pages = list(dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2}))
    listed = [name for page in pages for name in page["TableNames"]]
    assert set(names) <= set(listed)
    assert len(listed) == len(set(listed))
    assert all(len(page["TableNames"]) <= 2 for page in pages)


def test_items_are_put_read_updated_and_deleted(dynamodb, table_name):
    create_orders(dynamodb, table_name)
    key = {"customer": {"S": "ann"}, "order": {"N": "1"}}
    item = dict(key, total={"N": "12.50"}, tags={"SS": ["a", "b"]}, note={"S": "first"}, data={"B": b"\x00\x01"})
    assert "Attributes" not in dynamodb.put_item(TableName=table_name, Item=item)
    got = dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    assert got["total"] == {"N": "12.5"}
    assert sorted(got["tags"]["SS"]) == ["a", "b"]
    assert got["data"] == {"B": b"\x00\x01"}
    updated = dynamodb.update_item(
        TableName=table_name, Key=key, UpdateExpression="SET #t = #t + :d REMOVE note",
        ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":d": {"N": "2.5"}},
        ReturnValues="ALL_NEW")["Attributes"]
    assert updated["total"] == {"N": "15"}
    assert "note" not in updated
    old = dynamodb.delete_item(TableName=table_name, Key=key, ReturnValues="ALL_OLD")["Attributes"]
    assert old["total"] == {"N": "15"}
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key=key)


def test_a_failed_condition_is_conditional_check_failed_with_the_item_when_asked(dynamodb, table_name):
    create_orders(dynamodb, table_name)
    item = {"customer": {"S": "bob"}, "order": {"N": "7"}, "state": {"S": "open"}}
    dynamodb.put_item(TableName=table_name, Item=item)
    code, message, response = error_of(lambda: dynamodb.put_item(
        TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(customer)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    assert code == "ConditionalCheckFailedException"
    assert message == "The conditional request failed"
    assert response["Item"]["state"] == {"S": "open"}


def test_the_resource_api_and_its_conditions(server, table_name):
    create_orders(server.client(), table_name)
    table = server.resource().Table(table_name)
    with table.batch_writer() as batch:
        for number in range(30):
            batch.put_item(Item={"customer": "cat" if number % 2 else "dan", "order": number, "total": number * 10})
    cat = table.query(KeyConditionExpression=Key("customer").eq("cat") & Key("order").between(5, 15))["Items"]
    assert [item["order"] for item in cat] == [5, 7, 9, 11, 13, 15]
    big = table.scan(FilterExpression=Attr("total").gte(250))["Items"]
    assert sorted(item["order"] for item in big) == [25, 26, 27, 28, 29]
    assert table.get_item(Key={"customer": "dan", "order": 0})["Item"]["total"] == 0


def test_query_and_scan_paginators_return_every_item_once(dynamodb, table_name):
    create_orders(dynamodb, table_name)
    for number in range(45):
        dynamodb.put_item(TableName=table_name, Item={"customer": {"S": "eve"}, "order": {"N": str(number)}})
    query_pages = list(dynamodb.get_paginator("query").paginate(
        TableName=table_name, KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": "eve"}}, PaginationConfig={"PageSize": 10}))
    orders = [int(item["order"]["N"]) for page in query_pages for item in page["Items"]]
    assert orders == list(range(45))
    assert len(query_pages) >= 5
    scan_pages = list(dynamodb.get_paginator("scan").paginate(TableName=table_name, PaginationConfig={"PageSize": 7}))
    assert sum(page["Count"] for page in scan_pages) == 45


def test_batch_write_and_batch_get(dynamodb, table_name):
    create_orders(dynamodb, table_name)
    requests = [{"PutRequest": {"Item": {"customer": {"S": "fay"}, "order": {"N": str(n)}}}} for n in range(25)]
    assert dynamodb.batch_write_item(RequestItems={table_name: requests})["UnprocessedItems"] == {}
    keys = [{"customer": {"S": "fay"}, "order": {"N": str(n)}} for n in range(0, 25, 5)]
    got = dynamodb.batch_get_item(RequestItems={table_name: {"Keys": keys}})
    assert sorted(int(item["order"]["N"]) for item in got["Responses"][table_name]) == [0, 5, 10, 15, 20]
    code, message, _ = error_of(lambda: dynamodb.batch_write_item(RequestItems={table_name: requests + requests[:1]}))
    assert code == "ValidationException"


def test_validation_and_missing_table_errors(dynamodb, table_name):
    code, message, _ = error_of(lambda: dynamodb.get_item(TableName="NoSuchTable", Key={"id": {"S": "1"}}))
    assert (code, message) == ("ResourceNotFoundException", "Requested resource not found")
    create_orders(dynamodb, table_name)
    code, message, _ = error_of(lambda: dynamodb.put_item(TableName=table_name, Item={"customer": {"S": "x"}}))
    assert code == "ValidationException"
    assert "Missing the key order in the item" in message
    code, _, _ = error_of(lambda: dynamodb.create_table(
        TableName=table_name, KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST"))
    assert code == "ResourceInUseException"


def test_update_table_enables_a_stream_and_refuses_a_second_one(dynamodb, streams, table_name):
    create_orders(dynamodb, table_name)
    assert "LatestStreamArn" not in dynamodb.describe_table(TableName=table_name)["Table"]
    updated = dynamodb.update_table(TableName=table_name,
                                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = updated["TableDescription"]["LatestStreamArn"]
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamViewType"] == "KEYS_ONLY"
    code, message, _ = error_of(lambda: dynamodb.update_table(
        TableName=table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}))
    assert code == "ValidationException"
    assert "already has an enabled stream" in message
