"""Secondary indexes through the server: CreateTable with a GSI and an LSI, Query and Scan of an index with
boto3 (paginator included), UpdateTable adding a GSI that backfills while the table serves writes, the AWS
CLI's `dynamodb query --index-name`, and `eddy check` on the data the server wrote."""
import json
import os
import shutil
import subprocess
import time

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from conftest import CREDENTIALS, REGION, Server


def create_orders(dynamodb, name):
    return dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              (("customer", "S"), ("orderId", "S"), ("status", "S"), ("placedAt", "N"))],
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "orderId", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "byDate", "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                                                                    {"AttributeName": "placedAt", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")["TableDescription"]


def put_order(dynamodb, name, customer, order, status=None, placed=0):
    item = {"customer": {"S": customer}, "orderId": {"S": order}, "placedAt": {"N": str(placed)}}
    if status:
        item["status"] = {"S": status}
    dynamodb.put_item(TableName=name, Item=item)


def test_create_table_describes_its_indexes_and_queries_read_them(dynamodb, table_name):
    created = create_orders(dynamodb, table_name)
    assert created["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert created["GlobalSecondaryIndexes"][0]["IndexArn"].endswith(f"table/{table_name}/index/byStatus")
    assert created["LocalSecondaryIndexes"][0]["IndexName"] == "byDate"
    for number in range(30):
        put_order(dynamodb, table_name, f"c{number % 3}", f"o{number:02}", "open" if number % 2 else None, placed=number)
    paginator = dynamodb.get_paginator("query")
    pages = list(paginator.paginate(
        TableName=table_name, IndexName="byStatus", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "open"}}, Limit=4))
    items = [item for page in pages for item in page["Items"]]
    assert len(items) == 15 and len(pages) > 3
    assert set(items[0]) == {"customer", "orderId", "status"}
    assert set(pages[0]["LastEvaluatedKey"]) == {"customer", "orderId", "status"}
    local = dynamodb.query(
        TableName=table_name, IndexName="byDate", KeyConditionExpression="customer = :c AND placedAt >= :p",
        ExpressionAttributeValues={":c": {"S": "c1"}, ":p": {"N": "20"}}, ScanIndexForward=False, ConsistentRead=True)
    assert [item["placedAt"]["N"] for item in local["Items"]] == ["28", "25", "22"]
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert described["GlobalSecondaryIndexes"][0]["ItemCount"] == 15
    assert described["LocalSecondaryIndexes"][0]["ItemCount"] == 30
    assert dynamodb.scan(TableName=table_name, IndexName="byStatus", Select="COUNT")["Count"] == 15
    with pytest.raises(ClientError) as refused:
        dynamodb.query(TableName=table_name, IndexName="byStatus", KeyConditionExpression="#s = :s", ConsistentRead=True,
                       ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "open"}})
    assert refused.value.response["Error"] == {
        "Code": "ValidationException", "Message": "Consistent reads are not supported on global secondary indexes"}
    metrics = dynamodb.put_item(
        TableName=table_name, Item={"customer": {"S": "c1"}, "orderId": {"S": "m"}, "placedAt": {"N": "1"}},
        ReturnItemCollectionMetrics="SIZE")["ItemCollectionMetrics"]
    assert metrics == {"ItemCollectionKey": {"customer": {"S": "c1"}}, "SizeEstimateRangeGB": [0, 1]}
    with pytest.raises(ClientError) as mistyped:
        dynamodb.put_item(TableName=table_name, Item={"customer": {"S": "c9"}, "orderId": {"S": "x"}, "status": {"N": "1"}})
    assert mistyped.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key status Expected: S Actual: N IndexName: byStatus")


def test_update_table_adds_an_index_that_backfills_while_writes_go_on(server, dynamodb, table_name):
    table = server.resource().create_table(
        TableName=table_name, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    with table.batch_writer() as batch:
        for number in range(3000):
            batch.put_item(Item={"id": f"u{number}", "team": f"t{number % 5}", "n": number})
    updated = dynamodb.update_table(
        TableName=table_name, AttributeDefinitions=[{"AttributeName": "team", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "byTeam", "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n"]}}}])
    index = updated["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert (index["IndexStatus"], index["Backfilling"]) == ("CREATING", True)
    for number in range(100):
        table.put_item(Item={"id": f"late{number}", "team": "t0", "n": number})
    deadline = time.time() + 60
    while dynamodb.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"] != "ACTIVE":
        assert time.time() < deadline, "the index did not become ACTIVE"
        time.sleep(0.05)
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    answer = table.query(IndexName="byTeam", KeyConditionExpression=Key("team").eq("t0"), Select="COUNT")
    assert answer["Count"] == 700
    first = table.query(IndexName="byTeam", KeyConditionExpression=Key("team").eq("t1"), Limit=1)["Items"][0]
    assert set(first) == {"id", "team", "n"}
    deleted = dynamodb.update_table(TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byTeam"}}])
    assert deleted["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    assert "GlobalSecondaryIndexes" not in dynamodb.describe_table(TableName=table_name)["Table"]


def test_the_cli_queries_an_index_and_eddy_check_proves_it(table_name):
    server = Server()
    try:
        client = server.client()
        create_orders(client, table_name)
        for number in range(10):
            put_order(client, table_name, "c1", f"o{number}", "open" if number < 4 else "done", placed=number)
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                       "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION}
        answer = subprocess.run(
            ["aws", "dynamodb", "query", "--endpoint-url", server.endpoint, "--table-name", table_name,
             "--index-name", "byStatus", "--key-condition-expression", "#s = :s",
             "--expression-attribute-names", '{"#s":"status"}', "--expression-attribute-values", '{":s":{"S":"done"}}'],
            env=environment, capture_output=True, text=True, check=True)
        assert json.loads(answer.stdout)["Count"] == 6
    finally:
        data_dir = server.data_dir
        server.keep_data = True
        assert server.stop() == 0
    try:
        check = subprocess.run([server.binary, "check", "--data-dir", os.path.join(data_dir, "db"), table_name],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        report = json.loads(check.stdout)
        assert {index["IndexName"]: (index["ExpectedEntries"], index["ActualEntries"]) for index in report["Indexes"]} == {
            "byStatus": (10, 10), "byDate": (10, 10)}
        missing = subprocess.run([server.binary, "check", "--data-dir", os.path.join(data_dir, "db"), "Nope"],
                                 capture_output=True, text=True)
        assert missing.returncode == 254 and "ResourceNotFoundException" in missing.stderr
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
