import Crypto
import Eddy
import Foundation

/// The `_id` of an item's document in the search index: made from the item's primary key, the same for every
/// change of the item, different for two items of one table, and never longer than Elasticsearch's 512 bytes.
///
/// ```swift
/// SearchDocumentID.make(partitionKey: .s("user#1"), sortKey: .n(DecimalNumber("7")!))  // "user#1|7"
/// ```
///
/// The readable form is each key value's text (a string itself, a number its canonical text, a binary its
/// Base64), `\` and `|` escaped with a `\`, the two joined by an unescaped `|`. Where that form is longer
/// than ``bytesMax``, the `_id` is `\#` and the lowercase hex SHA-256 of the readable form (66 bytes). A
/// readable form never holds `\#` (each `\` in it is followed by `\` or `|`), so the two forms cannot meet;
/// two long keys share an `_id` only if SHA-256 collides.
public enum SearchDocumentID {
    /// Elasticsearch's limit on a document's `_id`, in UTF-8 bytes.
    public static let bytesMax = 512
    /// What starts an `_id` in hashed form.
    static let hashedPrefix = "\\#"

    /// The `_id` of the item whose key attributes have values `partitionKey` and `sortKey`.
    public static func make(partitionKey: AttributeValue, sortKey: AttributeValue?) -> String {
        var readable = escaped(partitionKey)
        if let sortKey {
            readable += "|"
            readable += escaped(sortKey)
        }
        guard readable.utf8.count > bytesMax else { return readable }
        let digest = SHA256.hash(data: Array(readable.utf8))
        return hashedPrefix + digest.map { String(format: "%02x", $0) }.joined()
    }

    /// A key value's text with `\` and `|` escaped.
    private static func escaped(_ value: AttributeValue) -> String {
        let text: String
        switch value {
        case .s(let string): text = string
        case .n(let number): text = number.description
        case .b(let bytes): text = Data(bytes).base64EncodedString()
        // Key attributes are S, N or B: DynamoDB refuses any other type in a key.
        default: preconditionFailure("a key attribute of type other than S, N or B")
        }
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "|") }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for character in text.unicodeScalars {
            if character == "\\" || character == "|" { result.unicodeScalars.append("\\") }
            result.unicodeScalars.append(character)
        }
        return result
    }
}
