import Synchronization

/// One of the items a stream record carries.
package enum StreamImage: Sendable {
    case keys, newImage, oldImage
}

/// How an item is written as JSON: in DynamoDB's JSON, every value under its type descriptor
/// (`{"age":{"N":"36"}}`, ``JSONWriter/item(_:)``), or as plain JSON (`{"age":36}`, ``JSONWriter/plainItem(_:)``).
package enum ItemJSONStyle: Sendable {
    case typed, plain
}

/// Reads items in the encoding a database stores them in: what ``EncodedStreamImages`` needs of it. Eddy
/// implements it over its item encoding, which this module cannot see.
///
/// Every method is handed bytes that the implementation itself checked when it made the record (see
/// ``EncodedStreamImages/init(bytes:keys:newImage:oldImage:codec:)``), so none of them fails.
package protocol StreamImageCodec: Sendable {
    /// The item stored at `range` of `bytes`.
    func decode(_ bytes: [UInt8], in range: Range<Int>) -> Item
    /// Appends the item stored at `range` of `bytes` as JSON of `style`, as ``JSONWriter/item(_:)`` or
    /// ``JSONWriter/plainItem(_:)`` writes it decoded (the attributes may come in another order).
    func writeJSON(_ bytes: [UInt8], in range: Range<Int>, style: ItemJSONStyle, to json: inout JSONWriter)
    /// The attribute `name` of the item stored at `range` of `bytes`, decoding no other attribute.
    func attribute(_ name: String, of bytes: [UInt8], in range: Range<Int>) -> AttributeValue?
}

/// The keys and images of a stream record as the bytes the database stored: a record's value, and where in
/// it each item lies. Each item is decoded the first time it is asked for and kept (under a lock, as copies of
/// a record may be read from several tasks), and never if nobody asks.
package final class EncodedStreamImages: Sendable {
    /// The stored value the items lie in.
    package let bytes: [UInt8]
    /// Where the keys lie in ``bytes``.
    package let keysRange: Range<Int>
    private let newImageRange: Range<Int>?
    private let oldImageRange: Range<Int>?
    private let codec: any StreamImageCodec
    private let cache = Mutex(Decoded())

    /// What has been decoded so far.
    private struct Decoded {
        var keys: Item?
        var newImage: Item?
        var oldImage: Item?

        subscript(image: StreamImage) -> Item? {
            get {
                switch image {
                case .keys: keys
                case .newImage: newImage
                case .oldImage: oldImage
                }
            }
            set {
                switch image {
                case .keys: keys = newValue
                case .newImage: newImage = newValue
                case .oldImage: oldImage = newValue
                }
            }
        }
    }

    /// The items at `keys`, `newImage` and `oldImage` of `bytes` (nil: the record does not carry that image),
    /// which `codec` reads; the caller has checked that they decode.
    package init(bytes: [UInt8], keys: Range<Int>, newImage: Range<Int>?, oldImage: Range<Int>?, codec: any StreamImageCodec) {
        self.bytes = bytes
        keysRange = keys
        newImageRange = newImage
        oldImageRange = oldImage
        self.codec = codec
    }

    /// Where `image` lies in ``bytes``; nil when the record does not carry it.
    package func range(of image: StreamImage) -> Range<Int>? {
        switch image {
        case .keys: keysRange
        case .newImage: newImageRange
        case .oldImage: oldImageRange
        }
    }

    /// `image` decoded (once); nil when the record does not carry it.
    package func decoded(_ image: StreamImage) -> Item? {
        guard let range = range(of: image) else { return nil }
        // Decoded under the lock, so that readers racing for the same image decode it once between them.
        return cache.withLock { cache in
            if let item = cache[image] { return item }
            let item = codec.decode(bytes, in: range)
            cache[image] = item
            return item
        }
    }

    /// Appends `image` as JSON of `style`, straight from the bytes; `{}` when the record does not carry it.
    func write(_ image: StreamImage, style: ItemJSONStyle, to json: inout JSONWriter) {
        guard let range = range(of: image) else {
            json.literal("{}")
            return
        }
        codec.writeJSON(bytes, in: range, style: style, to: &json)
    }

    /// The attribute `name` of `image`: from the decoded image if it has been decoded, else from the bytes.
    func attribute(_ name: String, of image: StreamImage) -> AttributeValue? {
        guard let range = range(of: image) else { return nil }
        if let decoded = cache.withLock({ $0[image] }) { return decoded[name] }
        return codec.attribute(name, of: bytes, in: range)
    }

    /// Whether `other` holds the same items in the same bytes.
    func hasSameBytes(as other: EncodedStreamImages) -> Bool {
        self === other
            || (keysRange == other.keysRange && newImageRange == other.newImageRange && oldImageRange == other.oldImageRange
                && bytes == other.bytes)
    }
}
