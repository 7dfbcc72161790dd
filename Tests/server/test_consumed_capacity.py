"""ReturnConsumedCapacity through boto3: every operation that has it, in TOTAL and INDEXES mode, its
ConsumedCapacity checked member by member against the Developer Guide's arithmetic ("Read and write
operations", "Item sizes and formats", the index "Provisioned throughput considerations", "Capacity management
for transactions") and the API Reference's ConsumedCapacity shape."""
import pytest

GSI = "byG"
LSI = "byL"


def create_table(dynamodb, name):
    """Key (pk, sk); GSI byG on gk, KEYS_ONLY; LSI byL on (pk, lk), ALL."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gk", "lk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": GSI, "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": LSI, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                {"AttributeName": "lk", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")


def item(sk, size, **indexed):
    """An item of partition "p" whose DynamoDB size is exactly `size` bytes: pk (3), sk (2 + len), the index
    keys given (2 + len each), and d (1 + padding)."""
    attributes = {"pk": {"S": "p"}, "sk": {"S": sk}}
    used = 3 + 2 + len(sk)
    for name, value in indexed.items():
        attributes[name] = {"S": value}
        used += len(name) + len(value)
    attributes["d"] = {"S": "x" * (size - used - 1)}
    return attributes


def key(sk):
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def expected(table, mode, kind, table_units, gsi=None, lsi=None):
    """The ConsumedCapacity DynamoDB returns: TOTAL has the table's name and the total; INDEXES adds the read
    or write part, the table's own capacity and each index written or read."""
    total = table_units + (gsi or 0) + (lsi or 0)
    if mode == "TOTAL":
        return {"TableName": table, "CapacityUnits": total}
    part = "ReadCapacityUnits" if kind == "read" else "WriteCapacityUnits"

    def capacity(units):
        return {"CapacityUnits": units, **({part: units} if units else {})}

    answer = {"TableName": table, "CapacityUnits": total, part: total, "Table": capacity(table_units)}
    if gsi is not None:
        answer["GlobalSecondaryIndexes"] = {GSI: capacity(gsi)}
    if lsi is not None:
        answer["LocalSecondaryIndexes"] = {LSI: capacity(lsi)}
    return answer


INDEXED = item("i", 1513, gk="g", lk="l")  # 2 write units; its GSI entry (pk, sk, gk: 9 bytes) 1; its LSI entry 2
THREE = [item(sk, 2000) for sk in ("1", "2", "3")]  # 6000 bytes: two 4 KB units together

# (name, items stored first, operation(client, table, mode) -> response, read or write, table, GSI, LSI units)
CASES = [
    ("GetItem of 4 KB, strongly consistent", [item("a", 4096)],
     lambda c, t, m: c.get_item(TableName=t, Key=key("a"), ConsistentRead=True, ReturnConsumedCapacity=m),
     "read", 1, None, None),
    ("GetItem of 4 KB + 1 byte, eventually consistent", [item("a", 4097)],
     lambda c, t, m: c.get_item(TableName=t, Key=key("a"), ReturnConsumedCapacity=m), "read", 1, None, None),
    ("GetItem of a missing item, with a projection", [],
     lambda c, t, m: c.get_item(TableName=t, Key=key("a"), ProjectionExpression="pk", ReturnConsumedCapacity=m),
     "read", 0.5, None, None),
    ("PutItem of 1 KB + 1 byte, no index key", [],
     lambda c, t, m: c.put_item(TableName=t, Item=item("a", 1025), ReturnConsumedCapacity=m), "write", 2, None, None),
    ("PutItem replacing a larger item", [item("a", 3000)],
     lambda c, t, m: c.put_item(TableName=t, Item=item("a", 100), ReturnConsumedCapacity=m), "write", 3, None, None),
    ("PutItem with both index keys", [],
     lambda c, t, m: c.put_item(TableName=t, Item=INDEXED, ReturnConsumedCapacity=m), "write", 2, 1, 2),
    ("UpdateItem moving the GSI key", [INDEXED],
     lambda c, t, m: c.update_item(TableName=t, Key=key("i"), UpdateExpression="SET gk = :g",
                                   ExpressionAttributeValues={":g": {"S": "h"}}, ReturnConsumedCapacity=m),
     "write", 2, 2, 2),
    ("UpdateItem of an attribute the GSI does not project", [INDEXED],
     lambda c, t, m: c.update_item(TableName=t, Key=key("i"), UpdateExpression="SET e = :e",
                                   ExpressionAttributeValues={":e": {"S": "y"}}, ReturnConsumedCapacity=m),
     "write", 2, None, 2),
    ("UpdateItem removing only, of a missing item", [],
     lambda c, t, m: c.update_item(TableName=t, Key=key("a"), UpdateExpression="REMOVE d", ReturnConsumedCapacity=m),
     "write", 1, None, None),
    ("DeleteItem of an indexed item", [INDEXED],
     lambda c, t, m: c.delete_item(TableName=t, Key=key("i"), ReturnConsumedCapacity=m), "write", 2, 1, 2),
    ("DeleteItem of a missing item", [],
     lambda c, t, m: c.delete_item(TableName=t, Key=key("a"), ReturnConsumedCapacity=m), "write", 1, None, None),
    ("Query, strongly consistent, with a filter that matches nothing", THREE,
     lambda c, t, m: c.query(TableName=t, KeyConditionExpression="pk = :p", FilterExpression="d = :n",
                             ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"S": "none"}}, ConsistentRead=True,
                             ReturnConsumedCapacity=m),
     "read", 2, None, None),
    ("Query with Limit 1", THREE,
     lambda c, t, m: c.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                             Limit=1, ConsistentRead=True, ReturnConsumedCapacity=m),
     "read", 1, None, None),
    ("Query of the GSI", [INDEXED],
     lambda c, t, m: c.query(TableName=t, IndexName=GSI, KeyConditionExpression="gk = :g",
                             ExpressionAttributeValues={":g": {"S": "g"}}, ReturnConsumedCapacity=m),
     "read", 0, 0.5, None),
    ("Scan, eventually consistent", THREE,
     lambda c, t, m: c.scan(TableName=t, ReturnConsumedCapacity=m), "read", 1, None, None),
]


def check(answer, want):
    assert set(answer) == set(want), answer
    for member, value in want.items():
        assert answer[member] == value, (member, answer)


@pytest.mark.parametrize("mode", ["TOTAL", "INDEXES"])
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_single_table_operations(dynamodb, table_name, case, mode):
    _, stored, operation, kind, table_units, gsi, lsi = case
    create_table(dynamodb, table_name)
    for stored_item in stored:
        dynamodb.put_item(TableName=table_name, Item=stored_item)
    check(operation(dynamodb, table_name, mode)["ConsumedCapacity"], expected(table_name, mode, kind, table_units, gsi, lsi))


@pytest.mark.parametrize("mode", [None, "NONE"])
def test_none_returns_no_consumed_capacity(dynamodb, table_name, mode):
    create_table(dynamodb, table_name)
    extra = {"ReturnConsumedCapacity": mode} if mode else {}
    assert "ConsumedCapacity" not in dynamodb.put_item(TableName=table_name, Item=item("a", 10), **extra)
    assert "ConsumedCapacity" not in dynamodb.get_item(TableName=table_name, Key=key("a"), **extra)
    assert "ConsumedCapacity" not in dynamodb.query(
        TableName=table_name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, **extra)


def test_failed_condition_carries_no_capacity(dynamodb, table_name):
    create_table(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item=item("a", 10))
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as raised:
        dynamodb.put_item(TableName=table_name, Item=item("a", 10), ConditionExpression="attribute_not_exists(pk)",
                          ReturnConsumedCapacity="TOTAL")
    assert "ConsumedCapacity" not in raised.value.response


# (name, items stored first, operation(client, table, mode) -> response, read or write, table units)
MULTI_CASES = [
    ("BatchGetItem: each item rounded on its own, a missing one the minimum", [item("a", 1536), item("b", 6656)],
     lambda c, t, m: c.batch_get_item(
         RequestItems={t: {"Keys": [key("a"), key("b"), key("c")], "ConsistentRead": True}}, ReturnConsumedCapacity=m),
     "read", 4),
    ("BatchWriteItem: each put and delete rounded on its own", [],
     lambda c, t, m: c.batch_write_item(
         RequestItems={t: [{"PutRequest": {"Item": item("a", 500)}}, {"PutRequest": {"Item": item("b", 1500)}},
                           {"DeleteRequest": {"Key": key("c")}}]}, ReturnConsumedCapacity=m),
     "write", 4),
    ("TransactWriteItems: every action twice, a ConditionCheck on its item", [item("c", 2000)],
     lambda c, t, m: c.transact_write_items(
         TransactItems=[{"Put": {"TableName": t, "Item": item("a", 500)}},
                        {"ConditionCheck": {"TableName": t, "Key": key("c"), "ConditionExpression": "attribute_exists(pk)"}}],
         ReturnConsumedCapacity=m),
     "write", 2 + 4),
    ("TransactGetItems: every item twice, strongly consistent", [item("a", 4096), item("b", 4097)],
     lambda c, t, m: c.transact_get_items(
         TransactItems=[{"Get": {"TableName": t, "Key": key(sk)}} for sk in ("a", "b", "c")], ReturnConsumedCapacity=m),
     "read", 8),
]


@pytest.mark.parametrize("mode", ["TOTAL", "INDEXES"])
@pytest.mark.parametrize("case", MULTI_CASES, ids=[case[0] for case in MULTI_CASES])
def test_batch_and_transaction_operations(dynamodb, table_name, case, mode):
    _, stored, operation, kind, table_units = case
    create_table(dynamodb, table_name)
    for stored_item in stored:
        dynamodb.put_item(TableName=table_name, Item=stored_item)
    answers = operation(dynamodb, table_name, mode)["ConsumedCapacity"]
    assert len(answers) == 1
    check(answers[0], expected(table_name, mode, kind, table_units))


def test_replayed_transaction_consumes_reads(dynamodb, table_name):
    create_table(dynamodb, table_name)
    request = dict(TransactItems=[{"Put": {"TableName": table_name, "Item": item("a", 5000)}}],
                   ClientRequestToken="replayed-token", ReturnConsumedCapacity="INDEXES")
    check(dynamodb.transact_write_items(**request)["ConsumedCapacity"][0], expected(table_name, "INDEXES", "write", 10))
    check(dynamodb.transact_write_items(**request)["ConsumedCapacity"][0], expected(table_name, "INDEXES", "read", 2))
