import Foundation

/// What of a stream record's keys and images a mapping's filter patterns can look at, so that a record is
/// matched with only those attributes decoded.
///
/// A pattern reaches an image through `dynamodb` (`{"dynamodb": {"NewImage": {"status": …}}}`): it names
/// top-level attributes of `Keys`, `NewImage` and `OldImage` (in `$or` groups too). A pattern that puts rules
/// on an image as a whole, or on `dynamodb` itself, needs that image, or every image, whole. An attribute no
/// pattern names cannot change whether a record matches (a pattern matches a missing member and an absent
/// object alike), so the record a filter sees has only the attributes named.
struct FilterSelection: Sendable, Equatable {
    /// What one image contributes.
    enum Part: Sendable, Equatable {
        /// These top-level attributes (the empty set: none).
        case attributes(Set<String>)
        case whole

        /// Both parts together.
        func union(_ other: Part) -> Part {
            switch (self, other) {
            case (.attributes(let names), .attributes(let more)): .attributes(names.union(more))
            default: .whole
            }
        }
    }

    var keys = Part.attributes([])
    var newImage = Part.attributes([])
    var oldImage = Part.attributes([])

    /// What `patterns` name, together.
    init(_ patterns: [PatternObject]) {
        for pattern in patterns { addRecordLevel(pattern) }
    }

    /// A pattern object matched against the whole record.
    private mutating func addRecordLevel(_ object: PatternObject) {
        for field in object.fields where field.name == "dynamodb" {
            switch field.body {
            case .nested(let dynamodb): addDynamoDBLevel(dynamodb)
            case .rules:
                for image in [StreamImage.keys, .newImage, .oldImage] { add(.whole, to: image) }
            }
        }
        for group in object.alternatives {
            for alternative in group { addRecordLevel(alternative) }
        }
    }

    /// A pattern object matched against the record's `dynamodb` member.
    private mutating func addDynamoDBLevel(_ object: PatternObject) {
        for field in object.fields {
            guard let image = Self.image(named: field.name) else { continue }
            switch field.body {
            case .nested(let attributes): add(.attributes(Self.names(in: attributes)), to: image)
            case .rules: add(.whole, to: image)
            }
        }
        for group in object.alternatives {
            for alternative in group { addDynamoDBLevel(alternative) }
        }
    }

    /// The attribute names a pattern object matched against an image names, in its `$or` groups too.
    private static func names(in object: PatternObject) -> Set<String> {
        var names = Set(object.fields.map(\.name))
        for group in object.alternatives {
            for alternative in group { names.formUnion(Self.names(in: alternative)) }
        }
        return names
    }

    private static func image(named name: String) -> StreamImage? {
        switch name {
        case "Keys": .keys
        case "NewImage": .newImage
        case "OldImage": .oldImage
        default: nil
        }
    }

    private mutating func add(_ part: Part, to image: StreamImage) {
        switch image {
        case .keys: keys = keys.union(part)
        case .newImage: newImage = newImage.union(part)
        case .oldImage: oldImage = oldImage.union(part)
        }
    }

    private func part(_ image: StreamImage) -> Part {
        switch image {
        case .keys: keys
        case .newImage: newImage
        case .oldImage: oldImage
        }
    }

    /// `record` as Lambda's filters see it, the JSON of its DynamoDB Streams wire form (what `JSONEncoder`
    /// writes for a ``StreamRecord``), with only the attributes of its keys and images this selection names.
    /// Only those are decoded when the record holds its stored bytes.
    func json(of record: StreamRecord) -> JSONValue {
        let data = record.dynamodb
        var dynamodb: [String: JSONValue] = [
            "ApproximateCreationDateTime": .number(data.approximateCreationDateTime),
            "Keys": attributes(.keys, of: data),
            "SequenceNumber": .string(data.sequenceNumber),
            "SizeBytes": .number(Double(data.sizeBytes)),
            "StreamViewType": .string(data.streamViewType.rawValue),
        ]
        if data.carries(.newImage) { dynamodb["NewImage"] = attributes(.newImage, of: data) }
        if data.carries(.oldImage) { dynamodb["OldImage"] = attributes(.oldImage, of: data) }
        var members: [String: JSONValue] = [
            "eventID": .string(record.eventID), "eventName": .string(record.eventName.rawValue),
            "eventVersion": .string(record.eventVersion), "eventSource": .string(record.eventSource),
            "awsRegion": .string(record.awsRegion), "dynamodb": .object(dynamodb),
        ]
        if let identity = record.userIdentity {
            members["userIdentity"] = .object(["PrincipalId": .string(identity.principalId), "Type": .string(identity.type)])
        }
        return .object(members)
    }

    /// The selected attributes of `image` (which `data` carries) as a JSON object of DynamoDB-typed values.
    private func attributes(_ image: StreamImage, of data: StreamRecordData) -> JSONValue {
        let item: Item
        switch part(image) {
        case .whole:
            item = Self.decoded(image, of: data)
        case .attributes(let names) where names.isEmpty:
            item = [:]
        case .attributes(let names):
            if let encoded = data.encodedImages, let range = encoded.range(of: image) {
                do {
                    item = try ItemEncoding.attributes(names, of: encoded.bytes, in: range)
                } catch {
                    preconditionFailure("a stream record's images were checked when read, yet do not decode: \(error)")
                }
            } else {
                item = Self.decoded(image, of: data).filter { names.contains($0.key) }
            }
        }
        return .object(item.mapValues(JSONValue.init))
    }

    private static func decoded(_ image: StreamImage, of data: StreamRecordData) -> Item {
        switch image {
        case .keys: data.keys
        case .newImage: data.newImage ?? [:]
        case .oldImage: data.oldImage ?? [:]
        }
    }
}

extension JSONValue {
    /// `value` in DynamoDB's JSON, as `AttributeValue`'s `Codable` conformance writes it: `{"S": "…"}`,
    /// numbers as their text, binaries in Base64, `{"NULL": true}`.
    init(_ value: AttributeValue) {
        switch value {
        case .s(let text): self = .object(["S": .string(text)])
        case .n(let number): self = .object(["N": .string(number.description)])
        case .b(let binary): self = .object(["B": .string(Data(binary).base64EncodedString())])
        case .bool(let flag): self = .object(["BOOL": .bool(flag)])
        case .null: self = .object(["NULL": .bool(true)])
        case .m(let map): self = .object(["M": .object(map.mapValues(JSONValue.init))])
        case .l(let list): self = .object(["L": .array(list.map(JSONValue.init))])
        case .ss(let texts): self = .object(["SS": .array(texts.map(JSONValue.string))])
        case .ns(let numbers): self = .object(["NS": .array(numbers.map { .string($0.description) })])
        case .bs(let binaries): self = .object(["BS": .array(binaries.map { .string(Data($0).base64EncodedString()) })])
        }
    }
}
