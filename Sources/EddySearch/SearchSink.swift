import AsyncHTTPClient
import Eddy
import Foundation
import NIOCore
import NIOHTTP1

/// Where a search-index trigger mapping sends its records: an index of an Elasticsearch or OpenSearch
/// cluster, written through its REST bulk API.
///
/// ```swift
/// let sink = try SearchSink(endpoint: "http://127.0.0.1:9200", index: "users")
/// try await triggers.registerSearch(name: "users-to-search", configuration: settings, sink: sink)
/// ```
///
/// Each item is one document, whose `_id` comes from its primary key (``SearchDocumentID``) and whose
/// source is its latest image as plain JSON; a REMOVE deletes it. Every write carries the record's sequence
/// number as an external version, so a change delivered again, or after a later one, changes nothing (see
/// ``TriggerRuntime/registerSearch(name:configuration:sink:onFailure:target:)``). The sink speaks HTTP/1.1
/// without authentication, through AsyncHTTPClient's shared client unless given another.
public final class SearchSink: Sendable {
    /// The cluster's URL: `http` or `https`, a host and a port, and maybe a path prefix (a proxy's), without a
    /// trailing `/`.
    public let endpoint: String
    /// The index the documents go to (or an alias of one index).
    public let index: String
    /// How long a request may take before its batch fails (and is retried by the runtime).
    public let requestTimeout: Duration
    private let client: HTTPClient
    /// ``index`` as a URL path segment.
    private let indexPath: String

    /// A sink writing to `index` of the cluster at `endpoint`; nothing is sent yet.
    ///
    /// - Throws: ``SearchSinkError`` for an endpoint that is not an `http` or `https` URL with a host (and
    ///   without query, fragment or user), or an index name Elasticsearch refuses (not lower case, a
    ///   character among `\ / * ? " < > | , #`, a space or `:`, a leading `-`, `_` or `+`, `.` or `..`, more
    ///   than 255 bytes).
    public init(
        endpoint: String, index: String, requestTimeout: Duration = .seconds(30), client: HTTPClient = .shared
    ) throws(SearchSinkError) {
        self.endpoint = try Self.checkedEndpoint(endpoint)
        self.index = try Self.checkedIndex(index)
        indexPath = index.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? index
        self.requestTimeout = requestTimeout
        self.client = client
    }

    // MARK: The index

    /// The settings and mapping of an index the sink creates: deleted documents' versions kept
    /// `deletedVersionsKeptSeconds` (`index.gc_deletes`); a value that does not fit its field's type left out
    /// of that field rather than failing the document (`index.mapping.ignore_malformed`); no date detection
    /// in strings (the first item whose attribute looks like a date would make the field a date, and refuse
    /// the next item whose same attribute does not); every JSON number a `double` (the first whole number
    /// would make the field a `long`, and later fractions would be truncated in it; a fraction would make a
    /// `float`, of 7 digits); key attributes of type
    /// S or B `keyword` (exact terms), of type N `double`.
    static func creation(keys: SearchIndexKeys, deletedVersionsKeptSeconds: Int) -> [UInt8] {
        var json = JSONWriter()
        json.literal("{\"settings\":{\"index\":{\"gc_deletes\":")
        json.string("\(deletedVersionsKeptSeconds)s")
        json.literal(",\"mapping\":{\"ignore_malformed\":true}}},\"mappings\":{\"date_detection\":false,")
        json.literal("\"dynamic_templates\":[{\"whole_numbers\":{\"match_mapping_type\":\"long\",\"mapping\":{\"type\":\"double\"}}},")
        json.literal("{\"fractions\":{\"match_mapping_type\":\"double\",\"mapping\":{\"type\":\"double\"}}}],")
        json.literal("\"properties\":{")
        for (position, key) in [keys.partitionKey, keys.sortKey].compactMap({ $0 }).enumerated() {
            if position > 0 { json.literal(",") }
            json.string(key.attributeName)
            json.literal(key.attributeType == .n ? ":{\"type\":\"double\"}" : ":{\"type\":\"keyword\"}")
        }
        json.literal("}}}")
        return json.bytes
    }

    /// Makes the index ready: creates it with ``creation(keys:deletedVersionsKeptSeconds:)``'s settings and
    /// mapping if the cluster lacks it; else leaves its mapping as it is, and raises its `index.gc_deletes`
    /// to `deletedVersionsKeptSeconds` if it is lower (never lowers it).
    ///
    /// - Throws: ``SearchSinkError`` if the cluster does not answer, or refuses.
    public func prepareIndex(keys: SearchIndexKeys, deletedVersionsKeptSeconds: Int) async throws(SearchSinkError) {
        let path = "/\(indexPath)/_settings?flat_settings=true"
        var answer = try await request(.GET, path)
        if answer.status == 404 {
            let created = try await request(.PUT, "/\(indexPath)", body: Self.creation(keys: keys, deletedVersionsKeptSeconds: deletedVersionsKeptSeconds))
            if (200..<300).contains(created.status) { return }
            // Another writer created it first: adjust it as an existing index.
            guard created.status == 400, Self.errorType(created.body) == "resource_already_exists_exception" else {
                throw Self.refusal(created)
            }
            answer = try await request(.GET, path)
        }
        guard answer.status == 200 else { throw Self.refusal(answer) }
        guard Self.deletedVersionsKeptSeconds(settings: answer.body) < Double(deletedVersionsKeptSeconds) else { return }
        var json = JSONWriter()
        json.literal("{\"index\":{\"gc_deletes\":")
        json.string("\(deletedVersionsKeptSeconds)s")
        json.literal("}}")
        let raised = try await request(.PUT, "/\(indexPath)/_settings", body: json.bytes)
        guard (200..<300).contains(raised.status) else { throw Self.refusal(raised) }
    }

    /// The shortest `index.gc_deletes` among the indices of a flat `_settings` answer, in seconds (60, the
    /// default, where an index does not set it; 0 where it cannot be read, so that the sink sets it).
    static func deletedVersionsKeptSeconds(settings body: [UInt8]) -> Double {
        guard let indices = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], !indices.isEmpty else { return 0 }
        return indices.values.map { entry -> Double in
            guard let settings = (entry as? [String: Any])?["settings"] as? [String: Any] else { return 0 }
            guard let value = settings["index.gc_deletes"] else { return 60 }
            return (value as? String).flatMap(seconds(ofTimeValue:)) ?? 0
        }.min() ?? 0
    }

    /// The seconds an Elasticsearch time value (`60s`, `2d`, `1.5h`, `500ms`) stands for; nil if it is not one.
    static func seconds(ofTimeValue text: String) -> Double? {
        let units: [(suffix: String, seconds: Double)] = [
            ("nanos", 1e-9), ("micros", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = units.first(where: { trimmed.hasSuffix($0.suffix) }),
            let amount = Double(trimmed.dropLast(unit.suffix.count))
        else { return nil }
        return amount * unit.seconds
    }

    // MARK: Writing

    /// Writes the changes `records` (of the table whose key attributes are `keys`) to the index, in order,
    /// and returns once Elasticsearch has answered for each: stored, or older than the document's version.
    ///
    /// - Throws: ``SearchSinkError`` if a record cannot be written (its sequence number is too large), the
    ///   cluster does not answer within ``requestTimeout``, answers with an error, or refuses a document
    ///   (a mapping conflict, a closed index, a full disk). Actions before the failure may have been stored;
    ///   sending the batch again stores the rest and changes nothing of those.
    public func store(_ records: [TriggerEventRecord], keys: SearchIndexKeys) async throws(SearchSinkError) {
        for body in try SearchBulk.bodies(records, keys: keys) {
            let answer = try await request(
                .POST, "/\(indexPath)/_bulk?filter_path=\(SearchBulk.filterPath)", body: body.bytes, contentType: "application/x-ndjson")
            guard answer.status == 200 else { throw Self.refusal(answer) }
            try SearchBulk.check(answer.body, actions: body.actions)
        }
    }

    // MARK: HTTP

    /// An answer: its status and body.
    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// The largest answer read: a bulk answer of the longest batch, reduced by `filter_path`, is far smaller.
    private static let answerBytesMax = 64 * 1024 * 1024

    /// Sends `method` `path` (relative to the endpoint) with `body`, and returns the answer.
    private func request(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json"
    ) async throws(SearchSinkError) -> Answer {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let timeout = TimeAmount.nanoseconds(
            requestTimeout.components.seconds * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: Self.answerBytesMax)
            return Answer(status: Int(response.status.code), body: Array(buffer: bytes))
        } catch {
            throw SearchSinkError(message: "\(method) \(endpoint)\(path) got no answer: \(error)")
        }
    }

    /// The `error.type` of an Elasticsearch error answer.
    private static func errorType(_ body: [UInt8]) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return (object?["error"] as? [String: Any])?["type"] as? String
    }

    /// The error of an answer that is not the one expected: Elasticsearch's error type and reason, or the
    /// start of the body.
    private static func refusal(_ answer: Answer) -> SearchSinkError {
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        if let error = object?["error"] as? [String: Any], let type = error["type"] as? String {
            return SearchSinkError(status: answer.status, message: "\(type): \(error["reason"] as? String ?? "")")
        }
        return SearchSinkError(status: answer.status, message: String(decoding: answer.body.prefix(512), as: UTF8.self))
    }

    // MARK: Checks

    private static func checkedEndpoint(_ text: String) throws(SearchSinkError) -> String {
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw SearchSinkError(message: "Endpoint \(text) is not an http:// or https:// URL of a host and port, such as http://127.0.0.1:9200")
        }
        return trimmed
    }

    private static func checkedIndex(_ name: String) throws(SearchSinkError) -> String {
        let forbidden = Set("\\/*?\"<>|,#: ".unicodeScalars)
        guard !name.isEmpty, name.utf8.count <= 255, name != ".", name != "..", name.lowercased() == name,
            !name.hasPrefix("-"), !name.hasPrefix("_"), !name.hasPrefix("+"),
            !name.unicodeScalars.contains(where: forbidden.contains)
        else {
            throw SearchSinkError(
                message: "Index \(name) is not a valid Elasticsearch index name (lower case, at most 255 bytes, none of \\ / * ? \" < > | , # : or space, not starting with - _ +)")
        }
        return name
    }
}
