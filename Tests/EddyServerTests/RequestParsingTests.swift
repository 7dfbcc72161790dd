import Eddy
import Foundation
import Testing

@testable import EddyServer

/// The item operations' direct request parsing (``RequestDecoding/parse(_:)``) against the `JSONDecoder` path
/// it replaced (``RequestDecoding/decode(_:)``): every body gets the same answer from both, an equal input or
/// an equal error (type, message, status), except that for a body that is not JSON the messages may differ
/// (Foundation's says only "The given data was not valid JSON.").
@Suite("Request parsing against JSONDecoder", .timeLimit(.minutes(5)))
struct RequestParsingTests {
    /// What a path answered: the input (as sorted JSON, for comparison) or the error.
    enum Outcome: Equatable, CustomStringConvertible {
        case decoded(String)
        case failed(WireError)

        var description: String {
            switch self {
            case .decoded(let json): "decoded \(json)"
            case .failed(let error): "\(error.type) (\(error.status)): \(error.message)"
            }
        }

        var isNotJSON: Bool {
            if case .failed(let error) = self { error.message.hasPrefix("The request body is not valid JSON") } else { false }
        }
    }

    static func outcome<Input: Codable>(_ decode: ([UInt8]) throws(WireError) -> Input, _ body: [UInt8]) -> Outcome {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return .decoded(String(decoding: try encoder.encode(try decode(body)), as: UTF8.self))
        } catch let error as WireError {
            return .failed(error)
        } catch {
            return .failed(WireError(type: "EncodingFailed", message: "\(error)"))
        }
    }

    /// Both paths' outcomes for `body` read as `Input`, required to agree.
    static func expectAgreement<Input: Codable & JSONDecodable>(_: Input.Type, _ body: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let old = outcome({ (bytes) throws(WireError) -> Input in try RequestDecoding.decode(bytes) }, body)
        let new = outcome({ (bytes) throws(WireError) -> Input in try RequestDecoding.parse(bytes) }, body)
        let text = String(decoding: body, as: UTF8.self)
        if old.isNotJSON || new.isNotJSON {
            guard case .failed(let oldError) = old, case .failed(let newError) = new else {
                Issue.record("\(text)\nold: \(old)\nnew: \(new)", sourceLocation: sourceLocation)
                return
            }
            #expect(oldError.type == "SerializationException", "\(text)", sourceLocation: sourceLocation)
            #expect(newError.type == oldError.type && newError.status == oldError.status, "\(text)\nold: \(old)\nnew: \(new)", sourceLocation: sourceLocation)
        } else {
            #expect(old == new, "\(text)", sourceLocation: sourceLocation)
        }
    }

    /// One request member: its name and its value's JSON text.
    typealias Member = (name: String, json: String)

    static func body(_ members: [Member]) -> String {
        "{" + members.map { "\"\($0.name)\":\($0.json)" }.joined(separator: ",") + "}"
    }

    /// An item with every type of attribute value.
    static let everyType = #"""
        {"id":{"S":"u1"},"n":{"N":"-12.50e3"},"b":{"B":"AAEC"},"t":{"BOOL":true},"z":{"NULL":true},\#
        "m":{"M":{"a":{"S":"x"},"l":{"L":[{"N":"1"},{"SS":["a"]}]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},\#
        "bs":{"BS":["AA==","AQI="]},"e":{"S":"\u00e9\ud83d\ude00\n\"\\\/"}}
        """#

    static let getItem: [Member] = [
        ("TableName", #""Users""#), ("Key", #"{"id":{"S":"u1"},"n":{"N":"1"}}"#), ("ConsistentRead", "true"),
        ("AttributesToGet", #"["id","n"]"#), ("ProjectionExpression", ##""#a, n""##), ("ExpressionAttributeNames", ##"{"#a":"id"}"##),
        ("ReturnConsumedCapacity", #""TOTAL""#),
    ]

    static let putItem: [Member] = [
        ("TableName", #""Users""#), ("Item", everyType), ("ReturnValues", #""ALL_OLD""#),
        ("ConditionExpression", ##""attribute_not_exists(id) OR #n = :v""##), ("ExpressionAttributeNames", ##"{"#n":"n"}"##),
        ("ExpressionAttributeValues", #"{":v":{"N":"5"}}"#), ("ReturnValuesOnConditionCheckFailure", #""ALL_OLD""#),
        ("Expected", #"{"a":{"Value":{"S":"x"},"Exists":true},"b":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"2"}]},"c":{"Exists":false}}"#),
        ("ConditionalOperator", #""OR""#), ("ReturnItemCollectionMetrics", #""SIZE""#), ("ReturnConsumedCapacity", #""INDEXES""#),
    ]

    static let deleteItem: [Member] = [("Key", #"{"id":{"S":"u1"}}"#)] + putItem.filter { $0.name != "Item" }

    static let updateItem: [Member] =
        deleteItem + [
            ("UpdateExpression", #""SET a = :v REMOVE b""#),
            ("AttributeUpdates", #"{"n":{"Action":"ADD","Value":{"N":"2"}},"gone":{"Action":"DELETE"},"p":{"Value":{"S":"x"}}}"#),
        ]

    static let batchGetItem: [Member] = [
        ("RequestItems", ##"{"Users":{"Keys":[{"id":{"S":"u1"}},{"id":{"S":"u2"}}],"ConsistentRead":true,"AttributesToGet":["id"],"ProjectionExpression":"id","ExpressionAttributeNames":{"#a":"a"}}}"##),
        ("ReturnConsumedCapacity", #""TOTAL""#),
    ]

    static let batchWriteItem: [Member] = [
        ("RequestItems", #"{"Users":[{"PutRequest":{"Item":{"id":{"S":"u3"}}}},{"DeleteRequest":{"Key":{"id":{"S":"u1"}}}}]}"#),
        ("ReturnItemCollectionMetrics", #""SIZE""#), ("ReturnConsumedCapacity", #""TOTAL""#),
    ]

    static let query: [Member] = [
        ("TableName", #""Events""#), ("IndexName", #""byType""#),
        ("KeyConditions", #"{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"u1"}]}}"#),
        ("KeyConditionExpression", #""pk = :p""#), ("ScanIndexForward", "false"), ("Limit", "10"),
        ("ExclusiveStartKey", #"{"pk":{"S":"u1"},"sk":{"N":"3"}}"#), ("Select", #""COUNT""#), ("AttributesToGet", #"["a"]"#),
        ("FilterExpression", #""a > :v""#), ("QueryFilter", #"{"a":{"ComparisonOperator":"NOT_NULL"}}"#), ("ConditionalOperator", #""AND""#),
        ("ProjectionExpression", #""a, b""#), ("ExpressionAttributeNames", ##"{"#a":"a"}"##), ("ExpressionAttributeValues", #"{":p":{"S":"u1"}}"#),
        ("ConsistentRead", "true"), ("ReturnConsumedCapacity", #""NONE""#),
    ]

    static let getRecords: [Member] = [("ShardIterator", #""arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/x|1|2""#), ("Limit", "100")]

    /// Numbers for an integer member: whole numbers in every form, fractions, and numbers too big.
    static let integers = [
        "0", "-0", "10", "-3", "10.0", "10.5", "1e2", "1E+2", "1e-2", "1.5e1", "0.0", "-0.0", "1e-400", "2.50e1", "1.0000000000000001",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "9007199254740993.0",
        "9007199254740993", "1e18", "1.5e17", "1e19", "1e20", "1e400", "100000000000000000000", "12345678901234567.0",
    ]

    /// Values of every JSON type, to put where another is expected.
    static let anyJSON = [
        "5", "-0.5", #""x""#, #""""#, "true", "false", "null", "[]", "[1]", #"[null]"#, #"["a"]"#, "{}", #"{"S":"a"}"#, #"{"a":1}"#,
        #"{"a":null}"#, #"{"a":"b"}"#, #"{"a":{"S":"b"}}"#, #""NONE""#, #""BOTH""#,
    ]

    /// Attribute values, valid and not, as DynamoDB's JSON.
    static let attributeValues = [
        #"{"S":"x"}"#, #"{"S":""}"#, #"{"N":"1"}"#, #"{"N":"-0.5e3"}"#, #"{"N":"000.100"}"#, #"{"B":"AAEC"}"#, #"{"B":""}"#,
        #"{"BOOL":false}"#, #"{"NULL":true}"#, #"{"M":{}}"#, #"{"M":{"a":{"S":"b"},"5":{"N":"2"}}}"#, #"{"L":[]}"#,
        #"{"L":[{"S":"a"},{"N":"1"}]}"#, #"{"SS":["a","b"]}"#, #"{"NS":["1","2.5"]}"#, #"{"BS":["AA==","AQ=="]}"#,
        #"{"S":"x","Other":1}"#, #"{"S":"a","S":"b"}"#, #"{"S":"a","S":5}"#, #"{"Other":1,"N":"2"}"#,
        "{}", #"{"X":"y"}"#, #"{"s":"x"}"#, #"{"S":"x","N":"1"}"#, #"{"S":1}"#, #"{"S":null}"#, #"{"S":1,"S":"a"}"#, #"{"N":"abc"}"#,
        #"{"N":"1e200"}"#, #"{"N":"1e-200"}"#, #"{"N":"123456789012345678901234567890123456789"}"#, #"{"N":" 1"}"#, #"{"N":""}"#,
        #"{"N":5}"#, #"{"B":"abc"}"#, #"{"B":"AB=="}"#, #"{"B":"!!!!"}"#, #"{"B":"A=AA"}"#, #"{"B":5}"#, #"{"BOOL":"true"}"#,
        #"{"BOOL":null}"#, #"{"NULL":false}"#, #"{"NULL":null}"#, #"{"NULL":1}"#, #"{"M":[]}"#, #"{"M":null}"#, #"{"M":{"a":5}}"#,
        #"{"M":{"a":null}}"#, #"{"M":{"7":{}}}"#, #"{"M":{"Ab":{"S":1}}}"#, #"{"M":{"x":{"S":"a"},"x":5}}"#,
        #"{"M":{"x":5,"x":{"S":"a"}}}"#, #"{"M":{"a":{"S":"a"},"b":{"N":"x"}}}"#, #"{"M":{"a":{"S":"a"},"c":{"S":1}}}"#, #"{"L":{}}"#, #"{"L":[null]}"#,
        #"{"L":[{"S":"a"},{"S":1}]}"#, #"{"SS":"a"}"#, #"{"SS":[1]}"#, #"{"SS":[null]}"#, #"{"SS":["a",1]}"#, #"{"NS":["1","x"]}"#,
        #"{"NS":["x",1]}"#, #"{"NS":[]}"#, #"{"BS":["A"]}"#, #"{"BS":[5]}"#, #"{"BS":["A","B",1]}"#, #""str""#, "5", "null", "[]", "true",
    ]

    /// Map keys, some of which Foundation's decoder reads as positions.
    static let mapKeys = ["a", "Ab", "5", "0", "-1", "+3", "05", " 5", "99999999999999999999", "", "é"]

    /// Bodies that are not JSON, or not an object.
    static let malformed: [[UInt8]] = [
        "", " ", "{", "}", "[]", #""x""#, "5", "null", "true", #"{"TableName":"a""#, #"{"TableName":"a",}"#, #"{"TableName":"a"} x"#,
        #"{"TableName":"a"}{"#, #"{'TableName':'a'}"#, #"{TableName:"a"}"#, #"{"TableName":"a" "Key":{}}"#, #"{"TableName":"\x"}"#,
        #"{"TableName":"\u12"}"#, #"{"TableName":"\U0041"}"#, #"{"TableName":"\ud800"}"#, #"{"TableName":"\udc00"}"#,
        #"{"TableName":"\ud800\u0041"}"#, "{\"TableName\":\"a\tb\"}", "{\"TableName\":\"a\u{1}\"}", #"{"TableName":tru}"#,
        #"{"TableName":nul}"#, #"{"TableName":.5}"#, #"{"TableName":+1}"#, #"{"Key":[1,]}"#, #"{"Key":{"a":{"S":"b"},}}"#, #"{,}"#,
        #"{"TableName"}"#, #"{"TableName":}"#, #"{"TableName"::"a"}"#, #"{"TableName":"a",,"Key":{}}"#, "\u{FEFF}\u{FEFF}{}",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        #"{"TableName":"a","Key":"# + String(repeating: #"{"M":{"a":"#, count: 130) + "{}" + String(repeating: "}}", count: 130) + "}",
    ].map { Array($0.utf8) } + [
        [0x7B, 0x7D, 0x00], [0xEF, 0xBB, 0xBF],
    ] + ([[0xFF], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80]] as [[UInt8]]).map { utf8 in
        Array(#"{"TableName":""#.utf8) + utf8 + Array(#"","Key":{}}"#.utf8)
    }

    /// The bodies built from `members`: as given, each member missing, `null`, of every JSON type, given twice
    /// (the first or the second value invalid), and unknown members added.
    static func variations(of members: [Member]) -> [String] {
        var bodies = [body(members), body(members + [("Unknown", #"{"x":[1,2,{"y":null}]}"#)]), body(members.reversed())]
        for (index, member) in members.enumerated() {
            var without = members
            without.remove(at: index)
            bodies.append(body(without))
            for value in anyJSON {
                var changed = members
                changed[index].json = value
                bodies.append(body(changed))
                bodies.append(body(members + [(member.name, value)]))
                bodies.append(body([(member.name, value)] + members))
            }
        }
        return bodies
    }

    @Test("GetItem: every member missing, null, of each JSON type, duplicated or unknown")
    func getItemMembers() {
        for body in Self.variations(of: Self.getItem) { Self.expectAgreement(GetItemInput.self, Array(body.utf8)) }
    }

    @Test("PutItem: every member missing, null, of each JSON type, duplicated or unknown")
    func putItemMembers() {
        for body in Self.variations(of: Self.putItem) { Self.expectAgreement(PutItemInput.self, Array(body.utf8)) }
    }

    @Test("DeleteItem: every member missing, null, of each JSON type, duplicated or unknown")
    func deleteItemMembers() {
        for body in Self.variations(of: Self.deleteItem) { Self.expectAgreement(DeleteItemInput.self, Array(body.utf8)) }
    }

    @Test("UpdateItem: every member missing, null, of each JSON type, duplicated or unknown")
    func updateItemMembers() {
        for body in Self.variations(of: Self.updateItem) { Self.expectAgreement(UpdateItemInput.self, Array(body.utf8)) }
        let updates = [
            #"{"Action":"PUT"}"#, #"{"Action":"put"}"#, #"{"Action":5}"#, #"{"Action":null,"Value":{"S":"a"}}"#, #"{"Value":5}"#,
            #"{"Value":{}}"#, "[]", "null", "{}",
        ]
        for update in updates {
            Self.expectAgreement(UpdateItemInput.self, Array(#"{"TableName":"T","Key":{},"AttributeUpdates":{"a":\#(update)}}"#.utf8))
        }
    }

    @Test("BatchGetItem and BatchWriteItem: every member, and every member of their requests, missing, null, of each JSON type")
    func batchMembers() {
        for body in Self.variations(of: Self.batchGetItem) { Self.expectAgreement(BatchGetItemInput.self, Array(body.utf8)) }
        for body in Self.variations(of: Self.batchWriteItem) { Self.expectAgreement(BatchWriteItemInput.self, Array(body.utf8)) }
        let keysAndAttributes: [Member] = [
            ("Keys", #"[{"id":{"S":"u1"}}]"#), ("ConsistentRead", "false"), ("AttributesToGet", #"["a"]"#), ("ProjectionExpression", #""a""#),
            ("ExpressionAttributeNames", ##"{"#a":"a"}"##),
        ]
        for entry in Self.variations(of: keysAndAttributes) {
            Self.expectAgreement(BatchGetItemInput.self, Array(#"{"RequestItems":{"T":\#(entry)}}"#.utf8))
        }
        let requests = [
            #"{"PutRequest":{"Item":{"a":{"S":"b"}}},"DeleteRequest":{"Key":{"a":{"S":"b"}}}}"#, "{}", #"{"PutRequest":null}"#,
            #"{"PutRequest":{}}"#, #"{"PutRequest":{"Item":null}}"#, #"{"PutRequest":{"Item":[]}}"#, #"{"PutRequest":5}"#,
            #"{"DeleteRequest":{}}"#, #"{"DeleteRequest":{"Key":{"a":{}}}}"#, #"{"DeleteRequest":"x"}"#, "null", "[]", #"{"Other":{}}"#,
        ]
        for request in Self.attributeValues.map({ #"{"PutRequest":{"Item":{"a":\#($0)}}}"# }) + requests {
            Self.expectAgreement(BatchWriteItemInput.self, Array(#"{"RequestItems":{"T":[\#(request)]}}"#.utf8))
            Self.expectAgreement(BatchWriteItemInput.self, Array(#"{"RequestItems":{"T":[{"DeleteRequest":{"Key":{"k":{"S":"v"}}}},\#(request)]}}"#.utf8))
        }
    }

    @Test("Query and GetRecords: every member missing, null, of each JSON type, duplicated or unknown; every form of Limit")
    func queryAndGetRecordsMembers() {
        for body in Self.variations(of: Self.query) { Self.expectAgreement(QueryInput.self, Array(body.utf8)) }
        for body in Self.variations(of: Self.getRecords) { Self.expectAgreement(GetRecordsInput.self, Array(body.utf8)) }
        for limit in Self.integers {
            Self.expectAgreement(QueryInput.self, Array(#"{"TableName":"T","Limit":\#(limit)}"#.utf8))
            Self.expectAgreement(GetRecordsInput.self, Array(#"{"ShardIterator":"i","Limit":\#(limit)}"#.utf8))
        }
        let conditions = [
            #"{"ComparisonOperator":"EQ"}"#, #"{"AttributeValueList":[]}"#, #"{"ComparisonOperator":null}"#, #"{"ComparisonOperator":"eq"}"#,
            #"{"ComparisonOperator":"IN","AttributeValueList":[{"S":1}]}"#, "[]", "null", "5",
        ]
        for condition in conditions {
            Self.expectAgreement(QueryInput.self, Array(#"{"TableName":"T","KeyConditions":{"k":\#(condition)}}"#.utf8))
            Self.expectAgreement(QueryInput.self, Array(#"{"TableName":"T","QueryFilter":{"k":\#(condition)}}"#.utf8))
        }
    }

    @Test("Every attribute value, valid or not, in the item, the key, the expression values and the legacy conditions")
    func attributeValues() {
        for value in Self.attributeValues {
            for key in Self.mapKeys {
                Self.expectAgreement(PutItemInput.self, Array(#"{"TableName":"T","Item":{"id":{"S":"1"},"\#(key)":\#(value)}}"#.utf8))
                Self.expectAgreement(GetItemInput.self, Array(#"{"TableName":"T","Key":{"\#(key)":\#(value)}}"#.utf8))
            }
            let bodies = [
                #"{"TableName":"T","Item":{},"ExpressionAttributeValues":{":v":\#(value)}}"#,
                #"{"TableName":"T","Item":{"l":{"L":[{"S":"a"},\#(value)]}}}"#,
                #"{"TableName":"T","Item":{},"Expected":{"a":{"Value":\#(value)}}}"#,
                #"{"TableName":"T","Item":{},"Expected":{"a":{"ComparisonOperator":"IN","AttributeValueList":[\#(value)]}}}"#,
            ]
            for body in bodies { Self.expectAgreement(PutItemInput.self, Array(body.utf8)) }
        }
    }

    @Test("Legacy conditions of every shape")
    func expected() {
        let entries = [
            #"{"Exists":false}"#, #"{"Exists":"no"}"#, #"{"Exists":null}"#, #"{"ComparisonOperator":"NOPE"}"#, #"{"ComparisonOperator":5}"#,
            #"{"AttributeValueList":{}}"#, #"{"AttributeValueList":[null]}"#, "[]", "null", "5", "{}", #"{"Value":{"S":"a"},"Value":5}"#,
        ]
        for entry in entries {
            Self.expectAgreement(PutItemInput.self, Array(#"{"TableName":"T","Item":{},"Expected":{"a":\#(entry)}}"#.utf8))
        }
        Self.expectAgreement(PutItemInput.self, Array(#"{"TableName":"T","Item":{},"ConditionalOperator":"XOR"}"#.utf8))
    }

    @Test("Bodies that are not JSON, or not an object, are refused alike")
    func malformedBodies() {
        for body in Self.malformed {
            Self.expectAgreement(GetItemInput.self, body)
            Self.expectAgreement(PutItemInput.self, body)
        }
    }

    @Test("Nesting up to the limit is read, past it refused")
    func nesting() {
        // The item's top-level object, its value and the body make 3 levels; each `{"L":[…]}` 2 more.
        for levels in [126, 127, 128] {
            let value = String(repeating: #"{"L":["#, count: levels) + #"{"S":"x"}"# + String(repeating: "]}", count: levels)
            Self.expectAgreement(PutItemInput.self, Array(#"{"TableName":"T","Item":{"a":\#(value)}}"#.utf8))
        }
    }

    /// Bodies whose only fault is in a member the request does not have, which `JSONDecoder` never reads.
    static let faultsInUnknownMembers: [[UInt8]] = [
        #"{"TableName":"T","Key":{},"Unknown":01}"#, #"{"TableName":"T","Key":{},"Unknown":1.}"#,
        #"{"TableName":"T","Key":{},"Unknown":-}"#, #"{"TableName":"T","Key":{},"Unknown":"\ud800"}"#,
        "{\"TableName\":\"T\",\"Key\":{},\"Unknown\":\"\t\"}",
    ].map { Array($0.utf8) } + [Array(#"{"TableName":"T","Key":{},"Unknown":""#.utf8) + [0xFF] + Array(#""}"#.utf8)]

    @Test("Where JSONDecoder reads lazily, the parser still refuses what is not JSON", arguments: faultsInUnknownMembers)
    func stricterThanJSONDecoder(body: [UInt8]) {
        let old = Self.outcome({ (bytes) throws(WireError) -> GetItemInput in try RequestDecoding.decode(bytes) }, body)
        let new = Self.outcome({ (bytes) throws(WireError) -> GetItemInput in try RequestDecoding.parse(bytes) }, body)
        #expect(!old.isNotJSON)
        #expect(new.isNotJSON)
    }
}
