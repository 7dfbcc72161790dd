import Foundation
import Testing

@testable import EddyFunctions

@Suite struct FunctionLogTests {
    @Test func aFullFileIsRotatedAndTheOldestDropped() throws {
        let directory = try TemporaryDirectory()
        let log = FunctionLog(directory: directory.path, maximumFileBytes: 100, keptFiles: 2)
        // 30 bytes each: three fill a file to 90 bytes, a fourth would pass 100.
        let lines = (0..<10).map { "line \($0) " + String(repeating: "x", count: 22) }
        for line in lines {
            log.append(line: line)
        }
        #expect(try fileNames(in: directory) == ["function.log", "function.log.1", "function.log.2"])
        #expect(try linesOf(directory, "function.log.2") == Array(lines[3...5]))
        #expect(try linesOf(directory, "function.log.1") == Array(lines[6...8]))
        #expect(try linesOf(directory, "function.log") == [lines[9]])
        #expect(log.failedAppendCount == 0)
    }

    @Test func anAppendLargerThanAFileIsSplitAcrossFiles() throws {
        let directory = try TemporaryDirectory()
        let log = FunctionLog(directory: directory.path, maximumFileBytes: 100, keptFiles: 3)
        log.append(Array(repeating: UInt8(ascii: "a"), count: 40))
        log.append(Array(repeating: UInt8(ascii: "b"), count: 250))
        #expect(try contentsOf(directory, "function.log.3") == String(repeating: "a", count: 40))
        #expect(try contentsOf(directory, "function.log.2") == String(repeating: "b", count: 100))
        #expect(try contentsOf(directory, "function.log.1") == String(repeating: "b", count: 100))
        #expect(try contentsOf(directory, "function.log") == String(repeating: "b", count: 50))
    }

    @Test func aReopenedLogCountsWhatItsFileHolds() throws {
        let directory = try TemporaryDirectory()
        FunctionLog(directory: directory.path, maximumFileBytes: 100).append(line: String(repeating: "a", count: 59))
        FunctionLog(directory: directory.path, maximumFileBytes: 100).append(line: String(repeating: "b", count: 59))
        #expect(try linesOf(directory, "function.log.1") == [String(repeating: "a", count: 59)])
        #expect(try linesOf(directory, "function.log") == [String(repeating: "b", count: 59)])
    }

    @Test func theDirectoryIsCreatedWhenMissing() throws {
        let directory = try TemporaryDirectory()
        let log = FunctionLog(directory: directory.url("functions/my-function").path)
        log.append(line: "hello")
        #expect(try contentsOf(directory, "functions/my-function/function.log") == "hello\n")
    }

    @Test func concurrentAppendsAreWrittenWhole() throws {
        let directory = try TemporaryDirectory()
        let (writers, appendsPerWriter, recordBytes) = (8, 200, 1000)
        let log = FunctionLog(directory: directory.path, maximumFileBytes: 65_536, keptFiles: 30)
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            let record = Array(repeating: UInt8(ascii: "a") + UInt8(writer), count: recordBytes - 1) + [UInt8(ascii: "\n")]
            for _ in 0..<appendsPerWriter {
                log.append(record)
            }
        }
        let names = try fileNames(in: directory)
        #expect(names.count == 25, "1.6 MB in files of 65 records")
        let oldestFirst = names.sorted { rotationNumber($0) > rotationNumber($1) }
        let bytes = try oldestFirst.flatMap { Array(try Data(contentsOf: directory.url($0))) }
        #expect(bytes.count == writers * appendsPerWriter * recordBytes)
        let records = stride(from: 0, to: bytes.count, by: recordBytes).map { bytes[$0..<$0 + recordBytes] }
        #expect(records.allSatisfy { Set($0.dropLast()).count == 1 && $0.last == UInt8(ascii: "\n") })
        let recordsPerWriter = Dictionary(grouping: records, by: { $0.first! }).mapValues(\.count)
        #expect(recordsPerWriter.count == writers && recordsPerWriter.values.allSatisfy { $0 == appendsPerWriter })
    }

    @Test func aFailedAppendIsCountedNotFatal() throws {
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.url("file").path, contents: Data()))
        let log = FunctionLog(directory: directory.url("file/log").path)
        log.append(line: "lost")
        log.append(line: "lost too")
        #expect(log.failedAppendCount == 2)
    }

    @Test func anAppendGoesToTheCaptureToo() throws {
        let directory = try TemporaryDirectory()
        let log = FunctionLog(directory: directory.path)
        let capture = LogCapture()
        log.append(line: "START RequestId: 1", to: capture)
        log.append(Array("printed\n".utf8), to: capture)
        log.append(line: "another invocation's")
        #expect(String(decoding: capture.tail(), as: UTF8.self) == "START RequestId: 1\nprinted\n")
        #expect(try linesOf(directory, "function.log") == ["START RequestId: 1", "printed", "another invocation's"])
    }

    @Test func theTailIsTheLast4096Bytes() {
        let capture = LogCapture()
        var appended: [UInt8] = []
        var chunkBytes = 1
        while appended.count < 20_000 {
            let chunk = (0..<chunkBytes).map { UInt8(truncatingIfNeeded: appended.count + $0) }
            capture.append(chunk)
            appended += chunk
            chunkBytes = chunkBytes % 700 + 37
        }
        #expect(capture.tail() == Array(appended.suffix(4096)))
        #expect(capture.tail(maximumBytes: 100) == Array(appended.suffix(100)))
        #expect(capture.tail(maximumBytes: 10_000) == Array(appended.suffix(4096)))
    }

    @Test func aCaptureHoldingLessThanItsBoundGivesAll() {
        let capture = LogCapture()
        #expect(capture.tail() == [])
        capture.append(Array("short".utf8))
        #expect(capture.tail() == Array("short".utf8))
    }

    @Test func anAppendLargerThanTheCaptureKeepsItsEnd() {
        let capture = LogCapture(keptBytes: 10)
        capture.append(Array("abc".utf8))
        capture.append(Array("0123456789ABCDEF".utf8))
        #expect(capture.tail() == Array("6789ABCDEF".utf8))
        capture.append(Array("xyz".utf8))
        #expect(capture.tail() == Array("9ABCDEFxyz".utf8))
    }
}

private func fileNames(in directory: TemporaryDirectory) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}

private func contentsOf(_ directory: TemporaryDirectory, _ name: String) throws -> String {
    String(decoding: try Data(contentsOf: directory.url(name)), as: UTF8.self)
}

private func linesOf(_ directory: TemporaryDirectory, _ name: String) throws -> [String] {
    try contentsOf(directory, name).split(separator: "\n").map(String.init)
}

/// 0 for `function.log`, n for `function.log.n`.
private func rotationNumber(_ name: String) -> Int {
    Int(name.split(separator: ".").last!) ?? 0
}
