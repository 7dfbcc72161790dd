"""`eddy serve --credentials FILE`: every request's AWS Signature Version 4 is checked."""
import datetime
import json
import os
import tempfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server
from test_protocol import post

KEY, SECRET = "AKIDEDDYTEST", "eddy/test+secret/key"


@pytest.fixture(scope="module")
def signed_server():
    directory = tempfile.mkdtemp(prefix="eddy-credentials-")
    path = os.path.join(directory, "credentials.json")
    with open(path, "w") as file:
        json.dump({KEY: SECRET, "AKIDOTHER": "other"}, file)
    server = Server("--credentials", path)
    yield server
    server.stop()


def client(server, key=KEY, secret=SECRET, region="us-east-1"):
    return boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def error_code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_correctly_signed_request_is_served(signed_server):
    assert "TableNames" in client(signed_server).list_tables()


def test_a_wrong_secret_is_an_invalid_signature(signed_server):
    code, message = error_code(lambda: client(signed_server, secret="not the secret").list_tables())
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_an_unknown_access_key_is_an_unrecognized_client(signed_server):
    code, message = error_code(lambda: client(signed_server, key="AKIDUNKNOWN").list_tables())
    assert (code, message) == ("UnrecognizedClientException", "The security token included in the request is invalid.")


def test_a_request_signed_for_another_region_is_served_by_that_region(signed_server):
    # Tables belong to a Region (test_regions.py): the server takes every Region, each with its own tables.
    assert client(signed_server, region="eu-west-1").list_tables()["TableNames"] == []


def test_a_scope_whose_region_is_no_region_name_is_refused(signed_server):
    status, _, body = post(signed_server, "DynamoDB_20120810.ListTables", {}, access_key=KEY, secret=SECRET, region="eu.west")
    error = json.loads(body)
    assert (status, error["__type"]) == (400, "com.amazon.coral.service#InvalidSignatureException")
    assert "Credential should be scoped to a valid region, not 'eu.west'." in error["message"]


def test_an_expired_date_is_an_invalid_signature(signed_server):
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, _, body = post(signed_server, "DynamoDB_20120810.ListTables", {}, access_key=KEY, secret=SECRET, signed_at=old)
    error = json.loads(body)
    assert status == 400
    assert error["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert error["message"].startswith("Signature expired:")


def test_a_missing_header_is_refused(signed_server):
    status, _, body = post(signed_server, "DynamoDB_20120810.ListTables", {}, sign=False)
    assert json.loads(body)["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"
    status, _, body = post(signed_server, "DynamoDB_20120810.ListTables", {}, sign=False, extra_headers={
        "X-Amz-Date": "20250101T000000Z",
        "Authorization": f"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={'0' * 64}"})
    error = json.loads(body)
    assert error["__type"] == "com.amazon.coral.service#IncompleteSignatureException"
    assert "Authorization header requires 'Credential' parameter." in error["message"]


def test_a_tampered_body_is_an_invalid_signature(signed_server):
    status, _, body = post(signed_server, "DynamoDB_20120810.DescribeTable", {"TableName": "Absent"}, access_key=KEY, secret=SECRET)
    assert json.loads(body)["__type"].endswith("#ResourceNotFoundException")
    status, _, body = post(signed_server, "DynamoDB_20120810.DescribeTable", {"TableName": "Absent"}, access_key=KEY, secret=SECRET,
                           sent_body=b'{"TableName": "Bbsent"}')
    assert json.loads(body)["__type"] == "com.amazon.coral.service#InvalidSignatureException"
