// Events in the JSON shape AWS Lambda delivers for DynamoDB streams, for the tests to hand to a function.

enum LambdaEvents {
    /// A DynamoDB stream event with a tumbling window, as Lambda sends it (the Lambda Developer Guide's
    /// `DynamodbTimeWindowEvent` example, "Using AWS Lambda with Amazon DynamoDB"): an INSERT, a MODIFY whose
    /// new image asks to fail, and a REMOVE by TTL, with the window, its state, the shard and the stream.
    static let windowed = """
        {
          "Records": [
            {
              "eventID": "1",
              "eventName": "INSERT",
              "eventVersion": "1.1",
              "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1",
              "dynamodb": {
                "ApproximateCreationDateTime": 1479499740,
                "Keys": {"Id": {"N": "101"}},
                "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                "SequenceNumber": "111",
                "SizeBytes": 26,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
              },
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
            },
            {
              "eventID": "2",
              "eventName": "MODIFY",
              "eventVersion": "1.1",
              "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1",
              "dynamodb": {
                "ApproximateCreationDateTime": 1479499741,
                "Keys": {"Id": {"N": "101"}},
                "NewImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}, "fail": {"BOOL": true}},
                "OldImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                "SequenceNumber": "222",
                "SizeBytes": 59,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
              },
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
            },
            {
              "eventID": "3",
              "eventName": "REMOVE",
              "eventVersion": "1.1",
              "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1",
              "dynamodb": {
                "ApproximateCreationDateTime": 1479499742,
                "Keys": {"Id": {"N": "101"}},
                "OldImage": {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}, "Tags": {"SS": ["a", "b"]}},
                "SequenceNumber": "333",
                "SizeBytes": 38,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
              },
              "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"},
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
            }
          ],
          "window": {"start": "2020-07-30T17:00:00Z", "end": "2020-07-30T17:05:00Z"},
          "state": {"records": "4"},
          "shardId": "shard123456789",
          "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899",
          "isFinalInvokeForWindow": false,
          "isWindowTerminatedEarly": false
        }
        """

    /// An event without a window of one record per entry of `newImages` (DynamoDB JSON of each new image),
    /// with event ids `e1`, `e2`, … and sequence numbers `1`, `2`, ….
    static func inserts(_ newImages: [String]) -> String {
        let records = newImages.enumerated().map { index, newImage in
            """
            {"eventID":"e\(index + 1)","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb",\
            "awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1750000000,"Keys":{"pk":{"S":"k\(index + 1)"}},\
            "NewImage":\(newImage),"SequenceNumber":"\(index + 1)","SizeBytes":10,"StreamViewType":"NEW_IMAGE"},\
            "eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-01-01T00:00:00.000"}
            """
        }
        return #"{"Records":["# + records.joined(separator: ",") + "]}"
    }
}
