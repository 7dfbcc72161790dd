"""The server demo's client: boto3, unchanged, against `eddy serve` at the endpoint given as the first argument.

Signs users up, changes one user's plan and deletes another, reads the changes back with the DynamoDB Streams
API, and shows the UsersPerPlan table the server keeps from the stream (declared in eddy.yaml)."""
import sys
import time

import boto3

endpoint = sys.argv[1]
session = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="demo", aws_secret_access_key="demo")
dynamodb = boto3.client("dynamodb", **session)
streams = boto3.client("dynamodbstreams", **session)

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
