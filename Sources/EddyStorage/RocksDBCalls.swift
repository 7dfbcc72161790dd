import CRocksDB

/// Calls a RocksDB C function that reports failure through a `char **errptr`, and turns a reported error into
/// a ``StorageError`` carrying RocksDB's message.
///
/// RocksDB `malloc`s the message; it is freed here, so no error string outlives the call.
@inline(__always)
func rocksDBCall<Result>(
    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Result
) throws(StorageError) -> Result {
    var error: UnsafeMutablePointer<CChar>?
    let result = body(&error)
    if let error {
        let message = String(cString: error)
        rocksdb_free(error)
        throw StorageError(message)
    }
    return result
}

/// Copies `count` bytes that RocksDB owns (an iterator's key, a pinned value) into an array the caller owns.
@inline(__always)
func copyBytes(_ start: UnsafePointer<CChar>?, count: Int) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: start, count: count))
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes as the `const char *` that RocksDB's C API takes (C's `char` and `UInt8` may alias).
    @inline(__always)
    var cChars: UnsafePointer<CChar>? {
        baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
    }
}
