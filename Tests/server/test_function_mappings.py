"""Event source mappings from DynamoDB streams to Lambda functions on `eddy serve`, through boto3's `lambda`
client: a Python handler using aws-lambda-powertools' batch utility receives every change once per attempt and
its reported failures are retried from the first failed record; failed batches reach the on-failure table;
mappings survive a server restart and resume at their checkpoints (Lambda developer guide, "Using Lambda with
DynamoDB", "Configuring partial batch response", "Retaining records of discarded batches")."""
import json
import os
import time

import pytest

from conftest import Server
from test_functions import ROLE, zipped

POWERTOOLS_HANDLER = """
import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
dynamodb = boto3.client("dynamodb")


def record_handler(record):
    image = record.dynamodb.new_image
    key = image["sk"]
    dynamodb.put_item(TableName="RESULTS", Item={
        "sk": {"S": key}, "requestId": {"S": CONTEXT[0].aws_request_id}, "event": {"S": record.event_name.name}})
    if image.get("failOnce"):
        try:
            dynamodb.put_item(TableName="RESULTS", Item={"sk": {"S": "failed-" + key}, "requestId": {"S": "-"}},
                              ConditionExpression="attribute_not_exists(sk)")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return
        raise RuntimeError("failing " + key + " once")


CONTEXT = [None]


def handler(event, context):
    CONTEXT[0] = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
"""


def make_tables(dynamodb, source, results):
    dynamodb.create_table(
        TableName=source, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    dynamodb.create_table(
        TableName=results, KeySchema=[{"AttributeName": "sk", "KeyType": "HASH"}, {"AttributeName": "requestId", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "sk", "AttributeType": "S"}, {"AttributeName": "requestId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    return dynamodb.describe_table(TableName=source)["Table"]["LatestStreamArn"]


def deliveries(dynamodb, results):
    """sk → how many invocations handled it."""
    counts = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=results):
        for item in page["Items"]:
            key = item["sk"]["S"]
            if not key.startswith("failed-"):
                counts[key] = counts.get(key, 0) + 1
    return counts


def environments_of(data_dir):
    """The pids of live processes whose working directory is under `data_dir` (the functions' environments)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            if os.readlink(f"/proc/{entry}/cwd").startswith(os.path.realpath(data_dir)):
                pids.append(int(entry))
        except OSError:
            continue
    return pids


def wait_for(condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def swift_function_code():
    """A zip whose `bootstrap` is Tests/LambdaResultsFunction, built with the tests."""
    binary = os.path.join(os.path.dirname(os.environ.get("EDDY_BIN", ".build/debug/eddy")), "LambdaResultsFunction")
    return zipped({"bootstrap": open(binary, "rb").read()}, mode={"bootstrap": 0o755})


@pytest.mark.parametrize("language", ["python", "swift"])
def test_a_batch_handler_gets_each_change_once_per_attempt_and_failures_retry_from_the_first(
        server, table_name, language):
    """Python: aws-lambda-powertools' BatchProcessor; Swift: EddyLambdaRuntime (Tests/LambdaResultsFunction)."""
    dynamodb = server.client()
    lam = server.client("lambda", read_timeout=70)
    source, results = table_name, table_name + "Results"
    stream = make_tables(dynamodb, source, results)
    for number in range(1, 6):
        item = {"pk": {"S": "p"}, "sk": {"S": f"k{number}"}}
        if number == 3:
            item["failOnce"] = {"BOOL": True}
        dynamodb.put_item(TableName=source, Item=item)
    function = f"{language}_batch_" + table_name
    if language == "python":
        lam.create_function(
            FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=30,
            Code={"ZipFile": zipped({"app.py": POWERTOOLS_HANDLER.replace("RESULTS", results)})})
    else:
        lam.create_function(
            FunctionName=function, Runtime="provided.al2023", Role=ROLE, Handler="results", Timeout=30,
            Code={"ZipFile": swift_function_code()}, Environment={"Variables": {"RESULTS_TABLE": results}})
    mapping = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=10,
        MaximumRetryAttempts=5, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert mapping["FunctionArn"].endswith(f":function:{function}") and mapping["EventSourceArn"] == stream
    assert mapping["State"] in ("Creating", "Enabled") and mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceMappingArn"].endswith(":event-source-mapping:" + mapping["UUID"])

    expected = {"k1": 1, "k2": 1, "k3": 2, "k4": 2, "k5": 2}
    assert wait_for(lambda: deliveries(dynamodb, results) == expected), deliveries(dynamodb, results)
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == "OK"
    assert [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]] == [mapping["UUID"]]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]] == [mapping["UUID"]]

    with pytest.raises(lam.exceptions.ResourceConflictException) as duplicate:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST")
    assert mapping["UUID"] in duplicate.value.response["Error"]["Message"]

    disabled = lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    assert disabled["State"] in ("Disabling", "Disabled")
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled")
    dynamodb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"S": "k6"}})
    time.sleep(1)
    assert "k6" not in deliveries(dynamodb, results)
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True, BatchSize=5)
    assert wait_for(lambda: deliveries(dynamodb, results).get("k6") == 1)
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == 5

    deleted = lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert deleted["State"] == "Deleting"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=mapping["UUID"])


def test_timeouts_crashes_and_poison_records_reach_the_on_failure_table(server, table_name):
    dynamodb = server.client()
    lam = server.client("lambda", read_timeout=70)
    source, results, failures = table_name, table_name + "Results", table_name + "Failures"
    stream = make_tables(dynamodb, source, results)
    dynamodb.create_table(
        TableName=failures, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    function = "poison_" + table_name
    lam.create_function(
        FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=1,
        Code={"ZipFile": zipped({"app.py": """
import os, time

def handler(event, context):
    for record in event["Records"]:
        kind = record["dynamodb"]["NewImage"]["sk"]["S"]
        if kind == "timeout":
            time.sleep(5)
        if kind == "crash":
            os._exit(9)
        if kind == "poison":
            raise ValueError("poison")
"""})})
    lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=1,
        MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": f"arn:aws:dynamodb:us-east-1:000000000000:table/{failures}"}})
    broken = "broken_" + table_name
    lam.create_function(
        FunctionName=broken, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": "import module_that_is_not_there\n"})})
    lam.create_event_source_mapping(
        FunctionName=broken, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=10,
        MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": f"arn:aws:dynamodb:us-east-1:000000000000:table/{failures}"}})
    for kind in ("timeout", "crash", "poison"):
        dynamodb.put_item(TableName=source, Item={"pk": {"S": kind}, "sk": {"S": kind}})

    def failure_records():
        return dynamodb.scan(TableName=failures)["Items"]

    # Three single-record batches of the first function; the second's init error fails each of its batches,
    # which hold the three records between them.
    poison_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
    broken_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{broken}"

    def group():
        grouped = {poison_arn: [], broken_arn: []}
        for item in failure_records():
            grouped[item["functionArn"]["S"]].append(item)
        return grouped

    def complete():
        grouped = group()
        return (len(grouped[poison_arn]) == 3 and sum(int(item["batchSize"]["N"]) for item in grouped[broken_arn]) == 3
                and grouped)

    grouped = wait_for(complete) or group()
    assert len(grouped[poison_arn]) == 3, grouped
    assert sum(int(item["batchSize"]["N"]) for item in grouped[broken_arn]) == 3, grouped
    for item in grouped[poison_arn] + grouped[broken_arn]:
        assert item["condition"]["S"] == "RetryAttemptsExhausted"
        assert item["approximateInvokeCount"]["N"] == "2"
        record = json.loads(item["record"]["S"])
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert record["DDBStreamBatchInfo"]["streamArn"] == stream


def test_bad_mapping_requests_get_lambdas_errors_and_create_nothing(server, table_name):
    dynamodb = server.client()
    # The server's own checks, not botocore's: the client does not validate parameters.
    lam = server.client("lambda", parameter_validation=False)
    stream = make_tables(dynamodb, table_name, table_name + "Results")
    function = "target_" + table_name
    lam.create_function(FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zipped({"app.py": "def handler(e, c):\n    pass\n"})})

    def error(**arguments):
        with pytest.raises(lam.exceptions.ClientError) as raised:
            lam.create_event_source_mapping(**arguments)
        return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]

    base = {"FunctionName": function, "EventSourceArn": stream, "StartingPosition": "LATEST"}
    assert error(**base, BatchSize=0) == (
        "ValidationException", "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1")
    assert error(**base, ParallelizationFactor=11)[0] == "ValidationException"
    assert error(**base, MaximumRecordAgeInSeconds=30)[0] == "InvalidParameterValueException"
    assert error(**{**base, "FunctionName": "nobody_" + table_name})[0] == "ResourceNotFoundException"
    assert error(**{**base, "StartingPosition": "AT_TIMESTAMP"})[0] == "InvalidParameterValueException"
    assert error(**{**base, "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:queue"})[0] == "InvalidParameterValueException"
    assert error(**{**base, "EventSourceArn": stream.replace(table_name, "Missing" + table_name)})[0] in (
        "InvalidParameterValueException", "ResourceNotFoundException")
    kind, message = error(**base, DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}})
    assert kind == "InvalidParameterValueException" and "table ARN or a function ARN" in message
    assert error(**base, FunctionResponseTypes=["Everything"])[0] == "ValidationException"
    assert lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.update_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000", BatchSize=5)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")


def test_mappings_and_functions_survive_a_restart_and_resume_at_their_checkpoints(tmp_path):
    first = Server(data_dir=str(tmp_path))
    try:
        dynamodb = first.client()
        lam = first.client("lambda", read_timeout=70)
        stream = make_tables(dynamodb, "Source", "Results")
        lam.create_function(
            FunctionName="recorder", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": zipped({"app.py": """
import boto3

def handler(event, context):
    for record in event["Records"]:
        boto3.client("dynamodb").put_item(TableName="Results", Item={
            "sk": record["dynamodb"]["NewImage"]["sk"], "requestId": {"S": context.aws_request_id}})
"""})})
        mapping = lam.create_event_source_mapping(
            FunctionName="recorder", EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=1)
        dynamodb.put_item(TableName="Source", Item={"pk": {"S": "p"}, "sk": {"S": "before"}})
        assert wait_for(lambda: deliveries(dynamodb, "Results") == {"before": 1})
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK")
        assert environments_of(str(tmp_path)), "the function's environment should be running"
    finally:
        assert first.stop() == 0, first.final_output
    assert wait_for(lambda: not environments_of(str(tmp_path)), 5), "environments outlived the server"

    second = Server(data_dir=str(tmp_path))
    try:
        dynamodb = second.client()
        lam = second.client("lambda", read_timeout=70)
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["recorder"]
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
        dynamodb.put_item(TableName="Source", Item={"pk": {"S": "p"}, "sk": {"S": "after"}})
        assert wait_for(lambda: deliveries(dynamodb, "Results") == {"before": 1, "after": 1})
    finally:
        assert second.stop() == 0, second.final_output


def test_a_configuration_file_declares_functions_and_triggers_to_them(tmp_path):
    code = tmp_path / "functions" / "copier"
    code.mkdir(parents=True)
    (code / "app.py").write_text("""
import boto3

def handler(event, context):
    for record in event["Records"]:
        boto3.client("dynamodb").put_item(TableName="Results", Item={
            "sk": record["dynamodb"]["Keys"]["sk"], "requestId": {"S": context.aws_request_id}})
""")
    (tmp_path / "eddy.yaml").write_text("""
Tables:
  - TableName: Source
    KeySchema: [{ AttributeName: pk, KeyType: HASH }, { AttributeName: sk, KeyType: RANGE }]
    AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }, { AttributeName: sk, AttributeType: S }]
    BillingMode: PAY_PER_REQUEST
    StreamSpecification: { StreamEnabled: true, StreamViewType: KEYS_ONLY }
  - TableName: Results
    KeySchema: [{ AttributeName: sk, KeyType: HASH }, { AttributeName: requestId, KeyType: RANGE }]
    AttributeDefinitions: [{ AttributeName: sk, AttributeType: S }, { AttributeName: requestId, AttributeType: S }]
    BillingMode: PAY_PER_REQUEST
Functions:
  - FunctionName: copier
    Runtime: python3.12
    Handler: app.handler
    CodeDirectory: functions/copier
    Timeout: 20
Triggers:
  - Name: copy-source
    TableName: Source
    Function: copier
    BatchSize: 5
    FunctionResponseTypes: [ReportBatchItemFailures]  # the handler returns None: a complete success
""")
    (tmp_path / "data").mkdir()
    server = Server("--config", str(tmp_path / "eddy.yaml"), data_dir=str(tmp_path / "data"))
    try:
        lam = server.client("lambda")
        assert lam.get_function_configuration(FunctionName="copier")["Timeout"] == 20
        mappings = lam.list_event_source_mappings(FunctionName="copier")["EventSourceMappings"]
        assert len(mappings) == 1 and mappings[0]["BatchSize"] == 5
        dynamodb = server.client()
        for key in ("a", "b", "c"):
            dynamodb.put_item(TableName="Source", Item={"pk": {"S": "p"}, "sk": {"S": key}})
        assert wait_for(lambda: deliveries(dynamodb, "Results") == {"a": 1, "b": 1, "c": 1})
    finally:
        assert server.stop() == 0, server.final_output


def test_update_disable_enable_and_delete_while_a_batch_is_in_flight(server, table_name):
    dynamodb = server.client()
    lam = server.client("lambda", read_timeout=70)
    source, results = table_name, table_name + "Results"
    stream = make_tables(dynamodb, source, results)
    function = "slow_" + table_name
    lam.create_function(
        FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=30,
        Code={"ZipFile": zipped({"app.py": f"""
import boto3, time

def handler(event, context):
    for record in event["Records"]:
        boto3.client("dynamodb").put_item(TableName="{results}", Item={{
            "sk": record["dynamodb"]["NewImage"]["sk"], "requestId": {{"S": context.aws_request_id}}}})
    time.sleep(2)
"""})})
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=1)["UUID"]

    def in_flight(key):
        dynamodb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"S": key}})
        assert wait_for(lambda: key in deliveries(dynamodb, results))

    def settles(state):
        return wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == state)

    in_flight("a")
    # Answered while the batch is in flight: had the update waited for it, it would answer Enabled.
    assert lam.update_event_source_mapping(UUID=uuid, BatchSize=2)["State"] == "Updating"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Updating"
    with pytest.raises(lam.exceptions.ResourceInUseException):
        lam.update_event_source_mapping(UUID=uuid, BatchSize=3)
    assert settles("Enabled") and lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 2

    in_flight("b")
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert settles("Disabled")
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert settles("Enabled")

    in_flight("c")
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    assert wait_for(lambda: not lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"])
    dynamodb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"S": "d"}})
    time.sleep(2.5)
    # Each batch in flight ended and was checkpointed: nothing was delivered twice, nothing after the delete.
    assert deliveries(dynamodb, results) == {"a": 1, "b": 1, "c": 1}


def test_a_function_on_failure_destination_gets_lambdas_invocation_record(server, table_name):
    dynamodb = server.client()
    lam = server.client("lambda", read_timeout=70)
    source, results = table_name, table_name + "Results"
    stream = make_tables(dynamodb, source, results)
    failing, receiver = "failing_" + table_name, "receiver_" + table_name
    lam.create_function(
        FunctionName=failing, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": "def handler(event, context):\n    raise RuntimeError('always')\n"})})
    receiver_arn = lam.create_function(
        FunctionName=receiver, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": f"""
import boto3, json
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

def handler(event, context):
    record = DynamoDBStreamLambdaOnFailureDestinationModel(**event)
    boto3.client("dynamodb").put_item(TableName="{results}", Item={{
        "sk": {{"S": record.request_context.function_arn}}, "requestId": {{"S": record.request_context.request_id}},
        "condition": {{"S": record.request_context.condition}},
        "batchSize": {{"N": str(record.ddb_stream_batch_info.batch_size)}}}})
"""})})["FunctionArn"]
    lam.create_event_source_mapping(
        FunctionName=failing, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=1, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": receiver_arn}})
    dynamodb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"S": "only"}})
    items = wait_for(lambda: dynamodb.scan(TableName=results)["Items"])
    assert len(items) == 1
    assert items[0]["sk"]["S"] == f"arn:aws:lambda:us-east-1:000000000000:function:{failing}"
    assert items[0]["condition"]["S"] == "RetryAttemptsExhausted" and items[0]["batchSize"]["N"] == "1"
