import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// Filters matched on records that keep their stored bytes, with only the attributes their patterns name
/// decoded (`FilterSelection`): what each pattern selects, and that every pattern decides every record as it
/// does on the record's whole JSON (what `JSONEncoder` writes for it, as Lambda sees it).
@Suite(.timeLimit(.minutes(3))) struct FilterSelectionTests {
    private static func selection(_ patterns: String...) throws -> FilterSelection {
        try FilterCriteria(patterns: patterns).selection
    }

    @Test func patternsSelectTheAttributesTheyName() throws {
        let none = try Self.selection(#"{"eventName": ["INSERT"]}"#)
        #expect(none.keys == .attributes([]) && none.newImage == .attributes([]) && none.oldImage == .attributes([]))

        let each = try Self.selection(
            #"{"dynamodb": {"Keys": {"pk": {"S": ["a"]}}, "NewImage": {"status": {"S": ["x"]}, "address": {"M": {"city": {"S": ["Paris"]}}}}}}"#,
            #"{"dynamodb": {"OldImage": {"status": {"S": [{"exists": false}]}}}}"#)
        #expect(each.keys == .attributes(["pk"]))
        #expect(each.newImage == .attributes(["status", "address"]))
        #expect(each.oldImage == .attributes(["status"]))

        let alternatives = try Self.selection(
            #"{"$or": [{"dynamodb": {"NewImage": {"a": {"S": ["1"]}}}}, {"dynamodb": {"$or": [{"OldImage": {"b": {"S": ["2"]}}}, {"NewImage": {"$or": [{"c": {"N": ["3"]}}, {"d": {"BOOL": [true]}}]}}]}}]}"#)
        #expect(alternatives.newImage == .attributes(["a", "c", "d"]))
        #expect(alternatives.oldImage == .attributes(["b"]))
        #expect(alternatives.keys == .attributes([]))

        let whole = try Self.selection(#"{"dynamodb": {"NewImage": [{"exists": false}], "Keys": {"pk": {"S": ["a"]}}}}"#)
        #expect(whole.newImage == .whole && whole.keys == .attributes(["pk"]) && whole.oldImage == .attributes([]))
        let everything = try Self.selection(#"{"dynamodb": [{"exists": true}]}"#, #"{"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}"#)
        #expect(everything.keys == .whole && everything.newImage == .whole && everything.oldImage == .whole)
    }

    private static let patterns = [
        #"{"eventName": ["INSERT"]}"#,
        #"{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "user-"}]}}}}"#,
        #"{"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}}"#,
        #"{"dynamodb": {"OldImage": {"status": {"S": ["active"]}}}}"#,
        #"{"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}}"#,
        #"{"dynamodb": {"OldImage": {"status": [{"exists": false}]}}}"#,
        #"{"dynamodb": {"Keys": {"pk": {"S": [{"exists": false}]}}}}"#,
        #"{"dynamodb": {"NewImage": {"address": {"M": {"city": {"S": ["Paris"]}}}}}}"#,
        #"{"dynamodb": {"OldImage": {"address": {"M": {"city": {"S": [{"anything-but": ["Paris"]}]}}}}}}"#,
        #"{"dynamodb": {"NewImage": {"address": {"M": {"zip": {"N": [{"numeric": [">", 70000]}]}}}}}}"#,
        #"{"dynamodb": {"NewImage": {"total": {"N": [{"numeric": [">=", 10, "<", 100]}]}}}}"#,
        #"{"dynamodb": {"NewImage": {"tags": {"SS": ["blue"]}}}}"#,
        #"{"dynamodb": {"NewImage": {"flag": {"BOOL": [false]}}, "OldImage": {"flag": {"BOOL": [true]}}}}"#,
        #"{"dynamodb": {"NewImage": {"nothing": {"NULL": [true]}}}}"#,
        #"{"dynamodb": {"NewImage": {"items": {"L": {"S": ["x"]}}}}}"#,
        #"{"dynamodb": {"NewImage": [{"exists": false}]}}"#,
        #"{"dynamodb": {"OldImage": [{"exists": true}]}}"#,
        #"{"dynamodb": {"SizeBytes": [{"numeric": [">", 30]}], "StreamViewType": ["NEW_AND_OLD_IMAGES"]}}"#,
        #"{"$or": [{"eventName": ["REMOVE"]}, {"dynamodb": {"NewImage": {"status": {"S": ["closed"]}}}}]}"#,
        #"{"dynamodb": {"$or": [{"OldImage": {"total": {"N": ["15"]}}}, {"NewImage": {"total": {"N": [{"numeric": ["=", 150.5]}]}}}]}}"#,
        #"{"dynamodb": {"NewImage": {"$or": [{"status": {"S": ["shipped"]}}, {"address": {"M": {"city": {"S": [{"prefix": "Ly"}]}}}}]}}}"#,
        #"{"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["shipped"]}}, "OldImage": {"status": {"S": ["active"]}}}}"#,
        #"{"userIdentity": {"Type": ["Service"]}}"#,
        #"{"dynamodb": {"NewImage": {"missing": {"S": [{"exists": false}]}}}}"#,
    ]

    /// Writes orders into a table with a stream of `viewType` and returns its records as read from it.
    private static func storedRecords(_ viewType: StreamViewType) async throws -> [StreamRecord] {
        var records: [StreamRecord] = []
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders", viewType: viewType).latestStreamArn)
            let address: AttributeValue = .m(["city": "Paris", "zip": 75001])
            for index in 0..<6 {
                var item: Item = [
                    "pk": .s(index.isMultiple(of: 2) ? "user-\(index)" : "order-\(index)"), "status": "active",
                    "total": .n(try DecimalNumber(index.isMultiple(of: 3) ? "150.5" : "15")), "tags": .ss(["red", "blue"]),
                    "flag": .bool(true), "nothing": .null, "items": .l([.s("x"), .n(DecimalNumber(index))]), "address": address,
                ]
                if index == 5 { item["status"] = nil }
                try await db.putItem(PutItemInput(tableName: "Orders", item: item))
            }
            for index in [0, 1, 3] {
                let city: AttributeValue = index == 3 ? .m(["city": "Lyon", "zip": 69001]) : address
                try await db.updateItem(UpdateItemInput(
                    tableName: "Orders", key: ["pk": .s(index.isMultiple(of: 2) ? "user-\(index)" : "order-\(index)")],
                    updateExpression: "SET #s = :s, flag = :f, address = :a",
                    expressionAttributeNames: ["#s": "status"],
                    expressionAttributeValues: [":s": index == 1 ? "closed" : "shipped", ":f": .bool(false), ":a": city]))
            }
            try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": "user-4"]))
            records = try await readStream(db, arn).map(\.record)
        }
        #expect(records.count == 10)
        return records
    }

    @Test(arguments: StreamViewType.allCases)
    func everyPatternDecidesStoredRecordsAsOnTheirWholeJSON(_ viewType: StreamViewType) async throws {
        let records = try await Self.storedRecords(viewType)
        var service = records[0]
        service.userIdentity = StreamIdentity(principalId: "dynamodb.amazonaws.com", type: "Service")
        for patterns in Self.patterns.map({ [$0] }) + [Array(Self.patterns.prefix(3))] {
            let criteria = try FilterCriteria(patterns: patterns)
            for record in records + [service] {
                let whole = try JSONValue(parsing: JSONEncoder().encode(record))
                #expect(criteria.matches(record) == criteria.matches(whole), "\(patterns) on \(whole)")
            }
        }
    }

    @Test func patternsOnEachImageMatchTheRecordsTheyDescribe() async throws {
        let records = try await Self.storedRecords(.newAndOldImages)
        func matching(_ pattern: String) throws -> [String] {
            let criteria = try FilterCriteria(patterns: [pattern])
            return records.filter { criteria.matches($0) }.map { record in
                guard case .s(let key)? = record.dynamodb.keys["pk"] else { return "?" }
                return "\(record.eventName.rawValue) \(key)"
            }.sorted()
        }
        #expect(try matching(#"{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order-3"}]}}}}"#) == ["INSERT order-3", "MODIFY order-3"])
        #expect(try matching(#"{"dynamodb": {"NewImage": {"status": {"S": ["closed"]}}}}"#) == ["MODIFY order-1"])
        #expect(
            try matching(#"{"dynamodb": {"OldImage": {"status": {"S": ["active"]}}}}"#)
                == ["MODIFY order-1", "MODIFY order-3", "MODIFY user-0", "REMOVE user-4"])
        #expect(try matching(#"{"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}}"#) == ["INSERT order-5", "REMOVE user-4"])
        #expect(try matching(#"{"dynamodb": {"NewImage": {"address": {"M": {"city": {"S": ["Lyon"]}}}}}}"#) == ["MODIFY order-3"])
        #expect(
            try matching(#"{"dynamodb": {"OldImage": {"flag": {"BOOL": [true]}}, "NewImage": {"flag": {"BOOL": [false]}}}}"#)
                == ["MODIFY order-1", "MODIFY order-3", "MODIFY user-0"])
    }
}
