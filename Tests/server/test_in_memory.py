"""`eddy serve --in-memory` (as DynamoDB Local's -inMemory): the same engine on RocksDB's in-memory environment,
driven by boto3. Nothing is written to disk (neither the working directory nor --data-dir's default), functions'
code lives in a temporary directory removed when the server stops, everything is gone at the next start, and
SIGTERM closes the server, then the databases, and exits with status 0."""
import os
import shutil
import signal
import subprocess
import tempfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import CREDENTIALS, free_port, wait_until_healthy
from test_functions import ROLE, invoke, zipped


class InMemoryServer:
    """`eddy serve --in-memory` started in an empty working directory, with an empty TMPDIR of its own."""

    def __init__(self):
        self.binary = os.path.abspath(os.environ.get("EDDY_BIN", ".build/debug/eddy"))
        self.root = tempfile.mkdtemp(prefix="eddy-in-memory-test-")
        self.cwd = os.path.join(self.root, "cwd")
        self.tmp = os.path.join(self.root, "tmp")
        os.mkdir(self.cwd)
        os.mkdir(self.tmp)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.root, "server.log")
        self.log = open(self.log_path, "a+")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--in-memory", "--port", str(self.port)], cwd=self.cwd,
            env={**os.environ, "TMPDIR": self.tmp}, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_healthy(self)

    def output(self):
        self.log.flush()
        with open(self.log_path) as log:
            return log.read()

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed after 20 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode

    def files(self):
        """Every file and directory under the working directory and TMPDIR."""
        found = []
        for top in (self.cwd, self.tmp):
            for directory, subdirectories, names in os.walk(top):
                found += [os.path.join(directory, name) for name in subdirectories + names]
        return found

    def client(self, service="dynamodb", region="us-east-1"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            config=Config(retries={"max_attempts": 1}, read_timeout=70), **CREDENTIALS)

    def cleanup(self):
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def in_memory():
    started = InMemoryServer()
    yield started
    started.stop()
    started.cleanup()


def create_orders(dynamodb):
    dynamodb.create_table(
        TableName="Orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "status", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        GlobalSecondaryIndexes=[{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def stream_keys(server, arn):
    streams = server.client("dynamodbstreams")
    keys = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        keys += [record["dynamodb"]["Keys"]["pk"]["S"] for record in streams.get_records(ShardIterator=iterator)["Records"]]
    return sorted(keys)


def test_items_indexes_streams_and_transactions_work_in_memory_and_write_no_file(in_memory):
    dynamodb = in_memory.client()
    create_orders(dynamodb)
    dynamodb.put_item(TableName="Orders", Item={"pk": {"S": "o1"}, "status": {"S": "open"}})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "Orders", "Item": {"pk": {"S": "o2"}, "status": {"S": "open"}}}},
        {"Put": {"TableName": "Orders", "Item": {"pk": {"S": "o3"}, "status": {"S": "shipped"}}}},
    ])
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "Orders", "Item": {"pk": {"S": "o4"}, "status": {"S": "open"}}}},
            {"Put": {"TableName": "Orders", "Item": {"pk": {"S": "o1"}, "status": {"S": "lost"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert dynamodb.get_item(TableName="Orders", Key={"pk": {"S": "o1"}})["Item"]["status"] == {"S": "open"}
    open_orders = dynamodb.query(TableName="Orders", IndexName="byStatus", KeyConditionExpression="#s = :open",
                                 ExpressionAttributeNames={"#s": "status"},
                                 ExpressionAttributeValues={":open": {"S": "open"}})["Items"]
    assert sorted(item["pk"]["S"] for item in open_orders) == ["o1", "o2"]
    arn = dynamodb.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    assert stream_keys(in_memory, arn) == ["o1", "o2", "o3"]
    # Another Region's tables are kept apart, in memory too.
    west = in_memory.client(region="us-west-2")
    assert west.list_tables()["TableNames"] == []
    west.create_table(TableName="West", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    west.put_item(TableName="West", Item={"pk": {"S": "w1"}})
    assert dynamodb.list_tables()["TableNames"] == ["Orders"]
    # While it runs, only the functions' temporary directory exists, empty: no table is in a file.
    functions = [path for path in in_memory.files() if os.path.basename(path).startswith("eddy-functions-")]
    assert in_memory.files() == functions and len(functions) == 1 and functions[0].startswith(in_memory.tmp)
    assert in_memory.stop() == 0
    assert in_memory.files() == []
    assert "Eddy is serving an in-memory database at" in in_memory.output()


def test_sigterm_exits_with_status_0_and_the_next_start_has_nothing(in_memory):
    dynamodb = in_memory.client()
    create_orders(dynamodb)
    for index in range(50):
        dynamodb.put_item(TableName="Orders", Item={"pk": {"S": f"o{index}"}, "status": {"S": "open"}})
    assert in_memory.stop() == 0, in_memory.output()
    again = InMemoryServer()
    try:
        assert again.client().list_tables()["TableNames"] == []
        assert again.stop() == 0, again.output()
    finally:
        again.cleanup()


def test_functions_code_lives_in_a_temporary_directory_removed_when_the_server_stops(in_memory):
    lam = in_memory.client("lambda")
    lam.create_function(FunctionName="echo", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zipped({"app.py": "def handler(event, context):\n    return event\n"})})
    response, payload = invoke(lam, "echo", {"hello": "in memory"})
    assert response["StatusCode"] == 200 and payload == b'{"hello": "in memory"}'
    # The function's code is kept under TMPDIR, not in the working directory.
    assert in_memory.files() and all(path.startswith(in_memory.tmp) for path in in_memory.files())
    assert in_memory.stop() == 0, in_memory.output()
    assert in_memory.files() == []


@pytest.mark.parametrize("arguments, message", [
    (["--data-dir", "kept"], "--in-memory writes nothing to disk: it takes no --data-dir"),
    (["--data-dir=/tmp/eddy-in-memory-test-kept"], "--in-memory writes nothing to disk: it takes no --data-dir"),
])
def test_in_memory_refuses_a_data_directory(arguments, message):
    root = tempfile.mkdtemp(prefix="eddy-in-memory-test-")
    try:
        binary = os.path.abspath(os.environ.get("EDDY_BIN", ".build/debug/eddy"))
        finished = subprocess.run([binary, "serve", "--in-memory", *arguments, "--port", str(free_port())], cwd=root,
                                  capture_output=True, text=True, timeout=60)
        assert finished.returncode != 0
        assert message in finished.stderr
        assert os.listdir(root) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
