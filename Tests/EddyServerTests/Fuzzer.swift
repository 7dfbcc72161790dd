@testable import EddyServer

/// Generates fuzzed requests from a seed: random bytes, random JSON, unknown targets, truncated bodies, and
/// valid requests for every served target broken by ``Mutation``s.
struct Fuzzer {
    /// Which requests the fuzzer makes.
    enum Scope: Sendable {
        /// Only requests that must fail. CreateTable names a table that exists, as a second guard: not even
        /// a mutation that failed to break a request could create one. UpdateTable, DeleteTable and
        /// UpdateTimeToLive name the data set's tables most of the time, so that their validation is reached
        /// (only the mutation makes them fail there), and otherwise one that does not exist.
        case invalidOnly
        /// Any request, valid ones included; table-level writes aim at the pool tables, except
        /// UpdateTimeToLive, which also aims at the data set's tables.
        case mixed
    }

    /// A generated request, with what made it, to count and to report.
    struct Case: Sendable {
        /// The operation whose body the request was made from (its target may be another, or none).
        var operation: FuzzOperation
        var request: FuzzRequest
        /// The generator and mutations applied, such as `PutItem wrongType+truncate`.
        var label: String
        /// The generator alone, such as `mutated` or `randomBytes`.
        var generator: String
    }

    var rng: SeededGenerator
    var fixture = FuzzFixture.unloaded
    let scope: Scope

    /// The `X-Amz-Target` values the server answers: its own operation table's.
    static let servedTargets = Set(Operations().targets)

    /// The operations fuzzed: every one the server serves that has a generator. `FuzzTests` fails if one
    /// has none.
    static let operations = Operations().targets.compactMap(FuzzOperation.init(target:))

    init(seed: UInt64, scope: Scope) {
        rng = SeededGenerator(seed: seed)
        self.scope = scope
    }

    /// The next request of the scope's mix.
    mutating func next() -> Case {
        switch scope {
        case .invalidOnly:
            switch rng.int(0...99) {
            case 0..<5: randomBytes()
            case 5..<10: randomJSON()
            case 10..<15: unknownTarget()
            case 15..<25: truncated()
            default: mutated(using: Mutation.invalidating)
            }
        case .mixed:
            switch rng.int(0...99) {
            case 0..<25: valid()
            case 25..<30: randomBytes()
            case 30..<35: randomJSON()
            case 35..<40: unknownTarget()
            case 40..<48: truncated()
            default: mutated(using: Mutation.allCases)
            }
        }
    }

    /// The table CreateTable names.
    mutating func createTableName() -> String {
        scope == .invalidOnly ? FuzzFixture.hashTable.name : rng.pick(FuzzFixture.poolTableNames)
    }

    /// The table UpdateTable and DeleteTable name.
    mutating func changedTableName() -> String {
        switch scope {
        case .invalidOnly: rng.chance(0.7) ? dataTable().name : FuzzFixture.absentTableName
        case .mixed: rng.pick(FuzzFixture.poolTableNames)
        }
    }

    /// The table UpdateTimeToLive and DescribeTimeToLive name: when only invalid requests are wanted, as
    /// ``changedTableName()``; else mostly a pool table, where a valid request may succeed (a table's
    /// setting changes at most once an hour), sometimes a data table.
    mutating func timeToLiveTableName() -> String {
        switch scope {
        case .invalidOnly: changedTableName()
        case .mixed: rng.chance(0.75) ? rng.pick(FuzzFixture.poolTableNames) : dataTable().name
        }
    }

    // MARK: - Generators

    /// A valid request for a random served operation.
    private mutating func valid() -> Case {
        let operation = rng.pick(Self.operations)
        return Case(
            operation: operation, request: FuzzRequest(target: operation.target, body: validBody(operation).bytes), label: operation.rawValue,
            generator: "valid")
    }

    /// A served operation's valid body with mutations from `mutations`: one when only invalid requests are
    /// wanted (a second could undo the first, as a wrong type replaced by the right one), else one to three.
    private mutating func mutated(using mutations: [Mutation]) -> Case {
        let operation = rng.pick(Self.operations)
        var body = validBody(operation)
        var applied: [String] = []
        let draws = mutations.flatMap { Array(repeating: $0, count: $0.weight) }
        for _ in 0..<(scope == .mixed && rng.chance(0.2) ? rng.int(2...3) : 1) {
            let mutation = rng.pick(draws)
            if let result = apply(mutation, to: body, operation) {
                body = result
                applied.append(mutation.rawValue)
            }
        }
        if applied.isEmpty, let result = apply(.wrongType, to: body, operation) {
            body = result
            applied.append(Mutation.wrongType.rawValue)
        }
        return Case(
            operation: operation, request: FuzzRequest(target: operation.target, body: body.bytes),
            label: "\(operation.rawValue) \(applied.joined(separator: "+"))", generator: "mutated")
    }

    /// Random bytes to a served target. When only invalid requests are wanted, the first byte is printable
    /// ASCII other than `{`: never the start of a JSON object, in UTF-8 or any other encoding.
    private mutating func randomBytes() -> Case {
        let operation = rng.pick(Self.operations)
        var bytes = rng.bytes(rng.chance(0.05) ? rng.int(1...4096) : rng.int(1...64))
        if scope == .invalidOnly {
            bytes[0] = rng.pick(Array(0x21...0x7E).filter { $0 != UInt8(ascii: "{") })
        } else if rng.chance(0.1) {
            bytes = []
        }
        return Case(
            operation: operation, request: FuzzRequest(target: operation.target, body: bytes), label: "\(operation.rawValue) randomBytes",
            generator: "randomBytes")
    }

    /// A random JSON document to a served target. When only invalid requests are wanted, it is either not an
    /// object, or an object whose member names are none of the API's, sent to an operation with a required
    /// member.
    private mutating func randomJSON() -> Case {
        var operation = rng.pick(Self.operations)
        let document: FuzzJSON
        if scope == .invalidOnly {
            if rng.chance(0.5) {
                document = randomValue(depth: 3, kind: rng.pick([.array, .string, .number, .bool, .null]))
            } else {
                let withoutRequiredMembers: Set<FuzzOperation> = [
                    .listTables, .listStreams, .describeLimits, .describeEndpoints, .listContributorInsights,
                ]
                operation = rng.pick(Self.operations.filter { !withoutRequiredMembers.contains($0) })
                document = randomValue(depth: 3, kind: .object)
            }
        } else {
            document = randomValue(depth: 3)
        }
        return Case(
            operation: operation, request: FuzzRequest(target: operation.target, body: document.bytes), label: "\(operation.rawValue) randomJSON",
            generator: "randomJSON")
    }

    /// A valid body sent to a target the server does not serve: a served one misspelled, or one of
    /// DynamoDB's operations that Eddy does not have. A candidate the server serves is never sent.
    private mutating func unknownTarget() -> Case {
        let operation = rng.pick(Self.operations)
        let candidates: [String?] = [
            nil, "", operation.target + "X", operation.target.lowercased(), operation.target.uppercased(), operation.target + " ",
            " " + operation.target, operation.target + "\u{0}", operation.rawValue, "DynamoDB_20111205." + operation.rawValue,
            "DynamoDBStreams_20120810." + operation.rawValue, "DynamoDB_20120810." + operation.rawValue + "s",
            "DynamoDB_20120810.", ".", rng.unicodeText(rng.int(1...20)), "DynamoDB_20120810.ExecuteStatement",
            "DynamoDB_20120810.BatchExecuteStatement", "DynamoDB_20120810.ExecuteTransaction", "DynamoDB_20120810.ListBackups",
            "DynamoDB_20120810.CreateBackup", "DynamoDB_20120810.DescribeKinesisStreamingDestination", "DynamoDB_20120810.DescribeExport",
        ]
        var target = rng.pick(candidates)
        if let chosen = target, Self.servedTargets.contains(chosen) {
            target = chosen + "X"
        }
        return Case(
            operation: operation, request: FuzzRequest(target: target, body: validBody(operation).bytes), label: "\(operation.rawValue) unknownTarget",
            generator: "unknownTarget")
    }

    /// A valid or mutated body cut short: at least one byte, never all of them. No strict prefix of a JSON
    /// object is JSON. (An empty body would be the empty request.)
    ///
    /// A cut that ends a body with the `[` opening its 513th level is moved one byte back: that body crashes
    /// the process inside Foundation's `JSONDecoder`, which `NestingCrashTests` shows in a child process.
    private mutating func truncated() -> Case {
        var generated = rng.chance(0.7) ? valid() : mutated(using: Mutation.invalidating)
        let body = generated.request.body
        guard body.count > 1 else { return generated }
        var cut = rng.int(1...(body.count - 1))
        if body[cut - 1] == UInt8(ascii: "["), Self.nestingDepth(of: body.prefix(cut)) == Self.decoderCrashDepth {
            cut -= 1
        }
        generated.request.body = Array(body.prefix(cut))
        generated.label += " truncate"
        generated.generator = "truncated"
        return generated
    }

    /// The nesting level whose opening `[`, as a body's last byte, crashes Foundation's `JSONDecoder`.
    static let decoderCrashDepth = 513

    /// How many arrays and objects are open at the end of `bytes`, brackets inside strings not counted.
    static func nestingDepth(of bytes: ArraySlice<UInt8>) -> Int {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if escaped {
                escaped = false
            } else if inString {
                escaped = byte == UInt8(ascii: "\\")
                inString = byte != UInt8(ascii: "\"")
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
        }
        return depth
    }

    // MARK: - Random JSON

    /// Member names of the API, for random objects that may hit a real member.
    static let vocabulary = [
        "TableName", "Item", "Key", "Keys", "RequestItems", "Limit", "ExclusiveStartKey", "ConditionExpression",
        "UpdateExpression", "KeyConditionExpression", "FilterExpression", "ProjectionExpression", "ExpressionAttributeNames",
        "ExpressionAttributeValues", "ReturnValues", "Select", "Segment", "TotalSegments", "KeySchema",
        "AttributeDefinitions", "StreamSpecification", "StreamArn", "ShardId", "ShardIteratorType", "ShardIterator",
        "IndexName", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "GlobalSecondaryIndexUpdates", "Projection",
        "ProjectionType", "NonKeyAttributes", "TransactItems", "ClientRequestToken", "Put", "Update", "Delete",
        "ConditionCheck", "Get", "Create", "TimeToLiveSpecification", "Enabled", "AttributeName", "ReturnItemCollectionMetrics",
        "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "pk", "sk", "gpk", "gsk", "lsk",
    ]

    /// A random JSON value of `kind` (any kind but raw when nil), nesting at most `depth` more levels.
    mutating func randomValue(depth: Int, kind: FuzzJSON.Kind? = nil) -> FuzzJSON {
        let chosen = kind ?? rng.pick(depth > 0 ? [.object, .array, .string, .number, .bool, .null] : [.string, .number, .bool, .null])
        switch chosen {
        case .object:
            let members = (0..<(depth > 0 ? rng.int(0...4) : 0)).map { _ in
                FuzzMember(name: Array(randomName().utf8), value: randomValue(depth: depth - 1))
            }
            return .object(members)
        case .array:
            return .array((0..<(depth > 0 ? rng.int(0...4) : 0)).map { _ in randomValue(depth: depth - 1) })
        case .string:
            return .string(rng.unicodeText(rng.int(0...16)))
        case .number:
            return .number(rng.pick(["0", "-1", "1.5", "1e3", "-0", String(rng.int(-1_000_000...1_000_000)), "123456789012345678901234567890"]))
        case .bool:
            return .bool(rng.chance(0.5))
        case .null, .raw:
            return .null
        }
    }

    /// A member name for a random object: never one of the API's when only invalid requests are wanted.
    private mutating func randomName() -> String {
        if scope == .mixed, rng.chance(0.5) { return rng.pick(Self.vocabulary) }
        return "x" + rng.text(rng.int(0...8))
    }
}
