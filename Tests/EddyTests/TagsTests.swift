import Foundation
import Testing

@testable import Eddy

// Tags, from the TagResource, UntagResource and ListTagsOfResource API references and the developer guide's
// "Tagging restrictions in DynamoDB" (50 tags a table, keys of 1 to 128 and values of 0 to 256 letters,
// digits, spaces and `+ - = . _ : /`, `aws:` reserved), with the messages DynamoDB answers.

@Suite(.timeLimit(.minutes(5))) struct TagsTests {
    private static let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Orders"

    private static func tags(_ db: Database, _ arn: String = arn) async throws -> [Eddy.Tag] {
        var page = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn))
        var all = page.tags
        while let token = page.nextToken {
            page = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn, nextToken: token))
            all += page.tags
        }
        return all
    }

    private static func tag(_ db: Database, _ tags: [Eddy.Tag]) async throws {
        try await db.tagResource(TagResourceInput(resourceArn: arn, tags: tags))
    }

    @Test func taggingAddsReplacesAndRemoves() async throws {
        try await withDatabase { db in
            let description = try await createTable(db, "Orders")
            #expect(description.tableArn == Self.arn)
            #expect(try await Self.tags(db).isEmpty)

            try await Self.tag(db, [Eddy.Tag(key: "team", value: "payments"), Eddy.Tag(key: "env", value: "")])
            try await Self.tag(db, [Eddy.Tag(key: "team", value: "billing"), Eddy.Tag(key: "cost centre", value: "42")])
            #expect(try await Self.tags(db) == [
                Eddy.Tag(key: "cost centre", value: "42"), Eddy.Tag(key: "env", value: ""), Eddy.Tag(key: "team", value: "billing"),
            ])

            try await db.untagResource(UntagResourceInput(resourceArn: Self.arn, tagKeys: ["env", "never-set"]))
            #expect(try await Self.tags(db) == [Eddy.Tag(key: "cost centre", value: "42"), Eddy.Tag(key: "team", value: "billing")])
        }
    }

    static let invalidTags: [(tags: [Eddy.Tag], message: String)] = [
        ([Eddy.Tag(key: "", value: "v")], "The Tag Key provided is invalid, Key: "),
        ([Eddy.Tag(key: ascii(129, "k"), value: "v")], "The Tag Key provided is invalid, Key: \(ascii(129, "k"))"),
        ([Eddy.Tag(key: "a,b", value: "v")], "The Tag Key provided is invalid, Key: a,b"),
        ([Eddy.Tag(key: "k", value: ascii(257, "v"))], "The Tag Value provided is invalid, Value: \(ascii(257, "v"))"),
        ([Eddy.Tag(key: "k", value: "100%")], "The Tag Value provided is invalid, Value: 100%"),
        ([Eddy.Tag(key: "k", value: "(x)")], "The Tag Value provided is invalid, Value: (x)"),
        ([Eddy.Tag(key: "good", value: "v"), Eddy.Tag(key: "aws:zzz", value: "v")], "Tag Key cannot be prefixed with aws:, Key: aws:zzz"),
        ([Eddy.Tag(key: "dup", value: "1"), Eddy.Tag(key: "dup", value: "2")], "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"),
        ((0...50).map { Eddy.Tag(key: "k\($0)", value: "v") }, "Number of Tags exceed the current limit for the provided ResourceArn"),
        ([], "Atleast one Tag needs to be provided as Input."),
    ]

    @Test(arguments: invalidTags)
    func invalidTagsAreRefusedAndChangeNothing(tags: [Eddy.Tag], message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            try await Self.tag(db, [Eddy.Tag(key: "kept", value: "yes")])
            await expectValidation(message) { try await Self.tag(db, tags) }
            #expect(try await Self.tags(db) == [Eddy.Tag(key: "kept", value: "yes")])
        }
    }

    @Test func keysAndValuesMayUseLettersOfAnyScriptAndTheLimitsAreInclusive() async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            let accepted = [
                Eddy.Tag(key: "ключ", value: "café 表"), Eddy.Tag(key: "a+b-c=d.e_f:g/h", value: "x y"),
                Eddy.Tag(key: ascii(128, "k"), value: ascii(256, "v")),
            ]
            try await Self.tag(db, accepted)
            #expect(Set(try await Self.tags(db)) == Set(accepted))
        }
    }

    @Test func fiftyTagsFitAndTheFiftyFirstDoesNot() async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            try await Self.tag(db, (0..<30).map { Eddy.Tag(key: "k\($0)", value: "v") })
            try await Self.tag(db, (20..<50).map { Eddy.Tag(key: "k\($0)", value: "w") })
            #expect(try await Self.tags(db).count == 50)
            await expectValidation("Number of Tags exceed the current limit for the provided ResourceArn") {
                try await Self.tag(db, [Eddy.Tag(key: "one-more", value: "v")])
            }
            try await Self.tag(db, [Eddy.Tag(key: "k0", value: "replaced")])
            #expect(try await Self.tags(db).first { $0.key == "k0" }?.value == "replaced")
        }
    }

    @Test func listingPagesInKeyOrder() async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            let all = (0..<25).map { Eddy.Tag(key: String(format: "key%02d", $0), value: "\($0)") }
            try await Self.tag(db, all.reversed())
            let first = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: Self.arn))
            #expect(first.tags == Array(all[0..<10]))
            #expect(first.nextToken != nil)
            #expect(try await Self.tags(db) == all)
            let last = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: Self.arn, nextToken: "key19"))
            #expect(last.tags == Array(all[20...]))
            #expect(last.nextToken == nil)
        }
    }

    static let invalidUntags: [(keys: [String], message: String)] = [
        ([], "Atleast one Tag Key needs to be provided as Input."),
        ([""], "The Tag Key provided is invalid, Key: "),
        ([ascii(129, "k")], "The Tag Key provided is invalid, Key: \(ascii(129, "k"))"),
        ((0...50).map { "k\($0)" }, "Number of Tags exceed the current limit for the provided ResourceArn"),
    ]

    @Test(arguments: invalidUntags)
    func invalidUntagsAreRefused(keys: [String], message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            try await Self.tag(db, [Eddy.Tag(key: "kept", value: "yes")])
            await expectValidation(message) { try await db.untagResource(UntagResourceInput(resourceArn: Self.arn, tagKeys: keys)) }
            #expect(try await Self.tags(db) == [Eddy.Tag(key: "kept", value: "yes")])
        }
    }

    static let refusedArns: [(arn: String, type: String, message: String)] = [
        ("", "ValidationException",
         "1 validation error detected: Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1"),
        ("Orders", "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input Orders"),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/Orders/index/byDate", "ValidationException",
         "Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:us-east-1:000000000000:table/Orders/index/byDate"),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2026-01-01T00:00:00.000", "ValidationException",
         "Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2026-01-01T00:00:00.000"),
        ("arn:aws:s3:us-east-1:000000000000:table/Orders", "ValidationException",
         "Invalid TableArn: Invalid ResourceArn provided as input arn:aws:s3:us-east-1:000000000000:table/Orders"),
        ("arn:aws:dynamodb:eu-west-1:000000000000:table/Orders", "ValidationException",
         "Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:eu-west-1:000000000000:table/Orders"),
        ("arn:aws:dynamodb:us-east-1:111111111111:table/Orders", "AccessDeniedException",
         "User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: "
            + "arn:aws:dynamodb:us-east-1:111111111111:table/Orders because no resource-based policy allows the dynamodb:ListTagsOfResource action"),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/Absent", "ResourceNotFoundException",
         "Requested resource not found: ResourcArn: arn:aws:dynamodb:us-east-1:000000000000:table/Absent not found"),
    ]

    @Test(arguments: refusedArns)
    func arnsOtherThanATableOfThisDatabaseAreRefused(arn: String, type: String, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            await expectEddyError(type, message) { _ = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn)) }
            await expectEddyError(type, message.replacingOccurrences(of: "ListTagsOfResource", with: "TagResource")) {
                try await db.tagResource(TagResourceInput(resourceArn: arn, tags: [Eddy.Tag(key: "k", value: "v")]))
            }
            await expectEddyError(type, message.replacingOccurrences(of: "ListTagsOfResource", with: "UntagResource")) {
                try await db.untagResource(UntagResourceInput(resourceArn: arn, tagKeys: ["k"]))
            }
        }
    }

    @Test func theArnFollowsTheDatabasesRegionAndAccount() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db", configuration: .init(region: "eu-central-1", accountId: "123456789012"))
            try await createTable(db, "Orders")
            let arn = "arn:aws:dynamodb:eu-central-1:123456789012:table/Orders"
            try await db.tagResource(TagResourceInput(resourceArn: arn, tags: [Eddy.Tag(key: "k", value: "v")]))
            #expect(try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn)).tags == [Eddy.Tag(key: "k", value: "v")])
            await expectValidation {
                _ = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"))
            }
            await expectEddyError("AccessDeniedException") { _ = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: Self.arn)) }
        }
    }

    @Test func createTableTagsAreCheckedAndAnInvalidSetCreatesNoTable() async throws {
        try await withDatabase { db in
            let keySchema = [KeySchemaElement(attributeName: "pk", keyType: .hash)]
            let definitions = [AttributeDefinition(attributeName: "pk", attributeType: .s)]
            func create(_ tags: [Eddy.Tag]?) async throws {
                try await db.createTable(CreateTableInput(
                    tableName: "Orders", keySchema: keySchema, attributeDefinitions: definitions, billingMode: .payPerRequest, tags: tags))
            }
            await expectValidation("Tag Key cannot be prefixed with aws:, Key: aws:foo") { try await create([Eddy.Tag(key: "aws:foo", value: "v")]) }
            await expectValidation("Number of Tags exceed the current limit for the provided ResourceArn") {
                try await create((0...50).map { Eddy.Tag(key: "k\($0)", value: "v") })
            }
            await expectEddyError("ResourceNotFoundException") { _ = try await db.describeTable(tableName: "Orders") }
            try await create([Eddy.Tag(key: "b", value: "2"), Eddy.Tag(key: "a", value: "1")])
            #expect(try await Self.tags(db) == [Eddy.Tag(key: "a", value: "1"), Eddy.Tag(key: "b", value: "2")])
        }
    }

    @Test func tagsSurviveARestartAndGoWithTheTable() async throws {
        try await withTemporaryDirectory { path in
            do {
                let db = try Database(path: path + "/db")
                try await createTable(db, "Orders")
                try await Self.tag(db, [Eddy.Tag(key: "team", value: "payments")])
            }
            let db = try Database(path: path + "/db")
            #expect(try await Self.tags(db) == [Eddy.Tag(key: "team", value: "payments")])
            try await db.deleteTable(tableName: "Orders")
            await expectEddyError("ResourceNotFoundException") { _ = try await Self.tags(db) }
            try await createTable(db, "Orders")
            #expect(try await Self.tags(db).isEmpty)
        }
    }

    @Test func aTagWithoutKeyOrValueDecodesAsDynamoDBRefusesIt() throws {
        let decoder = JSONDecoder()
        #expect(throws: EddyError.validation("The Tag Key provided is invalid, Key: null")) {
            try decoder.decode(Eddy.Tag.self, from: Data(#"{"Value": "v"}"#.utf8))
        }
        #expect(throws: EddyError.validation("The Tag Value provided is invalid, Value: null")) {
            try decoder.decode(Eddy.Tag.self, from: Data(#"{"Key": "k"}"#.utf8))
        }
        #expect(try decoder.decode(Eddy.Tag.self, from: Data(#"{"Key": "k", "Value": ""}"#.utf8)) == Eddy.Tag(key: "k", value: ""))
    }
}
