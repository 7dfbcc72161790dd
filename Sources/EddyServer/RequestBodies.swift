import Eddy

/// The item operations' requests, read from the parsed body (``JSONReader``) without Foundation's
/// `JSONDecoder`: the members in the order their `Decodable` conformances decode them, so that the first
/// failure reported is the one `JSONDecoder` reports (a differential test holds both paths to it).
extension GetItemInput: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            tableName: try object.required("TableName"),
            key: try object.required("Key"),
            consistentRead: try object.optional("ConsistentRead"),
            attributesToGet: try object.optional("AttributesToGet"),
            projectionExpression: try object.optional("ProjectionExpression"),
            expressionAttributeNames: try object.optional("ExpressionAttributeNames"),
            returnConsumedCapacity: try object.optional("ReturnConsumedCapacity"))
    }
}

extension PutItemInput: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            tableName: try object.required("TableName"),
            item: try object.required("Item"),
            returnValues: try object.optional("ReturnValues"),
            conditionExpression: try object.optional("ConditionExpression"),
            expressionAttributeNames: try object.optional("ExpressionAttributeNames"),
            expressionAttributeValues: try object.optional("ExpressionAttributeValues"),
            returnValuesOnConditionCheckFailure: try object.optional("ReturnValuesOnConditionCheckFailure"),
            expected: try object.optional("Expected"),
            conditionalOperator: try object.optional("ConditionalOperator"),
            returnItemCollectionMetrics: try object.optional("ReturnItemCollectionMetrics"),
            returnConsumedCapacity: try object.optional("ReturnConsumedCapacity"))
    }
}

extension ExpectedAttributeValue: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            value: try object.optional("Value"),
            exists: try object.optional("Exists"),
            comparisonOperator: try object.optional("ComparisonOperator"),
            attributeValueList: try object.optional("AttributeValueList"))
    }
}

extension ReturnValue: JSONDecodable {}
extension ReturnValuesOnConditionCheckFailure: JSONDecodable {}
extension ReturnConsumedCapacity: JSONDecodable {}
extension ReturnItemCollectionMetrics: JSONDecodable {}
extension ConditionalOperator: JSONDecodable {}
extension ComparisonOperator: JSONDecodable {}
