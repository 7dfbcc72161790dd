"""The WelcomeEmail example as a Lambda function (Examples/WelcomeEmail/Function, a Swift executable on
EddyLambdaRuntime) that `eddy serve` runs for an event source mapping from the Users stream, against a real
SMTP server (aiosmtpd, Examples/WelcomeEmail/smtp_sink.py), through rounds of sign-ups each ended by kill -9 of
the server. SMTP cannot be exactly once across a crash, so every sign-up must get a mail, and every copy of a
user's mail must carry the Message-ID derived from that sign-up's INSERT eventID."""
import json
import os
import random
import shutil
import subprocess
import sys
import time

from conftest import Server

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "Examples", "WelcomeEmail")


def start_smtp_sink(directory):
    port_file = os.path.join(directory, "smtp-port")
    sink = subprocess.Popen(
        [sys.executable, os.path.join(EXAMPLE, "smtp_sink.py"), "--mailbox", os.path.join(directory, "mailbox.jsonl"),
         "--port-file", port_file, "--delay", "0.05", "--stop-on-stdin-eof"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(port_file) and open(port_file).read().strip():
            return sink, int(open(port_file).read().strip())
        time.sleep(0.05)
    sink.kill()
    raise RuntimeError("the SMTP sink did not start")


def mails(directory):
    path = os.path.join(directory, "mailbox.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def configuration(directory, smtp_port):
    code = os.path.join(directory, "code")
    os.makedirs(code, exist_ok=True)
    binary = os.path.join(os.path.dirname(os.environ.get("EDDY_BIN", ".build/debug/eddy")), "WelcomeEmailFunction")
    shutil.copy(binary, os.path.join(code, "bootstrap"))
    path = os.path.join(directory, "eddy.yaml")
    with open(path, "w") as file:
        file.write(f"""
Tables:
  - TableName: Users
    KeySchema: [{{ AttributeName: id, KeyType: HASH }}]
    AttributeDefinitions: [{{ AttributeName: id, AttributeType: S }}]
    BillingMode: PAY_PER_REQUEST
    StreamSpecification: {{ StreamEnabled: true, StreamViewType: NEW_IMAGE }}
Functions:
  - FunctionName: welcome-email
    Runtime: provided.al2023
    Handler: welcome
    CodeDirectory: code
    Timeout: 30
    Environment: {{ Variables: {{ SMTP_PORT: "{smtp_port}" }} }}
Triggers:
  - Name: welcome-email
    TableName: Users
    Function: welcome-email
    BatchSize: 10
    FunctionResponseTypes: [ReportBatchItemFailures]
    FilterCriteria: {{ Filters: [{{ Pattern: '{{"eventName": ["INSERT"]}}' }}] }}
""")
    return path


def insert_event_ids(server):
    streams = server.client("dynamodbstreams")
    arn = server.client().describe_table(TableName="Users")["Table"]["LatestStreamArn"]
    event_ids = {}
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                if record["eventName"] == "INSERT":
                    user = record["dynamodb"]["Keys"]["id"]["S"]
                    assert user not in event_ids, f"{user} has two INSERT records"
                    event_ids[user] = record["eventID"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return event_ids


def test_every_sign_up_gets_its_mail_across_kill_nine_of_the_server(tmp_path):
    directory = str(tmp_path)
    sink, smtp_port = start_smtp_sink(directory)
    config = configuration(directory, smtp_port)
    data = os.path.join(directory, "data")
    os.makedirs(data)
    signed_up = []
    interrupted = 0
    try:
        for round_number in range(5):
            server = Server("--config", config, data_dir=data)
            dynamodb = server.client()
            for number in range(round_number * 100, round_number * 100 + 24):
                user = f"user-{number}"
                dynamodb.put_item(TableName="Users", Item={
                    "id": {"S": user}, "email": {"S": f"{user}@example.com"}, "name": {"S": "Ada"}})
                signed_up.append(user)
            time.sleep(random.uniform(0.05, 0.6))
            server.process.kill()
            server.process.wait()
            server.log.close()
            mailed = {mail["rcpt_tos"][0] for mail in mails(directory)}
            if any(f"{user}@example.com" not in mailed for user in signed_up):
                interrupted += 1

        server = Server("--config", config, data_dir=data)
        try:
            dynamodb = server.client()
            for number in range(900, 906):
                user = f"user-{number}"
                dynamodb.put_item(TableName="Users", Item={"id": {"S": user}, "email": {"S": f"{user}@example.com"}})
                signed_up.append(user)
            deadline = time.time() + 120
            while time.time() < deadline:
                mailed = {mail["rcpt_tos"][0] for mail in mails(directory)}
                if all(f"{user}@example.com" in mailed for user in signed_up):
                    break
                time.sleep(0.2)
            event_ids = insert_event_ids(server)
            # Restarts registered the declared mapping again, not a second one beside it.
            assert len(server.client("lambda").list_event_source_mappings()["EventSourceMappings"]) == 1
        finally:
            assert server.stop() == 0, server.final_output
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)

    received = mails(directory)
    assert sorted(event_ids) == sorted(signed_up)
    for user in signed_up:
        copies = [mail for mail in received if mail["rcpt_tos"] == [f"{user}@example.com"]]
        assert copies, f"{user} got no mail"
        assert {mail["message_id"] for mail in copies} == {f"<{event_ids[user]}@welcome.eddy>"}, f"{user}: {copies}"
    assert all(mail["rcpt_tos"][0].split("@")[0] in event_ids for mail in received)
    assert interrupted > 0, "no kill left a sign-up unmailed"
    duplicates = len(received) - len({mail["rcpt_tos"][0] for mail in received})
    print(f"WelcomeEmail function: {len(signed_up)} sign-ups, {len(received)} mails, {duplicates} duplicates, "
          f"{interrupted} of 5 kills left mail pending")
