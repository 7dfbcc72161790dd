import Foundation

/// A JSON document as a tree: what event filters (``EventFilter``) are written in and what they match.
///
/// ```swift
/// let event = try JSONValue(parsing: #"{"eventName": "INSERT", "dynamodb": {"SizeBytes": 26}}"#)
/// event["eventName"] // .string("INSERT")
/// ```
///
/// Numbers are binary doubles: enough for the comparisons of a filter's `numeric` rules. DynamoDB's own
/// numbers stay exact, because DynamoDB JSON carries them as strings (`{"N": "42"}`).
enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; throws a `ValidationException` when `text` is not JSON.
    init(parsing text: String) throws(EddyError) {
        try self.init(parsing: Data(text.utf8))
    }

    /// Parses JSON bytes (UTF-8); throws a `ValidationException` when `data` is not JSON.
    init(parsing data: Data) throws(EddyError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .validation("The value is not valid JSON")
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object; nil for a missing member or a value that is not an object.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// Whether the value is a scalar (null, boolean, number or string), not an array or object.
    var isLeaf: Bool {
        switch self {
        case .array, .object: false
        case .null, .bool, .number, .string: true
        }
    }
}
