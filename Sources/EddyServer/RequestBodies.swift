import Eddy

/// The item operations' and GetRecords' requests, read from the parsed body (``JSONReader``) without Foundation's
/// `JSONDecoder`: the members in the order their `Decodable` conformances decode them, so that the first
/// failure reported is the one `JSONDecoder` reports (a differential test holds both paths to it).
extension GetItemInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
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
    package init(json: JSONValue) throws(JSONDecodingFailure) {
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

extension DeleteItemInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            tableName: try object.required("TableName"),
            key: try object.required("Key"),
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

extension UpdateItemInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            tableName: try object.required("TableName"),
            key: try object.required("Key"),
            attributeUpdates: try object.optional("AttributeUpdates"),
            returnValues: try object.optional("ReturnValues"),
            updateExpression: try object.optional("UpdateExpression"),
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

extension AttributeValueUpdate: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(value: try object.optional("Value"), action: try object.optional("Action"))
    }
}

extension BatchGetItemInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(requestItems: try object.required("RequestItems"), returnConsumedCapacity: try object.optional("ReturnConsumedCapacity"))
    }
}

extension KeysAndAttributes: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            keys: try object.required("Keys"),
            consistentRead: try object.optional("ConsistentRead"),
            attributesToGet: try object.optional("AttributesToGet"),
            projectionExpression: try object.optional("ProjectionExpression"),
            expressionAttributeNames: try object.optional("ExpressionAttributeNames"))
    }
}

extension BatchWriteItemInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            requestItems: try object.required("RequestItems"),
            returnItemCollectionMetrics: try object.optional("ReturnItemCollectionMetrics"),
            returnConsumedCapacity: try object.optional("ReturnConsumedCapacity"))
    }
}

extension WriteRequest: JSONDecodable {
    /// Either request, both or neither, as the `Decodable` conformance reads it (the engine refuses all but one).
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        let put: PutRequest? = try object.optional("PutRequest")
        let delete: DeleteRequest? = try object.optional("DeleteRequest")
        self.init(deleteRequest: DeleteRequest(key: [:]))
        putRequest = put
        deleteRequest = delete
    }
}

extension PutRequest: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        self.init(item: try JSONObject(json: json).required("Item"))
    }
}

extension DeleteRequest: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        self.init(key: try JSONObject(json: json).required("Key"))
    }
}

extension QueryInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        // Read in the order of the members' declarations, which the initializer's parameters do not follow.
        let tableName: String = try object.required("TableName")
        let indexName: String? = try object.optional("IndexName")
        let keyConditions: [String: Condition]? = try object.optional("KeyConditions")
        let keyConditionExpression: String? = try object.optional("KeyConditionExpression")
        let scanIndexForward: Bool? = try object.optional("ScanIndexForward")
        let limit: Int? = try object.optional("Limit")
        let exclusiveStartKey: Item? = try object.optional("ExclusiveStartKey")
        let select: Select? = try object.optional("Select")
        let attributesToGet: [String]? = try object.optional("AttributesToGet")
        let filterExpression: String? = try object.optional("FilterExpression")
        let queryFilter: [String: Condition]? = try object.optional("QueryFilter")
        let conditionalOperator: ConditionalOperator? = try object.optional("ConditionalOperator")
        let projectionExpression: String? = try object.optional("ProjectionExpression")
        let expressionAttributeNames: [String: String]? = try object.optional("ExpressionAttributeNames")
        let expressionAttributeValues: [String: AttributeValue]? = try object.optional("ExpressionAttributeValues")
        self.init(
            tableName: tableName, indexName: indexName, keyConditions: keyConditions, keyConditionExpression: keyConditionExpression,
            scanIndexForward: scanIndexForward, limit: limit, exclusiveStartKey: exclusiveStartKey, select: select,
            attributesToGet: attributesToGet, consistentRead: try object.optional("ConsistentRead"), filterExpression: filterExpression,
            projectionExpression: projectionExpression, expressionAttributeNames: expressionAttributeNames,
            expressionAttributeValues: expressionAttributeValues, queryFilter: queryFilter, conditionalOperator: conditionalOperator,
            returnConsumedCapacity: try object.optional("ReturnConsumedCapacity"))
    }
}

extension Condition: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(try object.required("ComparisonOperator"), [])
        attributeValueList = try object.optional("AttributeValueList")
    }
}

extension GetRecordsInput: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(shardIterator: try object.required("ShardIterator"), limit: try object.optional("Limit"))
    }
}

extension ExpectedAttributeValue: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(
            value: try object.optional("Value"),
            exists: try object.optional("Exists"),
            comparisonOperator: try object.optional("ComparisonOperator"),
            attributeValueList: try object.optional("AttributeValueList"))
    }
}

extension AttributeAction: JSONDecodable {}
extension ReturnValue: JSONDecodable {}
extension Select: JSONDecodable {}
extension ReturnValuesOnConditionCheckFailure: JSONDecodable {}
extension ReturnConsumedCapacity: JSONDecodable {}
extension ReturnItemCollectionMetrics: JSONDecodable {}
extension ConditionalOperator: JSONDecodable {}
extension ComparisonOperator: JSONDecodable {}
