import Eddy
import Foundation

/// The key attributes of the table a search sink indexes: what each document's `_id` is made from
/// (``SearchDocumentID``), and their types, which the index's mapping gives them.
public struct SearchIndexKeys: Sendable, Equatable {
    public var partitionKey: AttributeDefinition
    public var sortKey: AttributeDefinition?

    /// The key attributes of a table with partition key `partitionKey` and, if it has one, sort key `sortKey`.
    ///
    /// ```swift
    /// SearchIndexKeys(partitionKey: AttributeDefinition(attributeName: "id", attributeType: .s))
    /// ```
    public init(partitionKey: AttributeDefinition, sortKey: AttributeDefinition? = nil) {
        self.partitionKey = partitionKey
        self.sortKey = sortKey
    }

    /// The key attributes of a table with key schema `keySchema` and attribute definitions `definitions`.
    init(keySchema: [KeySchemaElement], definitions: [AttributeDefinition]) {
        func definition(_ type: KeyType) -> AttributeDefinition? {
            keySchema.first { $0.keyType == type }.map { element in
                definitions.first { $0.attributeName == element.attributeName }
                    ?? AttributeDefinition(attributeName: element.attributeName, attributeType: .s)
            }
        }
        // A table always has a partition key.
        self.init(partitionKey: definition(.hash)!, sortKey: definition(.range))
    }
}

/// The bulk requests that carry a batch of stream records to the index, and the reading of their answers.
///
/// Each record is one action: `index` with the new image as plain JSON for INSERT and MODIFY, `delete` for
/// REMOVE, both with `version_type` `external` and the record's sequence number as `version`, so that
/// Elasticsearch keeps, of two changes of an item, the one with the higher sequence number, whichever comes
/// last.
enum SearchBulk {
    /// The size a bulk request body is kept under: Elasticsearch's guidance is a few to 15 MB per request,
    /// far under its `http.max_content_length` (100 MB by default). A batch larger is sent as several
    /// requests, in order; a single action larger goes alone.
    static let bodyBytesMax = 8 * 1024 * 1024

    /// One bulk request body (NDJSON) and the number of actions in it.
    struct Body {
        var bytes: [UInt8]
        var actions: Int
    }

    /// The bodies of `records`' actions, in order, each at most `bytesMax` bytes unless one action alone is
    /// larger.
    ///
    /// - Throws: ``SearchSinkError`` for a record whose sequence number is not a version Elasticsearch takes
    ///   (a non-negative 63-bit integer), or which lacks a key attribute.
    static func bodies(
        _ records: [TriggerEventRecord], keys: SearchIndexKeys, bytesMax: Int = bodyBytesMax
    ) throws(SearchSinkError) -> [Body] {
        var bodies: [Body] = []
        var current = Body(bytes: [], actions: 0)
        for record in records {
            let action = try self.action(record, keys: keys)
            if current.actions > 0, current.bytes.count + action.count > bytesMax {
                bodies.append(current)
                current = Body(bytes: [], actions: 0)
            }
            current.bytes += action
            current.actions += 1
        }
        if current.actions > 0 { bodies.append(current) }
        return bodies
    }

    /// The action of one record: its metadata line, and for an index its document line.
    static func action(_ record: TriggerEventRecord, keys: SearchIndexKeys) throws(SearchSinkError) -> [UInt8] {
        let version = try self.version(record.dynamodb.sequenceNumber)
        guard let partitionKey = record.dynamodb.attribute(keys.partitionKey.attributeName, of: .keys) else {
            throw SearchSinkError(message: "Record \(record.dynamodb.sequenceNumber) lacks key attribute \(keys.partitionKey.attributeName)")
        }
        let sortKey = try keys.sortKey.map { definition throws(SearchSinkError) in
            guard let value = record.dynamodb.attribute(definition.attributeName, of: .keys) else {
                throw SearchSinkError(message: "Record \(record.dynamodb.sequenceNumber) lacks key attribute \(definition.attributeName)")
            }
            return value
        }
        let removed = record.eventName == .remove
        var json = JSONWriter(capacity: 128 + (removed ? 0 : 2 * record.dynamodb.sizeBytes))
        json.literal(removed ? "{\"delete\":{\"_id\":" : "{\"index\":{\"_id\":")
        json.string(SearchDocumentID.make(partitionKey: partitionKey, sortKey: sortKey))
        json.literal(",\"version\":")
        json.integer(version)
        json.literal(",\"version_type\":\"external\"}}\n")
        if !removed {
            record.dynamodb.write(.newImage, style: .plain, to: &json)
            json.literal("\n")
        }
        return json.bytes
    }

    /// The version of the record with sequence number `sequenceNumber`: the number itself. Elasticsearch's
    /// external versions are non-negative 63-bit integers (Java's long); Eddy's sequence numbers count up
    /// from 1 by one per change, database-wide, so they reach 2⁶³ only after 9.2 × 10¹⁸ changes (292,000
    /// years at a million a second). One past it fails its batch rather than wrap.
    static func version(_ sequenceNumber: String) throws(SearchSinkError) -> Int64 {
        guard let value = UInt64(sequenceNumber), let version = Int64(exactly: value) else {
            throw SearchSinkError(message: "Sequence number \(sequenceNumber) is beyond Elasticsearch's versions (at most 2^63 - 1)")
        }
        return version
    }

    /// What the bulk API answers, reduced by the request's `filter_path` to what the sink reads.
    struct Answer: Decodable {
        var errors: Bool?
        var items: [[String: Item]]?

        struct Item: Decodable {
            var status: Int
            var id: String?
            var error: Cause?

            enum CodingKeys: String, CodingKey { case status, id = "_id", error }
        }

        struct Cause: Decodable {
            var type: String?
            var reason: String?
        }
    }

    /// The bulk API's `filter_path`: only what ``check(_:actions:)`` reads comes back.
    static let filterPath = "errors,items.*.status,items.*._id,items.*.error.type,items.*.error.reason"

    /// Checks the answer `body` to a bulk request of `actions` actions: every action must have succeeded
    /// (2xx), or met a newer version of its document (409 `version_conflict_engine_exception`: a change
    /// delivered again, or out of order, that must not overwrite a later one), or, for a delete, found no
    /// document (404 without an error).
    ///
    /// - Throws: ``SearchSinkError`` naming the first action that failed otherwise, or for an answer that is
    ///   not a bulk answer for `actions` actions.
    static func check(_ body: [UInt8], actions: Int) throws(SearchSinkError) {
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: Data(body))
        } catch {
            throw SearchSinkError(status: 200, message: "The bulk answer cannot be read: \(String(decoding: body.prefix(512), as: UTF8.self))")
        }
        let items = answer.items ?? []
        guard items.count == actions else {
            throw SearchSinkError(status: 200, message: "The bulk answer has \(items.count) items for \(actions) actions")
        }
        guard answer.errors == true else { return }
        for entry in items {
            guard let (operation, item) = entry.first else { continue }
            switch item.status {
            case 200..<300: continue
            case 409 where item.error?.type == "version_conflict_engine_exception": continue
            case 404 where operation == "delete" && item.error == nil: continue
            default:
                throw SearchSinkError(
                    status: item.status,
                    message: "\(operation) of document \(item.id ?? "?") failed: \(item.error?.type ?? "error"): \(item.error?.reason ?? "")")
            }
        }
    }
}
