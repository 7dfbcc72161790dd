import Foundation
import Glibc
import Synchronization
import Testing

@testable import EddyFunctions

/// Serialized: the descriptor count of one test must not see another's children.
@Suite(.serialized) struct ChildProcessTests {
    @Test func theEnvironmentIsExactlyTheOneGiven() async throws {
        let output = OutputCollector()
        let child = try ChildProcess.spawn(
            executable: "/usr/bin/env", arguments: [], environment: ["A": "1", "B": "two words"],
            workingDirectory: "/", output: output.append)
        #expect(await child.exitStatus() == .exited(0))
        #expect(Set(output.lines) == ["A=1", "B=two words"])
    }

    @Test func theChildStartsInItsWorkingDirectory() async throws {
        let directory = try TemporaryDirectory()
        let output = OutputCollector()
        let child = try spawnShell("pwd -P", workingDirectory: directory.path, output: output)
        #expect(await child.exitStatus() == .exited(0))
        #expect(output.lines == [directory.path])
    }

    @Test func theChildLeadsItsOwnProcessGroup() async throws {
        let output = OutputCollector()
        // The fifth field of /proc/<pid>/stat is the process group.
        let child = try spawnShell(#"echo $$; cut -d " " -f 5 /proc/$$/stat"#, output: output)
        #expect(await child.exitStatus() == .exited(0))
        #expect(output.lines == ["\(child.pid)", "\(child.pid)"])
        #expect(child.pid != getpgrp())
    }

    @Test func theChildInheritsNoDescriptorButStdinStdoutAndStderr() async throws {
        let inheritable = open("/dev/null", O_RDONLY)
        defer { close(inheritable) }
        let output = OutputCollector()
        let child = try spawnShell("ls /proc/$$/fd; read line; echo \"stdin: $?\"", output: output)
        #expect(await child.exitStatus() == .exited(0))
        // `read` fails at once: stdin is /dev/null.
        #expect(output.lines == ["0", "1", "2", "stdin: 1"])
    }

    @Test(arguments: [
        ("exit 0", ChildExitStatus.exited(0), "exit status 0"),
        ("exit 3", .exited(3), "exit status 3"),
        ("kill -TERM $$", .signaled(SIGTERM), "signal 15"),
        ("kill -KILL $$", .signaled(SIGKILL), "signal 9"),
    ])
    func theExitStatusSaysHowTheChildEnded(script: String, status: ChildExitStatus, description: String) async throws {
        let child = try spawnShell(script, output: OutputCollector())
        let ended = await child.exitStatus()
        #expect(ended == status)
        #expect(ended.description == description)
        #expect(await child.exitStatus() == status, "still answered after the end")
    }

    @Test func killEndsTheChildAndWhatItStarted() async throws {
        let output = OutputCollector()
        let child = try spawnShell("sleep 1000 & echo $!; wait", output: output)
        let grandchild = try #require(await firstLine(of: output).flatMap { Int32($0) })
        child.kill()
        #expect(await child.exitStatus() == .signaled(SIGKILL))
        #expect(await eventually { !isRunning(grandchild) })
        child.kill()
    }

    @Test func whatTheChildLeavesInItsGroupEndsWithIt() async throws {
        let output = OutputCollector()
        // The sleep holds the output pipe open: the child's end must not wait for it.
        let child = try spawnShell("sleep 1000 & echo $!", output: output)
        let started = ContinuousClock.now
        #expect(await child.exitStatus() == .exited(0))
        // Far below the sleep's 1,000 seconds, and generous for a machine busy with other tests.
        #expect(ContinuousClock.now - started < .seconds(60))
        let grandchild = try #require(output.lines.first.flatMap { Int32($0) })
        #expect(await eventually { !isRunning(grandchild) })
    }

    @Test func aProcessThatLeftTheGroupDoesNotHoldTheExitStatus() async throws {
        let directory = try TemporaryDirectory()
        let output = OutputCollector()
        let child = try spawnShell(
            #"setsid sh -c 'echo $$ > escaped; exec sleep 1000' & while [ ! -s escaped ]; do sleep 0.01; done; echo done"#,
            workingDirectory: directory.path, output: output)
        let started = ContinuousClock.now
        let status = await child.exitStatus()
        let waited = ContinuousClock.now - started
        let escaped = try #require(Int32(String(decoding: try Data(contentsOf: directory.url("escaped")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { Glibc.kill(escaped, SIGKILL) }
        #expect(status == .exited(0))
        // Far below the escaped sleep's 1,000 seconds, and generous for a machine busy with other tests.
        #expect(waited < .seconds(60))
        #expect(output.lines == ["done"])
        #expect(isRunning(escaped), "the escaped process is not the child's to kill")
    }

    @Test func everyByteIsDeliveredBeforeTheExitStatus() async throws {
        let output = OutputCollector()
        let child = try spawnShell("head -c 1048576 /dev/zero", output: output)
        #expect(await child.exitStatus() == .exited(0))
        #expect(output.bytes.count == 1_048_576)
    }

    @Test func drainOutputDeliversWhatTheChildHasWritten() async throws {
        let directory = try TemporaryDirectory()
        let output = OutputCollector()
        // The file tells the test that the output was written, as an HTTP request tells the server.
        let child = try spawnShell(
            "printf hello; : > written; exec sleep 1000", workingDirectory: directory.path, output: output)
        #expect(await eventually { FileManager.default.fileExists(atPath: directory.url("written").path) })
        child.drainOutput()
        #expect(output.text == "hello")
        child.kill()
        #expect(await child.exitStatus() == .signaled(SIGKILL))
    }

    @Test func aMissingExecutableIsAClearError() throws {
        let missing = ChildProcessError(
            message: "Cannot run /nonexistent/bootstrap: No such file or directory", errorNumber: ENOENT)
        #expect(throws: missing) {
            try ChildProcess.spawn(
                executable: "/nonexistent/bootstrap", arguments: [], environment: [:], workingDirectory: "/",
                output: { _ in })
        }
    }

    @Test func aNonExecutableFileIsAClearError() throws {
        let directory = try TemporaryDirectory()
        let bootstrap = directory.url("bootstrap").path
        #expect(FileManager.default.createFile(atPath: bootstrap, contents: Data("#!/bin/sh\n".utf8)))
        #expect(throws: ChildProcessError(message: "Cannot run \(bootstrap): Permission denied", errorNumber: EACCES)) {
            try ChildProcess.spawn(
                executable: bootstrap, arguments: [], environment: [:], workingDirectory: "/", output: { _ in })
        }
    }

    @Test func aMissingWorkingDirectoryIsAClearError() throws {
        let missing = ChildProcessError(
            message: "Cannot run /bin/sh in /nonexistent: No such file or directory", errorNumber: ENOENT)
        #expect(throws: missing) {
            try ChildProcess.spawn(
                executable: "/bin/sh", arguments: [], environment: [:], workingDirectory: "/nonexistent", output: { _ in })
        }
    }

    @Test func spawningLeaksNoDescriptorAndLeavesNoZombie() async throws {
        // Other tests of this process open pipes meanwhile: the children's own pipes are told apart by inode.
        var pids: [Int32] = []
        var pipes: Set<String> = []
        for _ in 0..<50 {
            #expect(throws: ChildProcessError.self) {
                try ChildProcess.spawn(
                    executable: "/nonexistent", arguments: [], environment: [:], workingDirectory: "/", output: { _ in })
            }
            let child = try ChildProcess.spawn(
                executable: "/bin/true", arguments: [], environment: [:], workingDirectory: "/", output: { _ in })
            #expect(child.pipeNames.count == 2)
            pipes.formUnion(child.pipeNames)
            #expect(await child.exitStatus() == .exited(0))
            pids.append(child.pid)
        }
        #expect(try openPipes().isDisjoint(with: pipes))
        #expect(pids.filter { FileManager.default.fileExists(atPath: "/proc/\($0)") } == [], "reaped")
    }
}

/// What a child wrote, collected from its output closure.
private final class OutputCollector: Sendable {
    private let collected = Mutex<[UInt8]>([])

    func append(_ chunk: [UInt8]) {
        collected.withLock { $0 += chunk }
    }

    var bytes: [UInt8] { collected.withLock { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// The complete lines.
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

private func spawnShell(_ script: String, workingDirectory: String = "/", output: OutputCollector) throws -> ChildProcess {
    try ChildProcess.spawn(
        executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"],
        workingDirectory: workingDirectory, output: output.append)
}

/// Whether `condition` holds within two seconds, checked every 5 ms.
private func eventually(_ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(2)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

private func firstLine(of output: OutputCollector) async -> String? {
    _ = await eventually { !output.lines.isEmpty }
    return output.lines.first
}

/// Whether `pid` is a live process (not gone, not a zombie waiting for a parent that is not the test's).
private func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let afterName = stat.range(of: ") ")
    else { return false }
    return stat[afterName.upperBound] != "Z"
}

/// The test process's descriptors that are pipes: a child's output pipe is one.
private func openPipes() throws -> Set<String> {
    Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { fd in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")).flatMap { $0.hasPrefix("pipe:") ? $0 : nil }
    })
}
