"""Application Auto Scaling for DynamoDB through boto3's `application-autoscaling` client against `eddy serve`
(issue 23): the JSON 1.1 protocol (`AnyScaleFrontendService.<Operation>`, signed for `application-autoscaling`),
the round trip of targets, policies and activities, and the errors, written from the Application Auto Scaling API
reference (RegisterScalableTarget, PutScalingPolicy, DescribeScalableTargets, DescribeScalingPolicies,
DeleteScalingPolicy, DeregisterScalableTarget, DescribeScalingActivities; ObjectNotFoundException,
ValidationException).

Scaling on load needs minutes of the database clock: it is tested in Swift with a manual clock
(AutoScalingTests); here the capacity moves only when a target is registered with bounds that exclude it."""
import json
import os
import tempfile
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, Server

READ = "dynamodb:table:ReadCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"


@pytest.fixture
def autoscaling(server):
    return server.client("application-autoscaling")


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def create(dynamodb, name, read=10, write=10):
    dynamodb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "owner", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
        GlobalSecondaryIndexes=[{
            "IndexName": "byOwner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}])


def tracking(target, metric="DynamoDBReadCapacityUtilization", **settings):
    return {"TargetValue": target, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}, **settings}


def test_targets_policies_and_activities_round_trip(dynamodb, autoscaling, table_name):
    create(dynamodb, table_name)
    resource = f"table/{table_name}"
    registered = autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ, MinCapacity=20, MaxCapacity=100)
    assert registered["ScalableTargetARN"].startswith("arn:aws:application-autoscaling:us-east-1:")
    # The capacity was below the new minimum: it is raised to it, and the change is an activity.
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 20
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 10
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"{resource}/index/byOwner", ScalableDimension=INDEX_WRITE,
        MinCapacity=1, MaxCapacity=50)

    targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[resource])["ScalableTargets"]
    assert [(t["ResourceId"], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        (resource, READ, 20, 100)]
    assert targets[0]["ScalableTargetARN"] == registered["ScalableTargetARN"]
    assert targets[0]["SuspendedState"] == {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                            "ScheduledScalingSuspended": False}
    assert targets[0]["CreationTime"].year >= 2024

    put = autoscaling.put_scaling_policy(
        PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(70, ScaleInCooldown=60, ScaleOutCooldown=30))
    assert put["PolicyARN"].endswith(f":resource/dynamodb/{resource}:policyName/reads")
    assert len(put["Alarms"]) == 2
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=resource)["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["reads"]
    assert policies[0]["PolicyARN"] == put["PolicyARN"]
    assert policies[0]["PolicyType"] == "TargetTrackingScaling"
    assert policies[0]["TargetTrackingScalingPolicyConfiguration"] == tracking(70.0, ScaleInCooldown=60, ScaleOutCooldown=30)

    activities = autoscaling.describe_scaling_activities(ServiceNamespace="dynamodb", ResourceId=resource)["ScalingActivities"]
    assert [(a["Description"], a["Cause"], a["StatusCode"]) for a in activities] == [
        ("Setting read capacity units to 20.", "minimum capacity was set to 20", "Successful")]

    autoscaling.delete_scaling_policy(PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ)
    assert autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=resource)["ScalingPolicies"] == []
    autoscaling.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ)
    remaining = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert resource not in [t["ResourceId"] for t in remaining]
    # Deleting the table takes its index's target with it.
    dynamodb.delete_table(TableName=table_name)
    remaining = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert f"{resource}/index/byOwner" not in [t["ResourceId"] for t in remaining]


def test_errors_name_their_type_and_what_is_wrong(dynamodb, autoscaling, table_name):
    create(dynamodb, table_name)
    resource = f"table/{table_name}"
    assert error_of(lambda: autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId="table/NoSuchTable", ScalableDimension=READ, MinCapacity=1, MaxCapacity=5)) == (
        "ValidationException", "DynamoDB table does not exist: table/NoSuchTable")
    assert error_of(lambda: autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=INDEX_WRITE, MinCapacity=1, MaxCapacity=5)) == (
        "ValidationException", "Unsupported service namespace, resource type or scalable dimension")
    assert error_of(lambda: autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ, MinCapacity=10, MaxCapacity=5))[0] == (
        "ValidationException")
    assert error_of(lambda: autoscaling.put_scaling_policy(
        PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ,
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=tracking(70))) == (
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: dynamodb, resource ID: {resource}, "
        f"scalable dimension: {READ}")
    assert error_of(lambda: autoscaling.deregister_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ))[0] == "ObjectNotFoundException"
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ, MinCapacity=1, MaxCapacity=50)
    assert error_of(lambda: autoscaling.put_scaling_policy(
        PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ,
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=tracking(10)))[0] == "ValidationException"
    assert error_of(lambda: autoscaling.delete_scaling_policy(
        PolicyName="nope", ServiceNamespace="dynamodb", ResourceId=resource, ScalableDimension=READ)) == (
        "ObjectNotFoundException",
        f"No scaling policy found for service namespace: dynamodb, resource ID: {resource}, scalable dimension: {READ}, "
        "policy name: nope")
    assert error_of(lambda: autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", MaxResults=51))[0] == (
        "ValidationException")
    assert error_of(lambda: autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", NextToken="garbage"))[0] == (
        "InvalidNextTokenException")


def test_requests_are_checked_as_signed_for_application_autoscaling():
    directory = tempfile.mkdtemp(prefix="eddy-credentials-")
    path = os.path.join(directory, "credentials.json")
    with open(path, "w") as file:
        json.dump({"AKIDAUTOSCALING": "secret"}, file)
    signed = Server("--credentials", path)
    try:
        def client(service):
            return boto3.client(service, endpoint_url=signed.endpoint, region_name=REGION, aws_access_key_id="AKIDAUTOSCALING",
                                aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}))
        assert client("application-autoscaling").describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"] == []
        # A DynamoDB request still needs service `dynamodb`: the two clients sign for their own services.
        assert "TableNames" in client("dynamodb").list_tables()
        # An auto scaling request signed for `dynamodb` is refused.
        body = json.dumps({"ServiceNamespace": "dynamodb"}).encode()
        request = AWSRequest(method="POST", url=signed.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AnyScaleFrontendService.DescribeScalableTargets"})
        SigV4Auth(Credentials("AKIDAUTOSCALING", "secret"), "dynamodb", REGION).add_auth(request)
        prepared = request.prepare()
        sent = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(sent, timeout=30)
        answer = json.loads(refused.value.read())
        assert answer["__type"].endswith("InvalidSignatureException")
        assert "Credential should be scoped to correct service: 'application-autoscaling'" in answer["message"]
    finally:
        signed.stop()
