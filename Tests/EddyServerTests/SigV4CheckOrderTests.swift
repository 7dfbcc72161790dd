import Foundation
import Testing

@testable import EddyServer

// The order of SigV4Verifier's checks as DynamoDB answers them: the signature's time is checked before its
// scope and before its access key ("Signature expired: … (… - 15 min.)", "Signature not yet current: … (… +
// 15 min.)"), and an access key the server does not know is "The security token included in the request is
// invalid." (UnrecognizedClientException).

@Suite struct SigV4CheckOrderTests {
    static let signedAt = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let known = SigV4Credentials(accessKeyId: "AKIDKNOWN", secretAccessKey: "known/secret")

    static func request(_ credentials: SigV4Credentials, region: String, service: String = "dynamodb") -> SigV4Request {
        let request = SigV4Request(
            method: "POST", path: "/",
            headers: [("Host", "127.0.0.1:8000"), ("X-Amz-Target", "DynamoDB_20120810.ListTables")], body: Array("{}".utf8))
        return SigV4Signer(credentials: credentials, region: region, service: service).signed(request, at: signedAt)
    }

    static func verifier(now offsetSeconds: TimeInterval) -> SigV4Verifier {
        SigV4Verifier(
            region: "us-east-1", credentials: { $0 == known.accessKeyId ? known.secretAccessKey : nil },
            clock: { signedAt.addingTimeInterval(offsetSeconds) })
    }

    static let unknown = SigV4Credentials(accessKeyId: "AKIDNOBODY", secretAccessKey: "whatever")

    static let timeCases: [(offsetSeconds: TimeInterval, message: String)] = [
        (20 * 60, "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T002000Z - 15 min.)"),
        (-20 * 60, "Signature not yet current: 20260101T000000Z is still later than 20251231T235500Z (20251231T234000Z + 15 min.)"),
    ]

    @Test(arguments: timeCases)
    func theTimeIsCheckedBeforeTheScopeAndTheAccessKey(offsetSeconds: TimeInterval, message: String) {
        let verifier = Self.verifier(now: offsetSeconds)
        for request in [
            Self.request(Self.known, region: "us-east-1"), Self.request(Self.known, region: "eu-west-1"),
            Self.request(Self.unknown, region: "us-east-1"), Self.request(Self.unknown, region: "eu-west-1", service: "s3"),
        ] {
            #expect(verifier.verify(request) == .failure(SigV4Failure(.invalidSignature, message)))
        }
    }

    @Test func anUnknownAccessKeyIsAnUnrecognizedClient() {
        let failure = SigV4Failure(.unrecognizedClient, "The security token included in the request is invalid.")
        #expect(Self.verifier(now: 0).verify(Self.request(Self.unknown, region: "us-east-1")) == .failure(failure))
        #expect(Self.verifier(now: 14 * 60).verify(Self.request(Self.unknown, region: "us-east-1")) == .failure(failure))
    }

    @Test func aCurrentSignatureScopedElsewhereIsAScopeError() {
        let result = Self.verifier(now: 0).verify(Self.request(Self.known, region: "eu-west-1"))
        #expect(result == .failure(SigV4Failure(.invalidSignature, "Credential should be scoped to a valid region, not 'eu-west-1'. ")))
    }
}
