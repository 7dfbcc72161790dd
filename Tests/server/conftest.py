"""Starts `eddy serve` on a free loopback port with a temporary data directory, and stops it after; starts a
noida-db Kafka broker or Elasticsearch service for the tests that need one.

The binary is $EDDY_BIN (scripts/test.sh sets it to the debug build's `eddy`)."""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(server):
    """Waits until `server` (with `process`, `endpoint`, `output()` and `stop()`) answers GET /health; stops it
    and raises if it exits or does not answer within 30 s."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"eddy serve exited with {server.process.returncode}: {server.output()}")
        try:
            with urllib.request.urlopen(server.endpoint + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("eddy serve did not answer /health within 30 s")


class Server:
    def __init__(self, *extra_arguments, data_dir=None):
        self.binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
        self.keep_data = data_dir is not None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="eddy-server-test-")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.data_dir, "server.log"), "a+")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", os.path.join(self.data_dir, "db"), "--port", str(self.port),
             *extra_arguments],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_healthy(self)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        """Stops the server with SIGTERM (SIGKILL after 20 s) and returns its exit status; what it printed stays
        in `final_output`. Stopping it again changes nothing."""
        if self.log.closed:
            return self.process.returncode
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.final_output = self.output()
        self.log.close()
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.process.returncode

    def client(self, service="dynamodb", **config):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            config=Config(retries={"max_attempts": 1}, **config), **CREDENTIALS)

    def resource(self):
        return boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS)

    def admin(self, method, path, body=None, secret=None):
        """Sends a request of Eddy's admin API (`/eddy/2026-12-01/<path>`), signed by botocore for service `eddy`;
        `body` is JSON (a dict), or bytes sent as they are. Returns the status and the JSON answer."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        request = AWSRequest(method=method, url=f"{self.endpoint}/eddy/2026-12-01/{path}", data=data,
                             headers={"Content-Type": "application/json"} if data else {})
        credentials = Credentials(CREDENTIALS["aws_access_key_id"], secret or CREDENTIALS["aws_secret_access_key"])
        SigV4Auth(credentials, "eddy", REGION).add_auth(request)
        prepared = request.prepare()
        sent = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers), method=method)
        try:
            with urllib.request.urlopen(sent, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture(scope="session")
def server():
    started = Server()
    yield started
    started.stop()


@pytest.fixture
def dynamodb(server):
    return server.client()


@pytest.fixture
def streams(server):
    return server.client("dynamodbstreams")


_table_number = [0]


@pytest.fixture
def table_name():
    """A table name no other test uses."""
    _table_number[0] += 1
    return f"Test{_table_number[0]}_{os.getpid()}"


@contextlib.contextmanager
def noida_service(service):
    """noida-db's `service` on a free loopback port (yielded) once it accepts connections, stopped after."""
    data = tempfile.mkdtemp(prefix="eddy-noida-")
    port = free_port()
    subprocess.run(["noida-db", "up", "--only", service, f"--{service}-port", str(port), "--data-dir", data],
                   check=True, capture_output=True, timeout=60)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        subprocess.run(["noida-db", "down", "--data-dir", data], capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def kafka_broker():
    """A noida-db Kafka broker on a free loopback port, stopped after the test."""
    with noida_service("kafka") as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def elasticsearch():
    """noida-db's Elasticsearch on a free loopback port (its URL), stopped after the test."""
    with noida_service("elasticsearch") as port:
        yield f"http://127.0.0.1:{port}"
