"""The dynamodbstreams client reading the records of writes made through the server."""


def test_records_of_writes_are_read_with_the_streams_client(dynamodb, streams, table_name):
    from test_dynamodb import create_orders

    description = create_orders(dynamodb, table_name, stream="NEW_AND_OLD_IMAGES")
    arn = description["LatestStreamArn"]
    key = {"customer": {"S": "gus"}, "order": {"N": "1"}}
    dynamodb.put_item(TableName=table_name, Item=dict(key, total={"N": "1"}))
    dynamodb.update_item(TableName=table_name, Key=key, UpdateExpression="SET #t = :t",
                         ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":t": {"N": "2"}})
    dynamodb.delete_item(TableName=table_name, Key=key)

    assert arn in [stream["StreamArn"] for stream in streams.list_streams(TableName=table_name)["Streams"]]
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "ENABLED"
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    records = []
    for shard in stream["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(20):
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            iterator = page.get("NextShardIterator")
            if not iterator or not page["Records"]:
                break
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["OldImage"]["total"] == {"N": "1"}
    assert records[1]["dynamodb"]["NewImage"]["total"] == {"N": "2"}
    assert records[2]["dynamodb"]["Keys"] == key
    assert all(record["eventSource"] == "aws:dynamodb" for record in records)
