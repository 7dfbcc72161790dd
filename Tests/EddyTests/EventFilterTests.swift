import Foundation
import Testing

@testable import Eddy

// Lambda event filtering (FilterCriteria), written from the rule table of the AWS Lambda developer guide's
// "Lambda event filtering" and its DynamoDB page: one test per comparison operator, positive and negative,
// then nesting into DynamoDB-typed images, arrays, several filters, and every validation error.

/// An event with one field per row of the guide's rule table.
private let plainEvent = try! JSONValue(
    parsing: """
        {"UserID": null, "LastName": "", "Name": "Alice", "Location": "New York", "Day": "Monday",
         "PaymentType": "Credit", "Weather": "Sunny", "Price": 100, "ProductName": "Widget",
         "Region": "us-east-1", "FileName": "photo.png", "Scores": [3, 7, 12], "Colors": ["red", "green"],
         "Active": true, "Nested": {"Inner": "value"}}
        """)

/// A DynamoDB stream record as Lambda sees it.
private func dynamoRecord(_ eventName: String = "INSERT", newImage: String? = nil, oldImage: String? = nil) -> JSONValue {
    let defaultImage = """
        {"CustomerName": {"S": "AnyCompany Industries"}, "status": {"S": "active"}, "Price": {"N": "15"},
         "Tags": {"SS": ["red", "blue"]}, "Sizes": {"NS": ["1", "42"]}, "Flag": {"BOOL": true},
         "Nothing": {"NULL": true}, "Details": {"M": {"city": {"S": "Seattle"}}}}
        """
    var dynamodb = """
        "ApproximateCreationDateTime": 1678831218, "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
        "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
        """
    if eventName != "REMOVE" { dynamodb += #", "NewImage": \#(newImage ?? defaultImage)"# }
    if let oldImage { dynamodb += #", "OldImage": \#(oldImage)"# }
    return try! JSONValue(
        parsing: """
            {"eventID": "1", "eventName": "\(eventName)", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
             "awsRegion": "us-east-1", "dynamodb": {\(dynamodb)}}
            """)
}

private func passes(_ pattern: String, _ event: JSONValue = plainEvent) throws -> Bool {
    try EventFilter(pattern: pattern).matches(event)
}

@Suite("EventFilter rule table", .timeLimit(.minutes(3)))
struct EventFilterRuleTests {
    @Test func nullMatchesNullOnly() throws {
        #expect(try passes(#"{"UserID": [null]}"#))
        #expect(try !passes(#"{"Name": [null]}"#))
        #expect(try !passes(#"{"Missing": [null]}"#))
    }

    @Test func emptyMatchesTheEmptyString() throws {
        #expect(try passes(#"{"LastName": [""]}"#))
        #expect(try !passes(#"{"Name": [""]}"#))
        #expect(try !passes(#"{"UserID": [""]}"#))
    }

    @Test func equalsIsExactAndCaseSensitive() throws {
        #expect(try passes(#"{"Name": ["Alice"]}"#))
        #expect(try !passes(#"{"Name": ["alice"]}"#))
        #expect(try !passes(#"{"Name": ["Alic"]}"#))
        #expect(try passes(#"{"Price": [100]}"#))
        #expect(try !passes(#"{"Price": ["100"]}"#))
        #expect(try passes(#"{"Active": [true]}"#))
        #expect(try !passes(#"{"Active": [false]}"#))
    }

    @Test func equalsIgnoreCase() throws {
        #expect(try passes(#"{"Name": [{"equals-ignore-case": "aLiCe"}]}"#))
        #expect(try !passes(#"{"Name": [{"equals-ignore-case": "bob"}]}"#))
        #expect(try !passes(#"{"Price": [{"equals-ignore-case": "100"}]}"#))
    }

    @Test func andRequiresEveryField() throws {
        #expect(try passes(#"{"Location": ["New York"], "Day": ["Monday"]}"#))
        #expect(try !passes(#"{"Location": ["New York"], "Day": ["Tuesday"]}"#))
        #expect(try !passes(#"{"Location": ["Boston"], "Day": ["Monday"]}"#))
        #expect(try !passes(#"{"Location": ["New York"], "Missing": ["Monday"]}"#))
    }

    @Test func orWithinOneArray() throws {
        #expect(try passes(#"{"PaymentType": ["Credit", "Debit"]}"#))
        #expect(try passes(#"{"PaymentType": ["Debit", "Credit"]}"#))
        #expect(try !passes(#"{"PaymentType": ["Cash", "Debit"]}"#))
        // Different kinds of rules in one array are alternatives too.
        #expect(try passes(#"{"Price": ["cheap", {"numeric": [">", 50]}]}"#))
    }

    @Test func orAcrossFields() throws {
        #expect(try passes(#"{"$or": [{"Location": ["Boston"]}, {"Day": ["Monday"]}]}"#))
        #expect(try !passes(#"{"$or": [{"Location": ["Boston"]}, {"Day": ["Sunday"]}]}"#))
        #expect(try !passes(#"{"Name": ["Bob"], "$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}"#))
    }

    @Test func anythingBut() throws {
        #expect(try passes(#"{"Weather": [{"anything-but": ["Raining"]}]}"#))
        #expect(try !passes(#"{"Weather": [{"anything-but": ["Raining", "Sunny"]}]}"#))
        #expect(try !passes(#"{"Weather": [{"anything-but": "Sunny"}]}"#))
        #expect(try passes(#"{"Price": [{"anything-but": [99, 101]}]}"#))
        #expect(try !passes(#"{"Price": [{"anything-but": 100}]}"#))
        // A missing field is not "anything but" a value.
        #expect(try !passes(#"{"Missing": [{"anything-but": ["Raining"]}]}"#))
    }

    @Test func anythingButPrefixSuffixAndIgnoringCase() throws {
        #expect(try passes(#"{"Region": [{"anything-but": {"prefix": "eu-"}}]}"#))
        #expect(try !passes(#"{"Region": [{"anything-but": {"prefix": "us-"}}]}"#))
        #expect(try passes(#"{"FileName": [{"anything-but": {"suffix": ".jpg"}}]}"#))
        #expect(try !passes(#"{"FileName": [{"anything-but": {"suffix": ".png"}}]}"#))
        #expect(try !passes(#"{"Name": [{"anything-but": {"equals-ignore-case": ["ALICE", "bob"]}}]}"#))
        #expect(try passes(#"{"Name": [{"anything-but": {"equals-ignore-case": "bob"}}]}"#))
    }

    @Test func numericEquals() throws {
        #expect(try passes(#"{"Price": [{"numeric": ["=", 100]}]}"#))
        #expect(try passes(#"{"Price": [{"numeric": ["=", 100.0]}]}"#))
        #expect(try passes(#"{"Price": [{"numeric": ["=", 1e2]}]}"#))
        #expect(try !passes(#"{"Price": [{"numeric": ["=", 101]}]}"#))
        // Numeric rules do not read plain strings.
        #expect(try !passes(#"{"Name": [{"numeric": ["=", 100]}]}"#))
    }

    @Test func numericRange() throws {
        #expect(try passes(#"{"Price": [{"numeric": [">", 10, "<=", 100]}]}"#))
        #expect(try !passes(#"{"Price": [{"numeric": [">", 10, "<", 100]}]}"#))
        #expect(try passes(#"{"Price": [{"numeric": [">=", 100, "<", 200]}]}"#))
        #expect(try !passes(#"{"Price": [{"numeric": [">", 100, "<", 200]}]}"#))
        #expect(try passes(#"{"Price": [{"numeric": ["<", 100.5]}]}"#))
        #expect(try !passes(#"{"Price": [{"numeric": ["<", -5]}]}"#))
        #expect(try passes(#"{"Price": [{"numeric": [">=", -5]}]}"#))
    }

    @Test func exists() throws {
        #expect(try passes(#"{"ProductName": [{"exists": true}]}"#))
        #expect(try !passes(#"{"Missing": [{"exists": true}]}"#))
        #expect(try passes(#"{"UserID": [{"exists": true}]}"#), "a null value is a value")
        // exists looks at leaf values only.
        #expect(try !passes(#"{"Nested": [{"exists": true}]}"#))
    }

    @Test func doesNotExist() throws {
        #expect(try passes(#"{"Missing": [{"exists": false}]}"#))
        #expect(try !passes(#"{"ProductName": [{"exists": false}]}"#))
        #expect(try passes(#"{"Deeply": {"Missing": [{"exists": false}]}}"#))
        #expect(try passes(#"{"Nested": {"Other": [{"exists": false}]}}"#))
        #expect(try !passes(#"{"Nested": {"Inner": [{"exists": false}]}}"#))
    }

    @Test func beginsWith() throws {
        #expect(try passes(#"{"Region": [{"prefix": "us-"}]}"#))
        #expect(try !passes(#"{"Region": [{"prefix": "eu-"}]}"#))
        #expect(try !passes(#"{"Region": [{"prefix": "US-"}]}"#))
        #expect(try passes(#"{"Region": [{"prefix": {"equals-ignore-case": "US-"}}]}"#))
        #expect(try !passes(#"{"Price": [{"prefix": "1"}]}"#))
    }

    @Test func endsWith() throws {
        #expect(try passes(#"{"FileName": [{"suffix": ".png"}]}"#))
        #expect(try !passes(#"{"FileName": [{"suffix": ".jpg"}]}"#))
        #expect(try !passes(#"{"FileName": [{"suffix": ".PNG"}]}"#))
        #expect(try passes(#"{"FileName": [{"suffix": {"equals-ignore-case": ".PNG"}}]}"#))
    }

    @Test func arrayValuedFieldsMatchWhenAnyElementDoes() throws {
        #expect(try passes(#"{"Colors": ["green"]}"#))
        #expect(try !passes(#"{"Colors": ["blue"]}"#))
        #expect(try passes(#"{"Scores": [{"numeric": [">", 10]}]}"#))
        #expect(try !passes(#"{"Scores": [{"numeric": [">", 12]}]}"#))
        #expect(try passes(#"{"Colors": [{"prefix": "gr"}]}"#))
        let objects = try JSONValue(parsing: #"{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}]}"#)
        #expect(try passes(#"{"items": {"sku": ["b"]}}"#, objects))
        #expect(try passes(#"{"items": {"sku": ["b"], "qty": [{"numeric": [">", 4]}]}}"#, objects))
        #expect(try !passes(#"{"items": {"sku": ["a"], "qty": [{"numeric": [">", 4]}]}}"#, objects))
    }

    @Test func emptyPatternMatchesEverything() throws {
        #expect(try passes("{}"))
        #expect(try passes("{}", dynamoRecord()))
    }
}

@Suite("EventFilter on DynamoDB records", .timeLimit(.minutes(3)))
struct EventFilterDynamoDBTests {
    @Test func eventNameInsertOnly() throws {
        let filter = try EventFilter(pattern: #"{"eventName": ["INSERT"]}"#)
        #expect(filter.matches(dynamoRecord("INSERT")))
        #expect(!filter.matches(dynamoRecord("MODIFY")))
        #expect(!filter.matches(dynamoRecord("REMOVE")))
    }

    @Test func keysAndNewImageWithDynamoDBTypes() throws {
        #expect(try passes(#"{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}}"#, dynamoRecord()))
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"status": {"S": ["inactive"]}}}}"#, dynamoRecord()))
        // The type key is part of the path: a string pattern never matches a number attribute.
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"Price": {"S": ["15"]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Price": {"N": ["15"]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Flag": {"BOOL": [true]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Nothing": {"NULL": [true]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Details": {"M": {"city": {"S": ["Seattle"]}}}}}}"#, dynamoRecord()))
    }

    @Test func numericRulesReadDynamoDBNumbers() throws {
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Price": {"N": [{"numeric": [">", 10, "<=", 20]}]}}}}"#, dynamoRecord()))
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"Price": {"N": [{"numeric": [">", 15]}]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Sizes": {"NS": [{"numeric": [">=", 42]}]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}}"#, dynamoRecord()))
        // Under an S key a numeric-looking string stays a string.
        let image = #"{"code": {"S": "42"}}"#
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"code": {"S": [{"numeric": ["=", 42]}]}}}}"#, dynamoRecord(newImage: image)))
    }

    @Test func stringSetsMatchAnyMember() throws {
        #expect(try passes(#"{"dynamodb": {"NewImage": {"Tags": {"SS": ["blue"]}}}}"#, dynamoRecord()))
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"Tags": {"SS": ["green"]}}}}"#, dynamoRecord()))
    }

    @Test func existsOnImageAttributes() throws {
        #expect(try passes(#"{"dynamodb": {"NewImage": {"status": {"S": [{"exists": true}]}}}}"#, dynamoRecord()))
        #expect(try passes(#"{"dynamodb": {"NewImage": {"archived": {"S": [{"exists": false}]}}}}"#, dynamoRecord()))
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}}"#, dynamoRecord()))
        // A map attribute is not a leaf: exists on it does not match, as the Lambda guide warns.
        #expect(try !passes(#"{"dynamodb": {"NewImage": {"Details": [{"exists": true}]}}}"#, dynamoRecord()))
        // A REMOVE record has no NewImage, so nothing under it exists.
        #expect(try passes(#"{"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}}"#, dynamoRecord("REMOVE")))
    }

    @Test func eventNameAndImageTogether() throws {
        let filter = try EventFilter(
            pattern: #"{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["active"]}]}}}}"#)
        #expect(filter.matches(dynamoRecord("MODIFY", newImage: #"{"status": {"S": "closed"}}"#)))
        #expect(!filter.matches(dynamoRecord("MODIFY", newImage: #"{"status": {"S": "active"}}"#)))
        #expect(!filter.matches(dynamoRecord("INSERT", newImage: #"{"status": {"S": "closed"}}"#)))
    }
}

@Suite("FilterCriteria", .timeLimit(.minutes(3)))
struct FilterCriteriaTests {
    @Test func anyFilterMatching() throws {
        let criteria = try FilterCriteria(patterns: [
            #"{"eventName": ["REMOVE"]}"#,
            #"{"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}}"#,
        ])
        #expect(criteria.matches(dynamoRecord("INSERT")))
        #expect(criteria.matches(dynamoRecord("REMOVE")))
        #expect(!criteria.matches(dynamoRecord("MODIFY", newImage: #"{"status": {"S": "closed"}}"#)))
    }

    @Test func noFiltersMatchEverything() throws {
        #expect(FilterCriteria().matches(dynamoRecord()))
        #expect(try FilterCriteria(patterns: []).matches(plainEvent))
        let decoded = try JSONDecoder().decode(FilterCriteria.self, from: Data("{}".utf8))
        #expect(decoded.filters.isEmpty)
        #expect(decoded.matches(dynamoRecord()))
    }

    @Test func wireShapeRoundTrips() throws {
        let json = #"{"Filters": [{"Pattern": "{\"eventName\": [\"INSERT\"]}"}, {"Pattern": "{\"a\": [1, 2]}"}]}"#
        let criteria = try JSONDecoder().decode(FilterCriteria.self, from: Data(json.utf8))
        #expect(criteria.filters.map(\.pattern) == [#"{"eventName": ["INSERT"]}"#, #"{"a": [1, 2]}"#])
        #expect(criteria.matches(dynamoRecord("INSERT")))
        #expect(!criteria.matches(dynamoRecord("MODIFY")))
        let encoded = try JSONEncoder().encode(criteria)
        #expect(try JSONDecoder().decode(FilterCriteria.self, from: encoded) == criteria)
        #expect(try JSONValue(parsing: encoded)["Filters"] == JSONValue(parsing: json)["Filters"])
    }

    @Test func decodingRejectsInvalidPatterns() async throws {
        let json = #"{"Filters": [{"Pattern": "{\"a\": [{\"contains\": \"x\"}]}"}]}"#
        await expectValidation("Invalid filter pattern definition: unrecognized match type \"contains\" in \"a\"") {
            _ = try JSONDecoder().decode(FilterCriteria.self, from: Data(json.utf8))
        }
    }

    @Test func filtersRealStreamRecords() throws {
        func record(_ name: StreamEventName, _ newImage: Item?, _ oldImage: Item?) -> StreamRecord {
            StreamRecord(
                eventID: "e-\(name.rawValue)", eventName: name, eventVersion: "1.1", eventSource: "aws:dynamodb",
                awsRegion: "us-east-1",
                dynamodb: StreamRecordData(
                    approximateCreationDateTime: 1_750_000_000, keys: ["pk": .s("order-1")], newImage: newImage,
                    oldImage: oldImage, sequenceNumber: "000000000000000000001", sizeBytes: 42,
                    streamViewType: .newAndOldImages))
        }
        let insert = record(.insert, ["pk": .s("order-1"), "status": .s("active"), "total": num("150.5")], nil)
        let modify = record(
            .modify, ["pk": .s("order-1"), "status": .s("shipped"), "total": num("15")],
            ["pk": .s("order-1"), "status": .s("active"), "total": num("150.5")])
        let remove = record(.remove, nil, ["pk": .s("order-1"), "status": .s("shipped")])

        let inserts = try FilterCriteria(patterns: [#"{"eventName": ["INSERT"]}"#])
        #expect(inserts.matches(insert))
        #expect(!inserts.matches(modify))
        #expect(!inserts.matches(remove))

        let bigActive = try FilterCriteria(patterns: [
            #"{"dynamodb": {"NewImage": {"status": {"S": ["active"]}, "total": {"N": [{"numeric": [">", 100]}]}}}}"#
        ])
        #expect(bigActive.matches(insert))
        #expect(!bigActive.matches(modify))
        #expect(!bigActive.matches(remove))

        let shippedOrRemoved = try FilterCriteria(patterns: [
            #"{"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "ship"}]}}, "OldImage": {"status": {"S": ["active"]}}}}"#,
            #"{"eventName": ["REMOVE"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order-"}]}}}}"#,
        ])
        #expect(!shippedOrRemoved.matches(insert))
        #expect(shippedOrRemoved.matches(modify))
        #expect(shippedOrRemoved.matches(remove))

        let noNewImage = try FilterCriteria(patterns: [#"{"dynamodb": {"NewImage": {"pk": {"S": [{"exists": false}]}}}}"#])
        #expect(noNewImage.matches(remove))
        #expect(!noNewImage.matches(insert))
        #expect(try FilterCriteria(patterns: [#"{"eventSource": ["aws:dynamodb"], "awsRegion": [{"prefix": "us-"}]}"#]).matches(modify))
    }
}

@Suite("EventFilter validation", .timeLimit(.minutes(3)))
struct EventFilterValidationTests {
    @Test func atMostFiveFilters() async throws {
        let five = Array(repeating: #"{"eventName": ["INSERT"]}"#, count: 5)
        #expect(try FilterCriteria(patterns: five).filters.count == 5)
        await expectValidation("Invalid FilterCriteria: 6 filters given, the maximum is 5") {
            _ = try FilterCriteria(patterns: five + [#"{"eventName": ["MODIFY"]}"#])
        }
        let json = "{\"Filters\": [" + Array(repeating: #"{"Pattern": "{}"}"#, count: 6).joined(separator: ",") + "]}"
        await expectValidation {
            _ = try JSONDecoder().decode(FilterCriteria.self, from: Data(json.utf8))
        }
    }

    @Test func patternOfAtMost4096Characters() async throws {
        func pattern(length: Int) -> String {
            let prefix = #"{"a": [""#, suffix = #""]}"#
            return prefix + String(repeating: "x", count: length - prefix.count - suffix.count) + suffix
        }
        #expect(pattern(length: 4096).count == 4096)
        #expect(try EventFilter(pattern: pattern(length: 4096)).matches(plainEvent) == false)
        await expectValidation(
            "Invalid filter pattern definition: the pattern is 4097 characters long, the maximum is 4096"
        ) {
            _ = try EventFilter(pattern: pattern(length: 4097))
        }
    }

    @Test func malformedJSON() async {
        for text in ["", "{", #"{"a": ["x"]"#, #"{a: ["x"]}"#, #"{"a": ['x']}"#] {
            await expectValidation("Invalid filter pattern definition: the pattern is not valid JSON") {
                _ = try EventFilter(pattern: text)
            }
        }
    }

    @Test func patternMustBeAnObject() async {
        for text in [#"["INSERT"]"#, #""INSERT""#, "42", "null"] {
            await expectValidation("Invalid filter pattern definition: the pattern must be a JSON object") {
                _ = try EventFilter(pattern: text)
            }
        }
    }

    @Test func leafValuesMustBeArrays() async {
        await expectValidation(
            "Invalid filter pattern definition: the value of \"eventName\" must be an object or an array of match values"
        ) {
            _ = try EventFilter(pattern: #"{"eventName": "INSERT"}"#)
        }
        await expectValidation(
            "Invalid filter pattern definition: the value of \"dynamodb.SizeBytes\" must be an object or an array of match values"
        ) {
            _ = try EventFilter(pattern: #"{"dynamodb": {"SizeBytes": 26}}"#)
        }
        await expectValidation("Invalid filter pattern definition: the match values of \"a\" must not be arrays") {
            _ = try EventFilter(pattern: #"{"a": [["x"]]}"#)
        }
    }

    @Test func unknownOperator() async {
        await expectValidation("Invalid filter pattern definition: unrecognized match type \"contains\" in \"a.b\"") {
            _ = try EventFilter(pattern: #"{"a": {"b": [{"contains": "x"}]}}"#)
        }
        await expectValidation(
            "Invalid filter pattern definition: unrecognized match type \"wildcard\" in \"anything-but\" of \"a\""
        ) {
            _ = try EventFilter(pattern: #"{"a": [{"anything-but": {"wildcard": "x*"}}]}"#)
        }
        await expectValidation("Invalid filter pattern definition: a match rule of \"a\" must have exactly one operator") {
            _ = try EventFilter(pattern: #"{"a": [{"prefix": "x", "suffix": "y"}]}"#)
        }
    }

    @Test func malformedOperands() async {
        let invalid = [
            #"{"a": [{"exists": "yes"}]}"#,
            #"{"a": [{"prefix": 1}]}"#,
            #"{"a": [{"suffix": ["x"]}]}"#,
            #"{"a": [{"equals-ignore-case": 1}]}"#,
            #"{"a": [{"anything-but": null}]}"#,
            #"{"a": [{"anything-but": []}]}"#,
            #"{"a": [{"anything-but": [true]}]}"#,
            #"{"a": [{"numeric": ["=="]}]}"#,
            #"{"a": [{"numeric": ["==", 1]}]}"#,
            #"{"a": [{"numeric": [">", "1"]}]}"#,
            #"{"a": [{"numeric": [">", 1, ">", 2]}]}"#,
            #"{"a": [{"numeric": ["=", 1, "<", 2]}]}"#,
            #"{"a": [{"numeric": [">", 1, "<", 2, "<", 3]}]}"#,
            #"{"$or": [{"a": ["x"]}]}"#,
            #"{"$or": [{"a": ["x"]}, "b"]}"#,
        ]
        for pattern in invalid {
            let error = await expectValidation { _ = try EventFilter(pattern: pattern) }
            #expect(error?.message.hasPrefix("Invalid filter pattern definition: ") == true, "\(pattern)")
        }
    }
}
