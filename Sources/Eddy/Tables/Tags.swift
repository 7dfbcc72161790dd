import Foundation

/// A tag on a table: a key and a value, both case-sensitive (DynamoDB's `Tag`).
///
/// A key is 1 to 128 characters, a value 0 to 256, each of letters, digits, white space and `+ - = . _ : /`
/// ("Tagging restrictions in DynamoDB"); keys starting with `aws:` are AWS's own and cannot be set.
public struct Tag: Codable, Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case key = "Key", value = "Value" }

    /// Decodes a tag; a missing key or value is DynamoDB's `ValidationException` naming it `null`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let key = try container.decodeIfPresent(String.self, forKey: .key) else {
            throw TagValidation.invalidKey("null")
        }
        guard let value = try container.decodeIfPresent(String.self, forKey: .value) else {
            throw TagValidation.invalidValue("null")
        }
        self.key = key
        self.value = value
    }
}

/// The request of ``Database/tagResource(_:)``.
public struct TagResourceInput: Codable, Sendable {
    /// The table's ARN, `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    public var resourceArn: String
    /// The tags to add; a key the table has already gets the new value.
    public var tags: [Tag]

    public init(resourceArn: String, tags: [Tag]) {
        self.resourceArn = resourceArn
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case resourceArn = "ResourceArn", tags = "Tags" }
}

/// The (empty) answer of ``Database/tagResource(_:)``.
public struct TagResourceOutput: Codable, Sendable, Equatable {
    public init() {}
}

/// The request of ``Database/untagResource(_:)``.
public struct UntagResourceInput: Codable, Sendable {
    /// The table's ARN.
    public var resourceArn: String
    /// The keys of the tags to remove; a key the table does not have is no error.
    public var tagKeys: [String]

    public init(resourceArn: String, tagKeys: [String]) {
        self.resourceArn = resourceArn
        self.tagKeys = tagKeys
    }

    enum CodingKeys: String, CodingKey { case resourceArn = "ResourceArn", tagKeys = "TagKeys" }
}

/// The (empty) answer of ``Database/untagResource(_:)``.
public struct UntagResourceOutput: Codable, Sendable, Equatable {
    public init() {}
}

/// The request of ``Database/listTagsOfResource(_:)``.
public struct ListTagsOfResourceInput: Codable, Sendable {
    /// The table's ARN.
    public var resourceArn: String
    /// Where the page starts: the previous page's ``ListTagsOfResourceOutput/nextToken``.
    public var nextToken: String?

    public init(resourceArn: String, nextToken: String? = nil) {
        self.resourceArn = resourceArn
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey { case resourceArn = "ResourceArn", nextToken = "NextToken" }
}

/// One page of a table's tags, in the order of their keys.
public struct ListTagsOfResourceOutput: Codable, Sendable, Equatable {
    public var tags: [Tag]
    /// Present when more tags follow: the next request's ``ListTagsOfResourceInput/nextToken``.
    public var nextToken: String?

    public init(tags: [Tag], nextToken: String? = nil) {
        self.tags = tags
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey { case tags = "Tags", nextToken = "NextToken" }
}

/// DynamoDB's checks of tags and their messages (observed from DynamoDB; the limits are the developer
/// guide's "Tagging restrictions in DynamoDB").
enum TagValidation {
    static let reservedPrefix = "aws:"

    /// The tags of one request, checked (their count, then each tag's key, reserved prefix and value in
    /// order, then that no key repeats) and sorted by key.
    static func validated(_ tags: [Tag]) throws(EddyError) -> [Tag] {
        try checkCount(tags.count)
        var keys: Set<String> = []
        for tag in tags {
            try validateKey(tag.key)
            guard isValid(tag.value, length: 0...Limits.tagValueLengthMax) else { throw invalidValue(tag.value) }
        }
        for tag in tags where !keys.insert(tag.key).inserted {
            throw .validation("Duplicate Tag Keys provided as input: Duplicate Tag Key found \(tag.key)")
        }
        return tags.sorted { $0.key < $1.key }
    }

    /// Checks one tag key: its length, characters and the reserved `aws:` prefix.
    static func validateKey(_ key: String) throws(EddyError) {
        guard isValid(key, length: Limits.tagKeyLengthRange) else { throw invalidKey(key) }
        guard !key.hasPrefix(reservedPrefix) else {
            throw .validation("Tag Key cannot be prefixed with \(reservedPrefix), Key: \(key)")
        }
    }

    /// `tags` laid over `current` (a key present gets the new value), sorted by key.
    static func merging(_ tags: [Tag], into current: [Tag]) throws(EddyError) -> [Tag] {
        var merged = Dictionary(current.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        for tag in tags { merged[tag.key] = tag.value }
        try checkCount(merged.count)
        return merged.map { Tag(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
    }

    /// Refuses more than ``Limits/tagsPerResourceMax`` tags (or keys in one request).
    static func checkCount(_ count: Int) throws(EddyError) {
        guard count <= Limits.tagsPerResourceMax else {
            throw .validation("Number of Tags exceed the current limit for the provided ResourceArn")
        }
    }

    static func invalidKey(_ key: String) -> EddyError {
        .validation("The Tag Key provided is invalid, Key: \(key)")
    }

    static func invalidValue(_ value: String) -> EddyError {
        .validation("The Tag Value provided is invalid, Value: \(value)")
    }

    /// Whether `text` has a length in `length` (in Unicode characters) and only letters, digits, white
    /// space and `+ - = . _ : /`.
    private static func isValid(_ text: String, length: ClosedRange<Int>) -> Bool {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            guard count <= length.upperBound, isAllowed(scalar) else { return false }
        }
        return count >= length.lowerBound
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            true
        default:
            allowedPunctuation.contains(scalar)
        }
    }

    private static let allowedPunctuation: Set<Unicode.Scalar> = ["+", "-", "=", ".", "_", ":", "/"]
}

/// A table named by its ARN, as the tagging operations take it.
enum TableResourceArn {
    /// The name of the table `arn` names, for `operation` (`TagResource`…).
    ///
    /// - Throws: `ValidationException` for an ARN that is too long, is not a table's (an index's or a
    ///   stream's), or names another Region; `AccessDeniedException` for another account's table.
    static func tableName(of arn: String, region: String, accountId: String, operation: String) throws(EddyError) -> String {
        guard !arn.isEmpty else {
            throw TableValidation.constraint(value: arn, field: "resourceArn", "Member must have length greater than or equal to 1")
        }
        guard arn.utf8.count <= resourceArnLengthMax else {
            throw TableValidation.constraint(
                value: arn, field: "resourceArn", "Member must have length less than or equal to \(resourceArnLengthMax)")
        }
        let invalid = EddyError.validation("Invalid TableArn: Invalid ResourceArn provided as input \(arn)")
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "dynamodb", !parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy(\.isASCIIDigit), parts[5].hasPrefix(tablePrefix)
        else { throw invalid }
        let name = String(parts[5].dropFirst(tablePrefix.count))
        guard (try? TableValidation.validateTableName(name)) != nil else { throw invalid }
        guard parts[4] == accountId else {
            throw .accessDenied(
                "User: arn:aws:iam::\(accountId):root is not authorized to perform: dynamodb:\(operation) on resource: \(arn) "
                    + "because no resource-based policy allows the dynamodb:\(operation) action")
        }
        guard parts[3] == region else { throw invalid }
        return name
    }

    /// DynamoDB's answer for a well-formed ARN that names no table (`ResourcArn` is DynamoDB's own spelling).
    static func notFound(_ arn: String) -> EddyError {
        .resourceNotFound("Requested resource not found: ResourcArn: \(arn) not found")
    }

    /// The longest `ResourceArn` (API reference, `ResourceArnString`).
    static let resourceArnLengthMax = 1283
    private static let tablePrefix = "table/"
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
