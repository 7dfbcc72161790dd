"""The protocol's edges as DynamoDB answers them: requests over the HTTP limits, the order of the signature checks
with `--credentials`, and the small account operations (DescribeEndpoints, DescribeLimits) and continuous backups
(DescribeContinuousBackups, UpdateContinuousBackups) that SDKs and tools call."""
import datetime
import json
import re
import socket

import pytest
from botocore.exceptions import ClientError

from test_cli import aws
from test_protocol import post
from test_sigv4 import KEY, SECRET, client, signed_server  # noqa: F401 (the fixture)


def raw_request(server, request_line, headers, body=b""):
    """Sends one HTTP/1.1 request as bytes and reads the answer until the server closes or the body is complete:
    (status, headers, body)."""
    lines = [request_line, f"Host: 127.0.0.1:{server.port}", *[f"{name}: {value}" for name, value in headers],
             f"Content-Length: {len(body)}", "Connection: close"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, answer = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    answer_headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in header_lines}
    return int(status_line.split()[1]), answer_headers, answer


LIMIT_MESSAGE = ("The request line or headers are larger than the server's limits: 16384 bytes for the request line "
                 "or one header, 65536 bytes for all headers")


@pytest.mark.parametrize("request_line, headers", [
    ("POST / HTTP/1.1", [("X-Big", "b" * 17_000)]),
    ("POST /" + "p" * 17_000 + " HTTP/1.1", []),
    ("GET /health?" + "q" * 17_000 + " HTTP/1.1", []),
    ("POST / HTTP/1.1", [(f"X-Part-{n}", "h" * 10_000) for n in range(7)]),
])
def test_a_request_over_the_header_limits_is_a_400_with_a_body(server, request_line, headers):
    status, answer_headers, body = raw_request(
        server, request_line, [("X-Amz-Target", "DynamoDB_20120810.ListTables"), *headers], b"{}")
    assert status == 400
    assert answer_headers["connection"] == "close"
    assert json.loads(body) == {"__type": "com.amazon.coral.service#BadRequest", "message": LIMIT_MESSAGE}
    status, _, _ = raw_request(server, "GET /health HTTP/1.1", [])
    assert status == 200


def test_headers_within_the_limits_are_served(server):
    status, _, body = post(server, "DynamoDB_20120810.ListTables", {}, extra_headers={"X-Big": "b" * 15_000})
    assert status == 200 and "TableNames" in json.loads(body)


def test_a_request_that_is_not_http_is_a_400_with_a_body(server):
    status, _, body = raw_request(server, "POST / HTTP/1.1", [("Bad Header Name", "x")])
    assert status == 400
    error = json.loads(body)
    assert error["__type"] == "com.amazon.coral.service#BadRequest"
    assert error["message"].startswith("The request is not valid HTTP/1.1: ")


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_an_unknown_access_key_is_an_unrecognized_client(signed_server):  # noqa: F811
    assert error_of(lambda: client(signed_server, key="AKIDNOBODY", secret="whatever").describe_limits()) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.")


TIMESTAMP = r"\d{8}T\d{6}Z"


@pytest.mark.parametrize("minutes, region, pattern", [
    (-20, "us-east-1", rf"Signature expired: ({TIMESTAMP}) is now earlier than ({TIMESTAMP}) \(({TIMESTAMP}) - 15 min\.\)"),
    (-20, "eu-west-1", rf"Signature expired: ({TIMESTAMP}) is now earlier than ({TIMESTAMP}) \(({TIMESTAMP}) - 15 min\.\)"),
    (20, "us-east-1", rf"Signature not yet current: ({TIMESTAMP}) is still later than ({TIMESTAMP}) \(({TIMESTAMP}) \+ 15 min\.\)"),
    (20, "eu-west-1", rf"Signature not yet current: ({TIMESTAMP}) is still later than ({TIMESTAMP}) \(({TIMESTAMP}) \+ 15 min\.\)"),
])
def test_the_signature_time_is_checked_before_the_scope(signed_server, minutes, region, pattern):  # noqa: F811
    signed_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    for key in (KEY, "AKIDNOBODY"):
        status, _, body = post(signed_server, "DynamoDB_20120810.ListTables", {}, access_key=key, secret=SECRET,
                               region=region, signed_at=signed_at)
        error = json.loads(body)
        assert status == 400
        assert error["__type"] == "com.amazon.coral.service#InvalidSignatureException"
        match = re.fullmatch(pattern, error["message"])
        assert match, error["message"]
        signed, bound, now = (datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ") for text in match.groups())
        assert signed.strftime("%Y%m%dT%H%M%SZ") == signed_at.strftime("%Y%m%dT%H%M%SZ")
        assert bound - now == datetime.timedelta(minutes=15 if minutes > 0 else -15)


def test_describe_endpoints_answers_the_address_the_client_used(server, dynamodb):
    assert dynamodb.describe_endpoints()["Endpoints"] == [{"Address": f"127.0.0.1:{server.port}", "CachePeriodInMinutes": 1440}]
    status, _, body = post(server, "DynamoDB_20120810.DescribeEndpoints", {}, extra_headers={"Host": f"localhost:{server.port}"})
    assert status == 200
    assert json.loads(body) == {"Endpoints": [{"Address": f"localhost:{server.port}", "CachePeriodInMinutes": 1440}]}


def test_describe_limits_answers_dynamodbs_default_quotas(server, dynamodb):
    expected = {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}
    answer = dynamodb.describe_limits()
    assert {name: answer[name] for name in expected} == expected
    assert aws(server, "dynamodb", "describe-limits") == expected


WITHOUT_PITR = {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}


def test_continuous_backups_are_described_as_for_a_table_without_point_in_time_recovery(server, dynamodb, table_name):
    dynamodb.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"] == WITHOUT_PITR
    assert aws(server, "dynamodb", "describe-continuous-backups", "--table-name", table_name) == {
        "ContinuousBackupsDescription": WITHOUT_PITR}
    disabled = dynamodb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert disabled["ContinuousBackupsDescription"] == WITHOUT_PITR
    assert error_of(lambda: dynamodb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})) == (
        "ValidationException", "Eddy does not support point-in-time recovery: PointInTimeRecoveryEnabled cannot be true")
    assert dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"] == WITHOUT_PITR


@pytest.mark.parametrize("target, body", [
    ("DescribeContinuousBackups", {"TableName": "NoSuchTable"}),
    ("UpdateContinuousBackups", {"TableName": "NoSuchTable", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}),
])
def test_continuous_backups_of_a_missing_table_are_table_not_found(server, target, body):
    status, _, answer = post(server, f"DynamoDB_20120810.{target}", body)
    assert status == 400
    assert json.loads(answer) == {"__type": "com.amazonaws.dynamodb.v20120810#TableNotFoundException",
                                  "message": "Table not found: NoSuchTable"}
