"""The server demo's client: boto3, unchanged, against `eddy serve` at the endpoint given as the first argument.

Creates a Python Lambda function that welcomes new users and maps the Users stream to it (Lambda's API), signs
users up, changes one user's plan and deletes another, reads the changes back with the DynamoDB Streams API, and
shows the UsersPerPlan table the server keeps from the stream (declared in eddy.yaml) and the welcomes the
function wrote."""
import io
import sys
import time
import zipfile

import boto3

endpoint = sys.argv[1]
session = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="demo", aws_secret_access_key="demo")
dynamodb = boto3.client("dynamodb", **session)
streams = boto3.client("dynamodbstreams", **session)
lam = boto3.client("lambda", **session)

WELCOME = """
import boto3

dynamodb = boto3.client("dynamodb")  # AWS_ENDPOINT_URL points back at Eddy


def handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            user = record["dynamodb"]["NewImage"]["id"]
            dynamodb.put_item(TableName="Welcomes", Item={"id": user, "message": {"S": "Welcome, " + user["S"] + "!"}})
"""
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as archive:
    archive.writestr("welcome.py", WELCOME)
try:
    dynamodb.create_table(TableName="Welcomes", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    lam.create_function(FunctionName="welcome", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/demo",
                        Handler="welcome.handler", Code={"ZipFile": code.getvalue()})
    users_stream = dynamodb.describe_table(TableName="Users")["Table"]["LatestStreamArn"]
    lam.create_event_source_mapping(FunctionName="welcome", EventSourceArn=users_stream, StartingPosition="TRIM_HORIZON")
except (dynamodb.exceptions.ResourceInUseException, lam.exceptions.ResourceConflictException):
    pass  # a data directory the demo ran on before
print("Function welcome (python3.12) maps the Users stream")

users = [("ada", "pro"), ("bob", "free"), ("cy", "free"), ("dee", "team"), ("eve", "pro"), ("fay", "free")]
for name, plan in users:
    dynamodb.put_item(TableName="Users", Item={"id": {"S": name}, "plan": {"S": plan}})
dynamodb.update_item(TableName="Users", Key={"id": {"S": "bob"}}, UpdateExpression="SET #p = :p",
                     ExpressionAttributeNames={"#p": "plan"}, ExpressionAttributeValues={":p": {"S": "pro"}})
dynamodb.delete_item(TableName="Users", Key={"id": {"S": "cy"}})
print(f"Users: {dynamodb.scan(TableName='Users', Select='COUNT')['Count']} items after 6 sign-ups, 1 plan change, 1 deletion")

arn = dynamodb.describe_table(TableName="Users")["Table"]["LatestStreamArn"]
records = []
for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records += streams.get_records(ShardIterator=iterator)["Records"]
print(f"The stream holds {len(records)} records:")
for record in sorted(records, key=lambda record: record["dynamodb"]["SequenceNumber"]):
    image = record["dynamodb"].get("NewImage") or record["dynamodb"]["OldImage"]
    print(f"  {record['eventName']:<6} {image['id']['S']:<4} plan={image['plan']['S']}")

expected = {"pro": 3, "free": 1, "team": 1}
deadline = time.time() + 30
while True:
    counts = {item["plan"]["S"]: int(item["users"]["N"]) for item in dynamodb.scan(TableName="UsersPerPlan")["Items"]}
    counts = {plan: count for plan, count in counts.items() if count}
    if counts == expected or time.time() > deadline:
        break
    time.sleep(0.2)
print("UsersPerPlan, kept by the server from the stream:", dict(sorted(counts.items())))
if counts != expected:
    sys.exit(f"expected {expected}")

while True:
    welcomes = sorted(item["message"]["S"] for item in dynamodb.scan(TableName="Welcomes")["Items"])
    if len(welcomes) >= len(users) or time.time() > deadline:
        break
    time.sleep(0.2)
print("Welcomes, written by the function:", ", ".join(welcomes))
if len(welcomes) != len(users):
    sys.exit(f"expected {len(users)} welcomes")
