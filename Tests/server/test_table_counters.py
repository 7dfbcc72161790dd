"""DescribeTable's ItemCount and TableSizeBytes, and a GSI's ItemCount and IndexSizeBytes, through boto3
against `eddy serve`: after each write kind (DescribeTable API reference; sizes by the Developer Guide's
"Item sizes and formats": an attribute's name plus its value, a string its UTF-8 bytes, a number one byte per
two significant digits plus one), exact, and equal to a fresh count in the server's consistency check
(`GET /eddy/2026-12-01/tables/NAME/check`)."""
import pytest
from botocore.exceptions import ClientError


def size(item):
    """The DynamoDB size of a flat item of S and N attributes (plain integers)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        if "S" in value:
            total += len(value["S"].encode())
        else:
            digits = len(value["N"].lstrip("-").strip("0")) or 1
            total += (digits + 1) // 2 + 1
    return total


def create_shop(dynamodb, name):
    dynamodb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "byColor", "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        BillingMode="PAY_PER_REQUEST")


def item(pk, **attributes):
    result = {"pk": {"S": pk}}
    for name, value in attributes.items():
        result[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return result


def put(table, entry):
    return lambda dynamodb: dynamodb.put_item(TableName=table, Item=entry)


def delete(table, pk):
    return lambda dynamodb: dynamodb.delete_item(TableName=table, Key={"pk": {"S": pk}})


def update(table, pk, expression, values=None):
    def run(dynamodb):
        arguments = {"TableName": table, "Key": {"pk": {"S": pk}}, "UpdateExpression": expression}
        if values:
            arguments["ExpressionAttributeValues"] = values
        dynamodb.update_item(**arguments)
    return run


def failing(call, code):
    def run(dynamodb):
        with pytest.raises(ClientError) as error:
            call(dynamodb)
        assert error.value.response["Error"]["Code"] == code
    return run


def batch(table, puts, deletes):
    return lambda dynamodb: dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": entry}} for entry in puts]
                                                                     + [{"DeleteRequest": {"Key": {"pk": {"S": pk}}}} for pk in deletes]})


def transact(table, puts, deletes, condition_fails=False):
    def run(dynamodb):
        items = [{"Put": {"TableName": table, "Item": entry}} for entry in puts]
        items += [{"Delete": {"TableName": table, "Key": {"pk": {"S": pk}}}} for pk in deletes]
        if condition_fails:
            items.append({"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "nobody"}},
                                             "ConditionExpression": "attribute_exists(pk)"}})
        dynamodb.transact_write_items(TransactItems=items)
    return run


# Each step: its name, the call, and the items the table holds after it.
STEPS = [
    ("put a new item", lambda t: put(t, item("a", color="red", n=12345)), {"a": item("a", color="red", n=12345)}),
    ("put without an index key", lambda t: put(t, item("b", note="plain")),
     {"a": item("a", color="red", n=12345), "b": item("b", note="plain")}),
    ("replace by a larger item", lambda t: put(t, item("a", color="crimson", note="longer now")),
     {"a": item("a", color="crimson", note="longer now"), "b": item("b", note="plain")}),
    ("failed condition", lambda t: failing(
        lambda d: d.put_item(TableName=t, Item=item("c"), ConditionExpression="attribute_exists(pk)"), "ConditionalCheckFailedException"),
     {"a": item("a", color="crimson", note="longer now"), "b": item("b", note="plain")}),
    ("index key of the wrong type", lambda t: failing(
        lambda d: d.put_item(TableName=t, Item=item("c", color=5)), "ValidationException"),
     {"a": item("a", color="crimson", note="longer now"), "b": item("b", note="plain")}),
    ("update adds an index key", lambda t: update(t, "b", "SET color = :c", {":c": {"S": "blue"}}),
     {"a": item("a", color="crimson", note="longer now"), "b": item("b", note="plain", color="blue")}),
    ("update removes attributes", lambda t: update(t, "a", "REMOVE color, note"),
     {"a": item("a"), "b": item("b", note="plain", color="blue")}),
    ("delete an absent item", lambda t: delete(t, "none"), {"a": item("a"), "b": item("b", note="plain", color="blue")}),
    ("batch write", lambda t: batch(t, [item(f"s{n}", color=f"c{n}") for n in range(5)], ["a"]),
     {"b": item("b", note="plain", color="blue"), **{f"s{n}": item(f"s{n}", color=f"c{n}") for n in range(5)}}),
    ("transaction", lambda t: transact(t, [item("t", color="green", n=7)], ["s0", "s1"]),
     {"b": item("b", note="plain", color="blue"), "t": item("t", color="green", n=7),
      **{f"s{n}": item(f"s{n}", color=f"c{n}") for n in range(2, 5)}}),
    ("cancelled transaction", lambda t: failing(transact(t, [item("u", color="x")], ["b"], condition_fails=True),
                                                "TransactionCanceledException"),
     {"b": item("b", note="plain", color="blue"), "t": item("t", color="green", n=7),
      **{f"s{n}": item(f"s{n}", color=f"c{n}") for n in range(2, 5)}}),
    ("delete an item", lambda t: delete(t, "t"),
     {"b": item("b", note="plain", color="blue"), **{f"s{n}": item(f"s{n}", color=f"c{n}") for n in range(2, 5)}}),
]


def test_describe_table_counts_every_write_kind_exactly(server, dynamodb, table_name):
    create_shop(dynamodb, table_name)
    for name, step, expected in STEPS:
        step(table_name)(dynamodb)
        described = dynamodb.describe_table(TableName=table_name)["Table"]
        entries = [{k: v for k, v in entry.items() if k in ("pk", "color")} for entry in expected.values() if "color" in entry]
        assert (described["ItemCount"], described["TableSizeBytes"]) == (len(expected), sum(map(size, expected.values()))), name
        index = described["GlobalSecondaryIndexes"][0]
        assert (index["ItemCount"], index["IndexSizeBytes"]) == (len(entries), sum(map(size, entries))), name
        status, report = server.admin("GET", f"tables/{table_name}/check")
        assert status == 200 and report["KeptItemCount"] == len(expected), (name, report)
        assert report["KeptTableSizeBytes"] == report["TableSizeBytes"] == described["TableSizeBytes"], (name, report)
        assert [(i["KeptItemCount"], i["KeptIndexSizeBytes"]) for i in report["Indexes"]] == [(len(entries), sum(map(size, entries)))]


def test_a_new_table_and_a_recreated_one_count_from_zero(dynamodb, table_name):
    create_shop(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item=item("a", color="red"))
    dynamodb.delete_table(TableName=table_name)
    create_shop(dynamodb, table_name)
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert (described["ItemCount"], described["TableSizeBytes"]) == (0, 0)
    assert (described["GlobalSecondaryIndexes"][0]["ItemCount"], described["GlobalSecondaryIndexes"][0]["IndexSizeBytes"]) == (0, 0)
