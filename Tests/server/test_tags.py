"""Tags through boto3 and the AWS CLI: TagResource, UntagResource, ListTagsOfResource (with NextToken) and `Tags`
on CreateTable, with the limits of the developer guide's "Tagging restrictions in DynamoDB" (50 tags a table, keys
of 1 to 128 and values of 0 to 256 letters, digits, spaces and `+ - = . _ : /`, `aws:` reserved) and the errors
DynamoDB answers; tags survive a restart and go with DeleteTable; an index's ARN is not a taggable resource."""
import shutil
import tempfile

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from test_cli import aws
from test_protocol import post


def create(dynamodb, name, **extra):
    return dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        **extra)["TableDescription"]


def unvalidated(server):
    """A client that sends what it is given, so that Eddy's own checks answer."""
    return server.client(parameter_validation=False)


def error(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def all_tags(dynamodb, arn):
    paginator = dynamodb.get_paginator("list_tags_of_resource")
    return [tag for page in paginator.paginate(ResourceArn=arn) for tag in page["Tags"]]


def test_tags_are_added_replaced_listed_and_removed(dynamodb, table_name):
    arn = create(dynamodb, table_name)["TableArn"]
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": ""}])
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "billing"}])
    assert all_tags(dynamodb, arn) == [{"Key": "env", "Value": ""}, {"Key": "team", "Value": "billing"}]
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["env", "never-set"])
    assert all_tags(dynamodb, arn) == [{"Key": "team", "Value": "billing"}]


def test_list_tags_of_resource_pages_with_next_token(dynamodb, table_name):
    arn = create(dynamodb, table_name)["TableArn"]
    tags = [{"Key": f"key{n:02}", "Value": str(n)} for n in range(50)]
    dynamodb.tag_resource(ResourceArn=arn, Tags=tags)
    first = dynamodb.list_tags_of_resource(ResourceArn=arn)
    assert first["Tags"] == tags[:10] and "NextToken" in first
    second = dynamodb.list_tags_of_resource(ResourceArn=arn, NextToken=first["NextToken"])
    assert second["Tags"] == tags[10:20]
    assert all_tags(dynamodb, arn) == tags


def test_create_table_tags(dynamodb, table_name):
    arn = create(dynamodb, table_name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])["TableArn"]
    assert all_tags(dynamodb, arn) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


@pytest.mark.parametrize("tags, message", [
    ([{"Key": "aws:foo", "Value": "v"}], "Tag Key cannot be prefixed with aws:, Key: aws:foo"),
    ([{"Key": "k" * 129, "Value": "v"}], "The Tag Key provided is invalid, Key: " + "k" * 129),
    ([{"Key": "k#", "Value": "v"}], "The Tag Key provided is invalid, Key: k#"),
    ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
     "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"),
    ([{"Key": f"k{n}", "Value": "v"} for n in range(51)], "Number of Tags exceed the current limit for the provided ResourceArn"),
])
def test_create_table_with_invalid_tags_creates_no_table(server, dynamodb, table_name, tags, message):
    assert error(lambda: create(unvalidated(server), table_name, Tags=tags)) == ("ValidationException", message)
    assert error(lambda: dynamodb.describe_table(TableName=table_name))[0] == "ResourceNotFoundException"


@pytest.mark.parametrize("tags, message", [
    ([], "Atleast one Tag needs to be provided as Input."),
    ([{"Key": "", "Value": "v"}], "The Tag Key provided is invalid, Key: "),
    ([{"Value": "v"}], "The Tag Key provided is invalid, Key: null"),
    ([{"Key": "k"}], "The Tag Value provided is invalid, Value: null"),
    ([{"Key": "k", "Value": "v" * 257}], "The Tag Value provided is invalid, Value: " + "v" * 257),
    ([{"Key": "k", "Value": "a,b"}], "The Tag Value provided is invalid, Value: a,b"),
    ([{"Key": "good", "Value": "v"}, {"Key": "aws:zzz", "Value": "v"}], "Tag Key cannot be prefixed with aws:, Key: aws:zzz"),
    ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
     "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"),
])
def test_invalid_tags_are_refused_and_nothing_changes(server, dynamodb, table_name, tags, message):
    arn = create(dynamodb, table_name, Tags=[{"Key": "kept", "Value": "yes"}])["TableArn"]
    code, text = error(lambda: unvalidated(server).tag_resource(ResourceArn=arn, Tags=tags))
    assert (code, text) == ("ValidationException", message)
    assert all_tags(dynamodb, arn) == [{"Key": "kept", "Value": "yes"}]


def test_letters_of_any_script_and_the_length_limits_are_accepted(dynamodb, table_name):
    arn = create(dynamodb, table_name)["TableArn"]
    tags = [{"Key": "ключ", "Value": "café 表"}, {"Key": "a+b-c=d.e_f:g/h", "Value": "x y"},
            {"Key": "k" * 128, "Value": "v" * 256}]
    dynamodb.tag_resource(ResourceArn=arn, Tags=tags)
    assert sorted(all_tags(dynamodb, arn), key=lambda tag: tag["Key"]) == sorted(tags, key=lambda tag: tag["Key"])


def test_a_table_holds_fifty_tags(dynamodb, table_name):
    arn = create(dynamodb, table_name)["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(30)])
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{n}", "Value": "w"} for n in range(20, 50)])
    assert len(all_tags(dynamodb, arn)) == 50
    code, message = error(lambda: dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}]))
    assert (code, message) == ("ValidationException", "Number of Tags exceed the current limit for the provided ResourceArn")


@pytest.mark.parametrize("keys, message", [
    ([], "Atleast one Tag Key needs to be provided as Input."),
    ([""], "The Tag Key provided is invalid, Key: "),
    ([f"k{n}" for n in range(51)], "Number of Tags exceed the current limit for the provided ResourceArn"),
])
def test_invalid_untag_requests_are_refused(server, dynamodb, table_name, keys, message):
    arn = create(dynamodb, table_name)["TableArn"]
    assert error(lambda: unvalidated(server).untag_resource(ResourceArn=arn, TagKeys=keys)) == ("ValidationException", message)


def test_index_and_stream_arns_are_not_taggable(dynamodb, table_name):
    description = dynamodb.create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    for arn in (description["GlobalSecondaryIndexes"][0]["IndexArn"], description["LatestStreamArn"]):
        expected = ("ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        assert error(lambda: dynamodb.list_tags_of_resource(ResourceArn=arn)) == expected
        assert error(lambda: dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])) == expected
        assert error(lambda: dynamodb.untag_resource(ResourceArn=arn, TagKeys=["k"])) == expected


@pytest.mark.parametrize("arn, code, message", [
    ("Orders", "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input Orders"),
    ("arn:aws:dynamodb:eu-west-1:000000000000:table/Orders", "ValidationException",
     "Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:eu-west-1:000000000000:table/Orders"),
    ("arn:aws:dynamodb:us-east-1:111111111111:table/Orders", "AccessDeniedException",
     "User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: "
     "arn:aws:dynamodb:us-east-1:111111111111:table/Orders because no resource-based policy allows the "
     "dynamodb:ListTagsOfResource action"),
    ("arn:aws:dynamodb:us-east-1:000000000000:table/NoSuchTable", "ResourceNotFoundException",
     "Requested resource not found: ResourcArn: arn:aws:dynamodb:us-east-1:000000000000:table/NoSuchTable not found"),
])
def test_an_arn_that_names_no_table_of_this_server_is_refused(dynamodb, arn, code, message):
    assert error(lambda: dynamodb.list_tags_of_resource(ResourceArn=arn)) == (code, message)


def test_errors_carry_their_namespaces(server):
    status, _, body = post(server, "DynamoDB_20120810.ListTagsOfResource",
                           {"ResourceArn": "arn:aws:dynamodb:us-east-1:111111111111:table/Orders"})
    assert status == 400 and b'"com.amazon.coral.service#AccessDeniedException"' in body
    status, _, body = post(server, "DynamoDB_20120810.ListTagsOfResource",
                           {"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/NoSuchTable"})
    assert status == 400 and b'"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"' in body
    status, _, body = post(server, "DynamoDB_20120810.TagResource", {"ResourceArn": "x"})
    assert status == 400 and b"Value null at 'tags' failed to satisfy constraint: Member must not be null" in body


def test_tags_go_with_delete_table(dynamodb, table_name):
    arn = create(dynamodb, table_name, Tags=[{"Key": "team", "Value": "payments"}])["TableArn"]
    dynamodb.delete_table(TableName=table_name)
    assert error(lambda: dynamodb.list_tags_of_resource(ResourceArn=arn))[0] == "ResourceNotFoundException"
    create(dynamodb, table_name)
    assert all_tags(dynamodb, arn) == []


def test_tags_survive_a_restart():
    directory = tempfile.mkdtemp(prefix="eddy-tags-")
    try:
        first = Server(data_dir=directory)
        try:
            dynamodb = first.client()
            arn = create(dynamodb, "Tagged", Tags=[{"Key": "team", "Value": "payments"}])["TableArn"]
            dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
        finally:
            assert first.stop() == 0
        second = Server(data_dir=directory)
        try:
            assert all_tags(second.client(), arn) == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "payments"}]
        finally:
            second.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_aws_cli_tags_untags_and_lists(server, table_name):
    arn = aws(server, "dynamodb", "create-table", "--table-name", table_name,
              "--attribute-definitions", "AttributeName=pk,AttributeType=S",
              "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST",
              "--tags", "Key=owner,Value=blueTeam")["TableDescription"]["TableArn"]
    aws(server, "dynamodb", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=prod", "Key=tier,Value=1")
    aws(server, "dynamodb", "untag-resource", "--resource-arn", arn, "--tag-keys", "tier")
    listed = aws(server, "dynamodb", "list-tags-of-resource", "--resource-arn", arn)
    assert listed["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "blueTeam"}]
    many = [f"Key=k{n:02},Value=v" for n in range(25)]
    aws(server, "dynamodb", "tag-resource", "--resource-arn", arn, "--tags", *many)
    assert len(aws(server, "dynamodb", "list-tags-of-resource", "--resource-arn", arn)["Tags"]) == 27
