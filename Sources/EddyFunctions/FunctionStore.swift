import Crypto
import Foundation
import ZIPFoundation

/// A function as the data directory keeps it: its configuration, its reserved concurrency, and where its
/// unpacked code is.
struct StoredFunction: Codable, Sendable, Equatable {
    var configuration: FunctionConfiguration
    /// `ReservedConcurrentExecutions`, if set: at most this many environments at once.
    var reservedConcurrency: Int?
    /// The hex SHA-256 of the zip, which names its directory under the function's `code/`.
    var codeDigest: String
}

/// Where functions live on disk, under one directory (`<data dir>/functions`):
///
/// - `<name>/function.json`: the ``StoredFunction``, replaced atomically (written aside, synced, renamed);
/// - `<name>/code/<sha256>.zip`: the zip as uploaded; `<name>/code/<sha256>/`: it unpacked, the
///   environments' `LAMBDA_TASK_ROOT`;
/// - `<name>/logs/`: the function's log (``FunctionLog``).
///
/// A function exists once its `function.json` does: code is unpacked first, so a failed upload leaves no
/// function behind, and unpacked code no function names is removed when the store opens.
struct FunctionStore: Sendable {
    let root: String

    /// Lambda's limits for code uploaded directly: 50 MB zipped, 250 MB unzipped.
    static let maximumZipBytes = 50 * 1024 * 1024
    static let maximumUnzippedBytes: UInt64 = 262_144_000

    init(root: String) throws(LambdaError) {
        self.root = root
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .service("Cannot create the functions directory \(root): \(error.localizedDescription)")
        }
    }

    func directory(of name: String) -> String { "\(root)/\(name)" }
    func codeDirectory(of name: String, digest: String) -> String { "\(root)/\(name)/code/\(digest)" }
    func logDirectory(of name: String) -> String { "\(root)/\(name)/logs" }

    /// Every stored function, by name; code directories no function uses any more are removed.
    func load() throws(LambdaError) -> [String: StoredFunction] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var functions: [String: StoredFunction] = [:]
        for name in names {
            guard let data = FileManager.default.contents(atPath: "\(directory(of: name))/function.json") else {
                // Code unpacked for a CreateFunction that never finished.
                try? FileManager.default.removeItem(atPath: directory(of: name))
                continue
            }
            do {
                let stored = try JSONDecoder().decode(StoredFunction.self, from: data)
                functions[name] = stored
                removeCode(of: name, except: stored.codeDigest)
            } catch {
                throw .service("The function file \(directory(of: name))/function.json cannot be read: \(error)")
            }
        }
        return functions
    }

    /// Checks and unpacks `zip` for function `name`; returns its digest (hex, and base64 as Lambda's
    /// `CodeSha256`) and size. Nothing is left behind if it fails.
    func install(zip: [UInt8], for name: String) throws(LambdaError) -> (digest: String, sha256: String, size: Int64) {
        guard zip.count <= Self.maximumZipBytes else {
            throw .invalidParameterValue("Zipped size must be smaller than \(Self.maximumZipBytes) bytes")
        }
        let hash = Array(SHA256.hash(data: zip))
        let digest = hash.map { String(format: "%02x", $0) }.joined()
        let target = codeDirectory(of: name, digest: digest)
        if FileManager.default.fileExists(atPath: target) {
            return (digest, Data(hash).base64EncodedString(), Int64(zip.count))
        }
        let staging = "\(target).unpacking-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let archive = try Archive(data: Data(zip), accessMode: .read)
            var total: UInt64 = 0
            for entry in archive {
                total += entry.uncompressedSize
                guard total <= Self.maximumUnzippedBytes else {
                    throw LambdaError.invalidParameterValue("Unzipped size must be smaller than \(Self.maximumUnzippedBytes) bytes")
                }
                let path = entry.path
                guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                    throw LambdaError.invalidParameterValue("Could not unzip uploaded file. Please check your file, then try to upload again.")
                }
                _ = try archive.extract(entry, to: URL(fileURLWithPath: "\(staging)/\(path)"))
            }
            try FileManager.default.moveItem(atPath: staging, toPath: target)
            try (zip as [UInt8]).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(target).zip")) }
        } catch let error as LambdaError {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            try? FileManager.default.removeItem(atPath: target)
            throw .invalidParameterValue("Could not unzip uploaded file. Please check your file, then try to upload again.")
        }
        return (digest, Data(hash).base64EncodedString(), Int64(zip.count))
    }

    /// Writes `function` durably: aside, synced, then renamed over the old file.
    func save(_ function: StoredFunction) throws(LambdaError) {
        let path = "\(directory(of: function.configuration.functionName))/function.json"
        let staging = "\(path).\(UUID().uuidString)"
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(function)
            guard FileManager.default.createFile(atPath: staging, contents: data) else {
                throw LambdaError.service("Cannot write \(staging)")
            }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: staging))
            try handle.synchronize()
            try handle.close()
            guard rename(staging, path) == 0 else {
                throw LambdaError.service("Cannot replace \(path): \(String(cString: strerror(errno)))")
            }
            Self.syncDirectory(directory(of: function.configuration.functionName))
        } catch let error as LambdaError {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw .service("Cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Removes function `name`: its file first (the function is gone), then its code and logs.
    func remove(_ name: String) {
        unlink("\(directory(of: name))/function.json")
        Self.syncDirectory(directory(of: name))
        try? FileManager.default.removeItem(atPath: directory(of: name))
    }

    /// Removes the code of function `name` but the version `digest`.
    func removeCode(of name: String, except digest: String) {
        let code = "\(directory(of: name))/code"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: code)) ?? []
        where entry != digest && entry != "\(digest).zip" {
            try? FileManager.default.removeItem(atPath: "\(code)/\(entry)")
        }
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
