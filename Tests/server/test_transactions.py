"""TransactWriteItems and TransactGetItems through the server with boto3: all or nothing, the cancellation
reasons botocore parses, idempotent client request tokens."""
import pytest
from botocore.exceptions import ClientError


def create_accounts(dynamodb, name):
    dynamodb.create_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    for account in ("a", "b"):
        dynamodb.put_item(TableName=name, Item={"id": {"S": account}, "balance": {"N": "100"}})


def transfer(name, source, target, amount):
    return [
        {"Update": {"TableName": name, "Key": {"id": {"S": source}}, "UpdateExpression": "SET balance = balance - :x",
                    "ConditionExpression": "balance >= :x", "ExpressionAttributeValues": {":x": {"N": str(amount)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Update": {"TableName": name, "Key": {"id": {"S": target}}, "UpdateExpression": "SET balance = balance + :x",
                    "ExpressionAttributeValues": {":x": {"N": str(amount)}}}},
    ]


def balances(dynamodb, name):
    answer = dynamodb.transact_get_items(TransactItems=[
        {"Get": {"TableName": name, "Key": {"id": {"S": account}}, "ProjectionExpression": "balance"}} for account in ("a", "b")])
    return [int(response["Item"]["balance"]["N"]) for response in answer["Responses"]]


def test_a_transfer_commits_both_updates_and_is_read_back_together(dynamodb, table_name):
    create_accounts(dynamodb, table_name)
    dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "b", 30))
    assert balances(dynamodb, table_name) == [70, 130]


def test_a_failed_condition_cancels_the_transaction_with_reasons(dynamodb, table_name):
    create_accounts(dynamodb, table_name)
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "b", 500))
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]")
    assert error["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"id": {"S": "a"}, "balance": {"N": "100"}}},
        {"Code": "None"},
    ]
    assert balances(dynamodb, table_name) == [100, 100]


def test_a_client_request_token_makes_the_transaction_idempotent(dynamodb, table_name):
    create_accounts(dynamodb, table_name)
    dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "b", 10), ClientRequestToken="transfer-1")
    dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "b", 10), ClientRequestToken="transfer-1")
    assert balances(dynamodb, table_name) == [90, 110]
    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "b", 20), ClientRequestToken="transfer-1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_two_actions_on_one_item_are_a_validation_exception(dynamodb, table_name):
    create_accounts(dynamodb, table_name)
    with pytest.raises(ClientError) as invalid:
        dynamodb.transact_write_items(TransactItems=transfer(table_name, "a", "a", 1))
    assert invalid.value.response["Error"] == {
        "Code": "ValidationException", "Message": "Transaction request cannot include multiple operations on one item"}
