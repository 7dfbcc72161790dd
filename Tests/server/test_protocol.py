"""The wire protocol itself, spoken with raw HTTP requests: headers, error bodies and their namespaces."""
import datetime
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import zlib
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import CREDENTIALS, REGION


def post(server, target, body, extra_headers=None, sign=True, access_key=CREDENTIALS["aws_access_key_id"],
         secret=CREDENTIALS["aws_secret_access_key"], region=REGION, signed_at=None, sent_body=None):
    """POSTs `body` to the server, signed with AWS Signature Version 4 by botocore unless `sign` is false
    (`sent_body`, if given, is sent instead of the body signed): (status, headers, body)."""
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        headers["X-Amz-Target"] = target
    headers.update(extra_headers or {})
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if sign:
        aws_request = AWSRequest(method="POST", url=server.endpoint + "/", data=data, headers=headers)
        signer = SigV4Auth(Credentials(access_key, secret), "dynamodb", region)
        if signed_at is None:
            signer.add_auth(aws_request)
        else:
            with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
                signer.add_auth(aws_request)
        headers = dict(aws_request.headers.items())
    if sent_body is not None:
        data = sent_body
        headers["Content-Length"] = str(len(data))
    request = urllib.request.Request(server.endpoint + "/", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_every_answer_carries_a_request_id_and_the_crc32_of_its_body(server):
    status, headers, body = post(server, "DynamoDB_20120810.ListTables", {})
    assert status == 200
    assert len(headers["x-amzn-RequestId"]) == 52
    assert int(headers["x-amz-crc32"]) == zlib.crc32(body)
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "TableNames" in json.loads(body)


def test_malformed_json_is_a_serialization_exception(server):
    status, headers, body = post(server, "DynamoDB_20120810.GetItem", b'{"TableName": "x", "Key": ')
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#SerializationException"
    assert int(headers["x-amz-crc32"]) == zlib.crc32(body)


def test_a_member_of_the_wrong_json_type_is_a_serialization_exception(server):
    status, _, body = post(server, "DynamoDB_20120810.DescribeTable", {"TableName": 42})
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#SerializationException"


def test_a_missing_required_member_is_a_validation_exception(server):
    status, _, body = post(server, "DynamoDB_20120810.DescribeTable", {})
    error = json.loads(body)
    assert status == 400
    assert error["__type"] == "com.amazon.coral.validate#ValidationException"
    assert "tableName" in error["message"]


def test_unknown_and_missing_targets_are_unknown_operation_exceptions(server):
    for target in ["DynamoDB_20120810.NoSuchOperation", "Bogus.ListTables", None]:
        status, _, body = post(server, target, {})
        assert status == 400
        assert json.loads(body)["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_modelled_errors_carry_dynamodbs_namespace(server):
    status, _, body = post(server, "DynamoDB_20120810.DescribeTable", {"TableName": "Nope"})
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found: Table: Nope not found",
    }


def test_a_body_over_the_request_limit_is_refused(server):
    status, _, body = post(server, "DynamoDB_20120810.PutItem", b" " * (16 * 1024 * 1024 + 1))
    assert status == 413
    assert "RequestEntityTooLarge" in json.loads(body)["__type"]


def test_an_unsigned_request_is_missing_its_authentication_token(server):
    status, _, body = post(server, "DynamoDB_20120810.ListTables", {}, sign=False)
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"


def test_without_credentials_any_well_formed_signature_is_accepted(server):
    status, _, _ = post(server, "DynamoDB_20120810.ListTables", {}, access_key="ANYKEY", secret="any secret")
    assert status == 200
    status, _, body = post(server, "DynamoDB_20120810.ListTables", {}, sign=False,
                           extra_headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/dynamodb/aws4_request"})
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#IncompleteSignatureException"


def test_health(server):
    with urllib.request.urlopen(server.endpoint + "/health", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def metric(exposition, name, **labels):
    """The value of the sample `name{labels}` in a Prometheus text exposition (0 if absent)."""
    for line in exposition.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        series_name, _, label_text = series.partition("{")
        found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part)
        if series_name == name and all(found.get(key) == f'"{value_}"' for key, value_ in labels.items()):
            return float(value)
    return 0.0


def read_metrics(server):
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.read().decode()


def test_metrics_count_requests_errors_and_latencies_per_operation(server):
    before = read_metrics(server)
    for _ in range(3):
        post(server, "DynamoDB_20120810.ListTables", {})
    post(server, "DynamoDB_20120810.DescribeTable", {"TableName": "NoSuchTableForMetrics"})
    post(server, "DynamoDB_20120810.Bogus", {})
    post(server, "DynamoDB_20120810.DescribeTable", {"TableName": "NoSuchTableForMetrics"}, sign=False)
    after = read_metrics(server)
    assert metric(after, "eddy_requests_total", operation="ListTables") - metric(before, "eddy_requests_total", operation="ListTables") == 3
    assert metric(after, "eddy_request_errors_total", operation="DescribeTable", type="ResourceNotFoundException") \
        - metric(before, "eddy_request_errors_total", operation="DescribeTable", type="ResourceNotFoundException") == 1
    assert metric(after, "eddy_request_errors_total", operation="unknown", type="UnknownOperationException") >= 1
    # A request refused for its signature counts too.
    assert metric(after, "eddy_request_errors_total", operation="DescribeTable", type="MissingAuthenticationTokenException") \
        - metric(before, "eddy_request_errors_total", operation="DescribeTable", type="MissingAuthenticationTokenException") == 1
    count = metric(after, "eddy_request_duration_seconds_count", operation="ListTables")
    assert count - metric(before, "eddy_request_duration_seconds_count", operation="ListTables") == 3
    assert metric(after, "eddy_request_duration_seconds_bucket", operation="ListTables", le="+Inf") == count
    assert 0 < metric(after, "eddy_request_duration_seconds_sum", operation="ListTables") < 3 * 5.0


def test_deep_nesting_is_refused_and_the_server_stays_up(server, dynamodb, table_name):
    for body in [b"[" * 513, b'{"TableName":"T","Item":' + b"[" * 512, b"{" * 5000]:
        status, _, answer = post(server, "DynamoDB_20120810.PutItem", body)
        assert status == 400
        assert json.loads(answer)["__type"] == "com.amazon.coral.service#SerializationException"
    value = {"S": "leaf"}
    for _ in range(40):
        value = {"M": {"a": value}}
    dynamodb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    status, _, answer = post(server, "DynamoDB_20120810.PutItem", {"TableName": table_name, "Item": {"id": {"S": "1"}, "deep": value}})
    assert status == 400
    assert json.loads(answer) == {"__type": "com.amazon.coral.validate#ValidationException",
                                  "message": "Nesting Levels have exceeded supported limits"}
    status, _, _ = post(server, "DynamoDB_20120810.ListTables", {})
    assert status == 200


def signed_request_bytes(server, target, body):
    """The bytes of a POST of `body` to `target`, signed by botocore, as sent on the wire."""
    data = json.dumps(body).encode()
    aws_request = AWSRequest(method="POST", url=server.endpoint + "/", data=data,
                             headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
    SigV4Auth(Credentials(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]), "dynamodb", REGION).add_auth(aws_request)
    headers = dict(aws_request.headers.items())
    headers["Host"] = urllib.parse.urlsplit(server.endpoint).netloc
    headers["Content-Length"] = str(len(data))
    head = "POST / HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return head.encode() + data


def read_answer(file):
    """The status and body of the next HTTP/1.1 answer in `file` (a connection's buffered reader)."""
    status = int(file.readline().split()[1])
    length = 0
    while (line := file.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, file.read(length)


def test_pipelined_requests_are_answered_in_order(server, dynamodb, table_name):
    # Requests an SDK never pipelines, sent in one write: each answered once, in order, each PutItem before the
    # GetItems after it. The server reads on while an answer is pending until bytes arrive meanwhile.
    dynamodb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    count = 40
    requests = []
    for number in range(count):
        requests.append(signed_request_bytes(server, "DynamoDB_20120810.PutItem",
                                             {"TableName": table_name, "Item": {"id": {"S": f"k{number}"}, "n": {"N": str(number)}}}))
        requests.append(signed_request_bytes(server, "DynamoDB_20120810.GetItem",
                                             {"TableName": table_name, "Key": {"id": {"S": f"k{number}"}}}))
    address = urllib.parse.urlsplit(server.endpoint)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(b"".join(requests))
        file = connection.makefile("rb")
        for number in range(count):
            status, body = read_answer(file)
            assert (status, json.loads(body)) == (200, {})
            status, body = read_answer(file)
            assert (status, json.loads(body)) == (200, {"Item": {"id": {"S": f"k{number}"}, "n": {"N": str(number)}}})
