import Foundation
import Testing
import ZIPFoundation

@testable import EddyFunctions

/// How function code is unpacked and kept, and how function names and ARNs are read (Lambda API reference,
/// CreateFunction: "Could not unzip uploaded file", the 250 MB unzipped limit, FunctionName's pattern).
@Suite struct FunctionStoreTests {
    private static func zip(_ entries: [(path: String, bytes: [UInt8], permissions: UInt16)]) throws -> [UInt8] {
        let archive = try Archive(data: Data(), accessMode: .create)
        for entry in entries {
            try archive.addEntry(
                with: entry.path, type: .file, uncompressedSize: Int64(entry.bytes.count), permissions: entry.permissions,
                compressionMethod: .deflate
            ) { position, size in
                Data(entry.bytes[Int(position)..<Int(position) + size])
            }
        }
        return Array(archive.data!)
    }

    @Test func codeIsUnpackedWithItsPermissionsUnderItsDigest() throws {
        let root = try TemporaryDirectory()
        let store = try FunctionStore(root: root.path)
        let zip = try Self.zip([("bootstrap", Array("#!/bin/sh\n".utf8), 0o755), ("lib/data.txt", Array("data".utf8), 0o644)])
        let installed = try store.install(zip: zip, for: "f")
        let directory = store.codeDirectory(of: "f", digest: installed.digest)
        #expect(FileManager.default.isExecutableFile(atPath: "\(directory)/bootstrap"))
        #expect(!FileManager.default.isExecutableFile(atPath: "\(directory)/lib/data.txt"))
        #expect(FileManager.default.contents(atPath: "\(directory)/lib/data.txt") == Data("data".utf8))
        #expect(installed.size == Int64(zip.count))
        #expect(Data(base64Encoded: installed.sha256)?.count == 32)
    }

    @Test func aZipThatDoesNotUnpackLeavesNothingBehind() throws {
        let root = try TemporaryDirectory()
        let store = try FunctionStore(root: root.path)
        let unzip = LambdaError.invalidParameterValue("Could not unzip uploaded file. Please check your file, then try to upload again.")
        #expect(throws: unzip) { try store.install(zip: Array("not a zip".utf8), for: "f") }
        let escaping = try Self.zip([("../escaped", Array("x".utf8), 0o644)])
        #expect(throws: unzip) { try store.install(zip: escaping, for: "f") }
        #expect(!FileManager.default.fileExists(atPath: "\(root.path)/escaped"))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: "\(root.path)/f/code")) ?? [] == [])
    }

    @Test func codeOfAnUnfinishedCreationIsRemovedWhenTheStoreOpens() throws {
        let root = try TemporaryDirectory()
        let store = try FunctionStore(root: root.path)
        _ = try store.install(zip: try Self.zip([("app.py", Array("x = 1\n".utf8), 0o644)]), for: "orphan")
        #expect(try store.load().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.directory(of: "orphan")))
    }

    @Test func namesArnsAndPartialArnsNameTheSameFunction() throws {
        let names = [
            "hello", "arn:aws:lambda:us-east-1:000000000000:function:hello", "000000000000:function:hello",
            "hello:$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST",
        ]
        for name in names {
            #expect(try FunctionNames.name(name, field: "functionName", region: "us-east-1", account: "000000000000") == "hello")
        }
        #expect(throws: LambdaError.resourceNotFound("Function not found: arn:aws:lambda:eu-west-1:000000000000:function:hello")) {
            try FunctionNames.name(
                "arn:aws:lambda:eu-west-1:000000000000:function:hello", field: "functionName", region: "us-east-1", account: "000000000000")
        }
        #expect(throws: LambdaError.resourceNotFound("Function not found: arn:aws:lambda:us-east-1:000000000000:function:hello:3")) {
            try FunctionNames.name("hello:3", field: "functionName", region: "us-east-1", account: "000000000000")
        }
        let invalid = #expect(throws: LambdaError.self) {
            try FunctionNames.name("bad name!", field: "functionName", region: "us-east-1", account: "000000000000")
        }
        #expect(invalid?.type == "ValidationException")
        #expect(invalid?.message.hasPrefix("1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint") == true)
    }
}
