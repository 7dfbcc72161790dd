"""The AWS CLI against `eddy serve`."""
import json
import os
import subprocess


def aws(server, *arguments):
    environment = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    result = subprocess.run(
        ["aws", "--endpoint-url", server.endpoint, "--output", "json", *arguments],
        capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_the_aws_cli_creates_writes_queries_scans_and_reads_the_stream(server, table_name):
    created = aws(server, "dynamodb", "create-table", "--table-name", table_name,
                  "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
                  "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
                  "--billing-mode", "PAY_PER_REQUEST",
                  "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_IMAGE")
    assert created["TableDescription"]["TableStatus"] == "ACTIVE"
    aws(server, "dynamodb", "wait", "table-exists", "--table-name", table_name)
    for number in range(3):
        aws(server, "dynamodb", "put-item", "--table-name", table_name,
            "--item", json.dumps({"pk": {"S": "p"}, "sk": {"N": str(number)}, "v": {"S": f"v{number}"}}))
    queried = aws(server, "dynamodb", "query", "--table-name", table_name,
                  "--key-condition-expression", "pk = :p", "--expression-attribute-values", '{":p": {"S": "p"}}')
    assert [item["sk"]["N"] for item in queried["Items"]] == ["0", "1", "2"]
    scanned = aws(server, "dynamodb", "scan", "--table-name", table_name)
    assert scanned["Count"] == 3

    arn = created["TableDescription"]["LatestStreamArn"]
    shards = aws(server, "dynamodbstreams", "describe-stream", "--stream-arn", arn)["StreamDescription"]["Shards"]
    images = []
    for shard in shards:
        iterator = aws(server, "dynamodbstreams", "get-shard-iterator", "--stream-arn", arn,
                       "--shard-id", shard["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        records = aws(server, "dynamodbstreams", "get-records", "--shard-iterator", iterator)["Records"]
        images += [record["dynamodb"]["NewImage"]["v"]["S"] for record in records]
    assert sorted(images) == ["v0", "v1", "v2"]
