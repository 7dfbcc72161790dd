"""Lambda functions on `eddy serve`, driven by boto3's `lambda` client and the AWS CLI: the function life cycle,
Invoke (RequestResponse, Event, DryRun, Tail), function errors (exceptions, timeouts, crashes, init errors),
reserved concurrency, and the errors of bad requests (Lambda API reference, "Lambda runtime API" and "Defining
Lambda function handlers" in the developer guide)."""
import base64
import io
import json
import os
import subprocess
import time
import zipfile

import pytest
from botocore.config import Config

from conftest import CREDENTIALS, REGION

ROLE = "arn:aws:iam::000000000000:role/eddy-test"


def zipped(files, mode=0o644):
    """A zip of `files` (name → text), each with the Unix mode `mode` (or the one its name maps to in `mode`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            file_mode = mode.get(name, 0o644) if isinstance(mode, dict) else mode
            info.external_attr = (0o100000 | file_mode) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


ECHO = """
import json, os, sys

def handler(event, context):
    print("handling", json.dumps(event))
    return {"event": event, "requestId": context.aws_request_id, "function": context.function_name,
            "memory": context.memory_limit_in_mb, "greeting": os.environ.get("GREETING"),
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "region": os.environ.get("AWS_REGION"),
            "arn": context.invoked_function_arn, "remaining": context.get_remaining_time_in_millis()}
"""


@pytest.fixture
def lam(server):
    return server.client("lambda", read_timeout=70)


_function_number = [0]


@pytest.fixture
def function_name():
    _function_number[0] += 1
    return f"fn{_function_number[0]}_{os.getpid()}"


def create_python(lam, name, source, handler="app.handler", **settings):
    return lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler=handler, Code={"ZipFile": zipped({"app.py": source})},
        **settings)


def invoke(lam, name, payload, **arguments):
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), **arguments)
    return response, response["Payload"].read()


def test_a_python_function_lives_through_create_invoke_update_and_delete(server, lam, function_name):
    created = create_python(lam, function_name, ECHO, Environment={"Variables": {"GREETING": "hello"}}, MemorySize=256)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == function_name
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:000000000000:function:{function_name}"
    assert created["State"] == "Active" and created["LastUpdateStatus"] == "Successful"
    assert created["Timeout"] == 3 and created["MemorySize"] == 256 and created["Runtime"] == "python3.12"
    assert created["CodeSha256"] and created["CodeSize"] > 0
    lam.get_waiter("function_active_v2").wait(FunctionName=function_name)

    response, body = invoke(lam, function_name, {"name": "Ada"}, LogType="Tail")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    result = json.loads(body)
    assert result["event"] == {"name": "Ada"}
    assert result["function"] == function_name and result["memory"] == "256" and result["greeting"] == "hello"
    assert result["endpoint"] == server.endpoint and result["region"] == REGION
    assert result["arn"] == created["FunctionArn"]
    assert 0 < result["remaining"] <= 3000
    log = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {result['requestId']}" in log
    assert 'handling {"name": "Ada"}' in log
    assert f"REPORT RequestId: {result['requestId']}" in log

    assert lam.get_function_configuration(FunctionName=function_name)["Environment"] == {"Variables": {"GREETING": "hello"}}
    got = lam.get_function(FunctionName=created["FunctionArn"])
    assert got["Configuration"]["FunctionName"] == function_name and "Concurrency" not in got
    assert function_name in [f["FunctionName"] for f in lam.list_functions()["Functions"]]

    lam.update_function_configuration(FunctionName=function_name, Environment={"Variables": {"GREETING": "bonjour"}}, Timeout=5)
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name)
    _, body = invoke(lam, function_name, {})
    assert json.loads(body)["greeting"] == "bonjour"
    assert lam.get_function_configuration(FunctionName=function_name)["Timeout"] == 5

    updated = lam.update_function_code(
        FunctionName=function_name, ZipFile=zipped({"app.py": "def handler(event, context):\n    return 'v2'\n"}))
    assert updated["CodeSha256"] != created["CodeSha256"]
    _, body = invoke(lam, function_name, {})
    assert json.loads(body) == "v2"

    assert lam.invoke(FunctionName=function_name, InvocationType="DryRun")["StatusCode"] == 204

    lam.delete_function(FunctionName=function_name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_function(FunctionName=function_name)
    assert missing.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:000000000000:function:{function_name}")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert not os.path.exists(os.path.join(server.data_dir, "db", "functions", function_name))


def test_an_asynchronous_invocation_runs_and_writes_through_the_aws_sdk(server, lam, dynamodb, table_name, function_name):
    dynamodb.create_table(
        TableName=table_name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    create_python(lam, function_name, f"""
import boto3

def handler(event, context):
    boto3.client("dynamodb").put_item(TableName="{table_name}", Item={{"id": {{"S": event["id"]}}}})
""")
    response = lam.invoke(FunctionName=function_name, InvocationType="Event", Payload=b'{"id": "async-1"}')
    assert response["StatusCode"] == 202
    deadline = time.time() + 30
    while time.time() < deadline and "Item" not in dynamodb.get_item(TableName=table_name, Key={"id": {"S": "async-1"}}):
        time.sleep(0.1)
    assert "Item" in dynamodb.get_item(TableName=table_name, Key={"id": {"S": "async-1"}})


def test_function_errors_timeouts_crashes_and_init_errors_are_unhandled_function_errors(lam, function_name):
    create_python(lam, function_name, """
import os, time

def handler(event, context):
    if event.get("raise"):
        raise ValueError("bad input " + event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("crash"):
        os._exit(3)
    return "fine"
""", Timeout=1)
    response, body = invoke(lam, function_name, {"raise": "x"})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "bad input x"

    response, body = invoke(lam, function_name, {"sleep": 5})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert error["errorMessage"].startswith("RequestId: ")

    response, body = invoke(lam, function_name, {"crash": True})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "Runtime.ExitError" and "exit status 3" in error["errorMessage"]

    # Each failure above ended its environment; the next call gets a new one.
    response, body = invoke(lam, function_name, {})
    assert "FunctionError" not in response and json.loads(body) == "fine"

    broken = function_name + "_import"
    create_python(lam, broken, "import no_such_module\n")
    response, body = invoke(lam, broken, {})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Runtime.ImportModuleError"


def test_a_provided_runtime_runs_the_bootstrap_and_one_that_never_polls_fails_after_the_init_limit(lam, function_name):
    never = zipped({"bootstrap": "#!/bin/sh\nexec sleep 60\n"}, mode={"bootstrap": 0o755})
    lam.create_function(FunctionName=function_name, Runtime="provided.al2023", Role=ROLE, Handler="x", Code={"ZipFile": never})
    started = time.time()
    response, body = invoke(lam, function_name, {})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Sandbox.Timedout"
    assert 9 <= time.time() - started < 30

    missing = function_name + "_nobootstrap"
    lam.create_function(
        FunctionName=missing, Runtime="provided.al2", Role=ROLE, Handler="x", Code={"ZipFile": zipped({"README": "no bootstrap"})})
    response, body = invoke(lam, missing, {})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Runtime.InvalidEntrypoint"


def test_reserved_concurrency_caps_environments_and_zero_throttles(lam, function_name):
    create_python(lam, function_name, "def handler(event, context):\n    return 1\n")
    assert lam.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=0)[
        "ReservedConcurrentExecutions"] == 0
    assert lam.get_function_concurrency(FunctionName=function_name)["ReservedConcurrentExecutions"] == 0
    assert lam.get_function(FunctionName=function_name)["Concurrency"] == {"ReservedConcurrentExecutions": 0}
    with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
        invoke(lam, function_name, {})
    assert throttled.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=function_name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=function_name)
    response, body = invoke(lam, function_name, {})
    assert json.loads(body) == 1
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=950)


def test_bad_requests_get_lambdas_errors_and_create_nothing(server, lam, function_name):
    code = {"ZipFile": zipped({"app.py": "def handler(e, c):\n    return 1\n"})}
    before = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])

    def error(call, **arguments):
        with pytest.raises(lam.exceptions.ClientError) as raised:
            call(**arguments)
        return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]

    assert error(lam.create_function, FunctionName=function_name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                 Code={"ZipFile": b"this is not a zip"}) == (
        "InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.")
    kind, message = error(lam.create_function, FunctionName=function_name, Runtime="cobol9", Role=ROLE, Handler="a.b", Code=code)
    assert kind == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'cobol9' at 'runtime' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [")
    kind, message = error(lam.create_function, FunctionName=function_name, Runtime="nodejs20.x", Role=ROLE, Handler="a.b", Code=code)
    assert kind == "InvalidParameterValueException" and "nodejs20.x" in message
    assert error(lam.create_function, FunctionName=function_name, Runtime="python3.12", Role=ROLE, Handler="a.b", Code=code,
                 Timeout=901)[0] == "ValidationException"
    kind, message = error(lam.create_function, FunctionName=function_name, Runtime="python3.12", Role=ROLE, Handler="a.b",
                          Code=code, Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    assert kind == "InvalidParameterValueException" and "Reserved keys used in this request: AWS_REGION" in message
    assert error(lam.create_function, FunctionName=function_name, Runtime="python3.12", Role="not-a-role", Handler="a.b",
                 Code=code)[0] == "ValidationException"
    assert sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]) == before
    assert not os.path.exists(os.path.join(server.data_dir, "db", "functions", function_name))

    create_python(lam, function_name, "def handler(e, c):\n    return 1\n")
    kind, message = error(lam.create_function, FunctionName=function_name, Runtime="python3.12", Role=ROLE, Handler="a.b", Code=code)
    assert (kind, message) == ("ResourceConflictException", f"Function already exist: {function_name}")
    kind, message = error(lam.invoke, FunctionName=function_name, Payload=b"{not json")
    assert kind == "InvalidRequestContentException"
    assert error(lam.invoke, FunctionName="nobody_" + function_name)[0] == "ResourceNotFoundException"
    assert error(lam.update_function_code, FunctionName=function_name, ZipFile=b"PK\x03\x04broken")[0] == "InvalidParameterValueException"
    # The failed update left the working code in place.
    response, body = invoke(lam, function_name, {})
    assert json.loads(body) == 1


def test_the_aws_cli_creates_invokes_with_a_log_tail_and_deletes(server, tmp_path, function_name):
    archive = tmp_path / "code.zip"
    archive.write_bytes(zipped({"app.py": "def handler(event, context):\n    print('cli says hi')\n    return {'ok': event['n'] + 1}\n"}))
    environment = dict(os.environ, AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
                       AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"], AWS_DEFAULT_REGION=REGION, AWS_PAGER="")

    def aws(*arguments):
        completed = subprocess.run(["aws", "lambda", *arguments, "--endpoint-url", server.endpoint, "--output", "json"],
                                   capture_output=True, text=True, env=environment, timeout=120)
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout) if completed.stdout.strip() else None

    created = aws("create-function", "--function-name", function_name, "--runtime", "python3.13", "--role", ROLE,
                  "--handler", "app.handler", "--zip-file", f"fileb://{archive}")
    assert created["State"] == "Active"
    aws("wait", "function-active-v2", "--function-name", function_name)
    out = tmp_path / "out.json"
    result = aws("invoke", "--function-name", function_name,
                 "--payload", '{"n": 41}', "--log-type", "Tail", str(out))
    assert result["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"ok": 42}
    assert "cli says hi" in base64.b64decode(result["LogResult"]).decode()
    assert function_name in [f["FunctionName"] for f in aws("list-functions")["Functions"]]
    aws("delete-function", "--function-name", function_name)
    assert function_name not in [f["FunctionName"] for f in aws("list-functions")["Functions"]]
