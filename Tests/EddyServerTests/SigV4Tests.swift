import Foundation
import Testing

@testable import EddyServer

// MARK: - Fixtures

typealias SigV4Headers = [(name: String, value: String)]

private func at(_ epochSeconds: TimeInterval) -> @Sendable () -> Date {
    { Date(timeIntervalSince1970: epochSeconds) }
}

private func replacing(_ name: String, with value: String, in headers: SigV4Headers) -> SigV4Headers {
    headers.map { $0.name.lowercased() == name.lowercased() ? ($0.name, value) : $0 }
}

private func removing(_ name: String, from headers: SigV4Headers) -> SigV4Headers {
    headers.filter { $0.name.lowercased() != name.lowercased() }
}

private func failure(_ result: Result<SigV4Identity, SigV4Failure>) -> SigV4Failure? {
    if case .failure(let failure) = result { return failure }
    return nil
}

/// The examples of the AWS documentation ("Create a signed AWS API request" and the earlier
/// "Signature Version 4 signing process" pages): IAM ListUsers signed by AKIDEXAMPLE.
enum AWSExample {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let verifier = SigV4Verifier(
        service: "iam", credentials: { $0 == "AKIDEXAMPLE" ? secret : nil }, clock: at(1_440_938_160))

    /// GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08 at 20150830T123600Z.
    static let get = SigV4Request(
        method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
        headers: [
            ("Host", "iam.amazonaws.com"),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date, "
                    + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            ),
        ])

    /// POST https://iam.amazonaws.com/ with body Action=ListUsers&Version=2010-05-08 at 20110909T233600Z.
    static let post = SigV4Request(
        method: "POST", path: "/",
        headers: [
            ("Host", "iam.amazonaws.com"),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("X-Amz-Date", "20110909T233600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date, "
                    + "Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c"
            ),
        ],
        body: Array("Action=ListUsers&Version=2010-05-08".utf8))
    static let postVerifier = SigV4Verifier(
        service: "iam", credentials: { $0 == "AKIDEXAMPLE" ? secret : nil }, clock: at(1_315_611_360))
}

/// DynamoDB PutItem requests to http://127.0.0.1:8000 signed by botocore 1.43.11's own
/// `botocore.auth.SigV4Auth(Credentials("AKIDEDDYTEST", "eddy/Secret+Key=42"), "dynamodb", "us-east-1")`
/// with its clock fixed at 2025-03-14T09:26:53Z (scratch-sigv4/scripts/make_vectors.py). The headers are
/// botocore's after signing plus the `Host` header the HTTP client sends; `User-Agent` is not signed by botocore.
enum Botocore {
    static let accessKeyId = "AKIDEDDYTEST"
    static let secret = "eddy/Secret+Key=42"
    static let signingTime: TimeInterval = 1_741_944_413
    static let body = Array(
        #"{"TableName": "Music", "Item": {"Artist": {"S": "No One You Know"}, "Song": {"S": "Call Me Today"}}}"#.utf8)

    static func verifier(clock: TimeInterval = signingTime, secret: String = secret) -> SigV4Verifier {
        SigV4Verifier(credentials: { $0 == accessKeyId ? secret : nil }, clock: at(clock))
    }

    static func request(path: String = "/", query: String = "", _ headers: SigV4Headers) -> SigV4Request {
        SigV4Request(method: "POST", path: path, query: query, headers: headers, body: body)
    }

    static let base: SigV4Headers = [
        ("Host", "127.0.0.1:8000"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
        ("User-Agent", "vector-generator"),
        ("X-Amz-Date", "20250314T092653Z"),
    ]

    /// http://127.0.0.1:8000/
    static let plain = request(
        base + [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                    + "Signature=7823ffe332d9e2ca18aa0ee1197e351a1838161f509e8cb5ddcf1da1acb322aa"
            )
        ])

    /// http://127.0.0.1:8000/?b=2&a=x~y&a=hello%20world&flag&c=%2F%2B
    static let query = request(
        query: "b=2&a=x~y&a=hello%20world&flag&c=%2F%2B",
        base + [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                    + "Signature=79728e9698195f6730f3971c697b7bf3058147cdf0b2dcd949d65e362d448a05"
            )
        ])

    /// http://127.0.0.1:8000/ with `X-Eddy-Note: many    inner   spaces  here`.
    static let spaces = request(
        base + [
            ("X-Eddy-Note", "many    inner   spaces  here"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-eddy-note, "
                    + "Signature=cdac58bd8cb0acdad8f03801414bbe01145944af68f2347edd92def9ea981381"
            ),
        ])

    /// http://127.0.0.1:8000/a%20b/./c//d
    static let path = request(
        path: "/a%20b/./c//d",
        base + [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                    + "Signature=80857dd16cfa218ba67cec790b6fcf8ba2554a1d5f971d20bce999e973712b3b"
            )
        ])

    /// http://127.0.0.1:8000/ with `X-Eddy-Tag: one` and `X-Eddy-Tag: two   three`.
    static let repeated = request(
        base + [
            ("X-Eddy-Tag", "one"),
            ("X-Eddy-Tag", "two   three"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-eddy-tag, "
                    + "Signature=030777fe01538feb0b202a00fa948c1d756fe6f5a69c1054f117d4942a6c6768"
            ),
        ])

    static let all: [SigV4Request] = [plain, query, spaces, path, repeated]

    static func withAuthorization(_ value: String, in request: SigV4Request = plain) -> SigV4Request {
        var changed = request
        changed.headers = replacing("Authorization", with: value, in: request.headers)
        return changed
    }
}

private let exampleIdentity = SigV4Identity(accessKeyId: "AKIDEXAMPLE", region: "us-east-1")
private let botocoreIdentity = SigV4Identity(accessKeyId: "AKIDEDDYTEST", region: "us-east-1")

private let mismatchPrefix =
    "The request signature we calculated does not match the signature you provided. "
    + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// MARK: - AWS documentation examples

@Test(.timeLimit(.minutes(3))) func awsDocumentationExamplesVerify() {
    #expect(AWSExample.verifier.verify(AWSExample.get) == .success(exampleIdentity))
    #expect(AWSExample.postVerifier.verify(AWSExample.post) == .success(exampleIdentity))
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationIntermediateValues() {
    let canonical = CanonicalRequest.build(AWSExample.get, signedHeaders: ["content-type", "host", "x-amz-date"])
    #expect(Hex.sha256(canonical) == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
    let key = SigningKeyCache.derive(secret: AWSExample.secret, date: "20150830", region: "us-east-1", service: "iam")
    #expect(Hex.encode(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationExampleWithOneBodyByteChangedFails() {
    var request = AWSExample.post
    request.body[0] = UInt8(ascii: "a")
    let result = failure(AWSExample.postVerifier.verify(request))
    #expect(result?.kind == .invalidSignature)
    #expect(result?.message.hasPrefix(mismatchPrefix) == true)
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationExampleWithAnotherSecretFails() {
    let verifier = SigV4Verifier(service: "iam", credentials: { _ in "another secret" }, clock: at(1_440_938_160))
    #expect(failure(verifier.verify(AWSExample.get))?.kind == .invalidSignature)
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationExampleWithASignedHeaderChangedFails() {
    var request = AWSExample.get
    request.headers = replacing("Content-Type", with: "application/json", in: request.headers)
    #expect(failure(AWSExample.verifier.verify(request))?.kind == .invalidSignature)
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationExampleWithTheDateChangedFails() {
    var request = AWSExample.get
    request.headers = replacing("X-Amz-Date", with: "20150830T123601Z", in: request.headers)
    #expect(failure(AWSExample.verifier.verify(request))?.kind == .invalidSignature)
}

@Test(.timeLimit(.minutes(3))) func awsDocumentationExampleRefusedForAnotherService() {
    let verifier = SigV4Verifier(credentials: { _ in AWSExample.secret }, clock: at(1_440_938_160))
    #expect(
        failure(verifier.verify(AWSExample.get))
            == SigV4Failure(.invalidSignature, "Credential should be scoped to correct service: 'dynamodb'. "))
}

// MARK: - botocore vectors

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func botocoreVectorVerifies(_ request: SigV4Request) {
    #expect(Botocore.verifier().verify(request) == .success(botocoreIdentity))
}

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func botocoreVectorExpiresAfterFifteenMinutes(_ request: SigV4Request) {
    #expect(Botocore.verifier(clock: Botocore.signingTime + 15 * 60).verify(request) == .success(botocoreIdentity))
    #expect(
        failure(Botocore.verifier(clock: Botocore.signingTime + 16 * 60).verify(request))
            == SigV4Failure(
                .invalidSignature,
                "Signature expired: 20250314T092653Z is now earlier than 20250314T092753Z (20250314T094253Z - 15 min.)")
    )
}

@Test(.timeLimit(.minutes(3))) func botocoreVectorFromTheFutureIsNotYetCurrent() {
    #expect(
        failure(Botocore.verifier(clock: Botocore.signingTime - 16 * 60).verify(Botocore.plain))
            == SigV4Failure(
                .invalidSignature,
                "Signature not yet current: 20250314T092653Z is still later than 20250314T092553Z "
                    + "(20250314T091053Z + 15 min.)"))
}

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func botocoreVectorWithWrongSecretFails(_ request: SigV4Request) {
    let result = failure(Botocore.verifier(secret: "eddy/Secret+Key=43").verify(request))
    #expect(result?.kind == .invalidSignature)
    #expect(result?.message.hasPrefix(mismatchPrefix) == true)
}

@Test(.timeLimit(.minutes(3))) func signatureMismatchMessageShowsTheCanonicalRequest() {
    let message = failure(Botocore.verifier(secret: "wrong").verify(Botocore.spaces))?.message ?? ""
    #expect(message.contains("\nx-eddy-note:many inner spaces here\n"))
    #expect(message.contains("'AWS4-HMAC-SHA256\n20250314T092653Z\n20250314/us-east-1/dynamodb/aws4_request\n"))
}

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func botocoreVectorWithUnknownKeyFails(_ request: SigV4Request) {
    let verifier = SigV4Verifier(credentials: { _ in nil }, clock: at(Botocore.signingTime))
    #expect(
        failure(verifier.verify(request))
            == SigV4Failure(.unrecognizedClient, "The security token included in the request is invalid."))
}

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func botocoreVectorWithoutAuthorizationFails(_ request: SigV4Request) {
    var unsigned = request
    unsigned.headers = removing("Authorization", from: request.headers)
    #expect(
        failure(Botocore.verifier().verify(unsigned))
            == SigV4Failure(.missingAuthenticationToken, "Request is missing Authentication Token"))
}

@Test(.timeLimit(.minutes(3))) func nonSigV4AuthorizationIsMissingAuthenticationToken() {
    let request = Botocore.withAuthorization("Bearer abc")
    #expect(failure(Botocore.verifier().verify(request))?.kind == .missingAuthenticationToken)
}

@Test(.timeLimit(.minutes(3))) func missingCredentialIsIncompleteSignature() {
    let header =
        "AWS4-HMAC-SHA256 SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        + "Signature=7823ffe332d9e2ca18aa0ee1197e351a1838161f509e8cb5ddcf1da1acb322aa"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .incompleteSignature, "Authorization header requires 'Credential' parameter. Authorization=\(header)"))
}

@Test(.timeLimit(.minutes(3))) func emptyCredentialIsIncompleteSignature() {
    let header =
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        + "Signature=7823ffe332d9e2ca18aa0ee1197e351a1838161f509e8cb5ddcf1da1acb322aa"
    #expect(failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))?.kind == .incompleteSignature)
}

@Test(.timeLimit(.minutes(3))) func everyMissingPartIsNamed() {
    var request = Botocore.withAuthorization("AWS4-HMAC-SHA256")
    request.headers = removing("X-Amz-Date", from: request.headers)
    #expect(
        failure(Botocore.verifier().verify(request))
            == SigV4Failure(
                .incompleteSignature,
                "Authorization header requires 'Credential' parameter. "
                    + "Authorization header requires 'Signature' parameter. "
                    + "Authorization header requires 'SignedHeaders' parameter. "
                    + "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                    + "Authorization=AWS4-HMAC-SHA256"))
}

@Test(.timeLimit(.minutes(3))) func parameterWithoutEqualSignIsIncompleteSignature() {
    let header =
        "AWS4-HMAC-SHA256 Credential= AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
        + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .incompleteSignature,
                "'AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request' not a valid key=value pair "
                    + "(missing equal-sign) in Authorization header: '\(header)'."))
}

@Test(.timeLimit(.minutes(3))) func malformedDateIsIncompleteSignature() {
    var request = Botocore.plain
    request.headers = replacing("X-Amz-Date", with: "2025-03-14T09:26:53Z", in: request.headers)
    #expect(
        failure(Botocore.verifier().verify(request))
            == SigV4Failure(
                .incompleteSignature,
                "Date must be in ISO-8601 'basic format'. Got '2025-03-14T09:26:53Z'. "
                    + "See http://en.wikipedia.org/wiki/ISO_8601"))
}

@Test(.timeLimit(.minutes(3))) func dateHeaderIsUsedWithoutXAmzDate() {
    var request = Botocore.plain
    request.headers = removing("X-Amz-Date", from: request.headers) + [("Date", "20250314T092653Z")]
    let header =
        "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
        + "SignedHeaders=content-type;date;host;x-amz-target, Signature=00"
    let result = failure(Botocore.verifier().verify(Botocore.withAuthorization(header, in: request)))
    #expect(result?.kind == .invalidSignature)
    #expect(result?.message.contains("\ndate:20250314T092653Z\n") == true)
}

@Test(.timeLimit(.minutes(3))) func unsignedHostIsInvalidSignature() {
    let header =
        "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
        + "SignedHeaders=content-type;x-amz-date;x-amz-target, Signature=00"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .invalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."))
}

@Test(.timeLimit(.minutes(3))) func unsupportedAlgorithmIsIncompleteSignature() {
    let header =
        "AWS4-HMAC-SHA512 Credential=AKIDEDDYTEST/20250314/us-east-1/dynamodb/aws4_request, "
        + "SignedHeaders=host;x-amz-date, Signature=00"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .incompleteSignature,
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "))
}

@Test(.timeLimit(.minutes(3))) func credentialWithoutFiveElementsIsIncompleteSignature() {
    let header =
        "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250314/dynamodb/aws4_request, "
        + "SignedHeaders=host;x-amz-date, Signature=00"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .incompleteSignature,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                    + "got 'AKIDEDDYTEST/20250314/dynamodb/aws4_request'"))
}

@Test(.timeLimit(.minutes(3))) func wronglyScopedCredentialNamesEveryProblem() {
    let header =
        "AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20250313/us-east-1/s3/aws5_request, "
        + "SignedHeaders=host;x-amz-date, Signature=00"
    #expect(
        failure(Botocore.verifier().verify(Botocore.withAuthorization(header)))
            == SigV4Failure(
                .invalidSignature,
                "Credential should be scoped to correct service: 'dynamodb'. "
                    + "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
                    + "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'20250313' != '20250314', from '20250314T092653Z'. "))
}

@Test(.timeLimit(.minutes(3))) func configuredRegionIsEnforced() {
    let verifier = SigV4Verifier(
        region: "eu-west-1", credentials: { _ in Botocore.secret }, clock: at(Botocore.signingTime))
    #expect(
        failure(verifier.verify(Botocore.plain))
            == SigV4Failure(.invalidSignature, "Credential should be scoped to a valid region, not 'us-east-1'. "))
}

@Test(.timeLimit(.minutes(3))) func signedHeaderMissingFromTheRequestIsIncompleteSignature() {
    var request = Botocore.plain
    request.headers = removing("X-Amz-Target", from: request.headers)
    #expect(
        failure(Botocore.verifier().verify(request))
            == SigV4Failure(
                .incompleteSignature,
                "'x-amz-target' is named as a SignedHeader, but it does not exist in the HTTP request."))
}

// MARK: - Without a credential lookup

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func withoutLookupAnyWellFormedSignatureIsAccepted(_ request: SigV4Request) {
    let verifier = SigV4Verifier(clock: at(0))
    let forged = Botocore.withAuthorization(
        "AWS4-HMAC-SHA256 Credential=ANYKEY/20250314/eu-north-1/dynamodb/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef",
        in: request)
    #expect(verifier.verify(request) == .success(botocoreIdentity))
    #expect(verifier.verify(forged) == .success(SigV4Identity(accessKeyId: "ANYKEY", region: "eu-north-1")))
}

@Test(.timeLimit(.minutes(3))) func withoutLookupMalformedHeadersAreStillRefused() {
    let verifier = SigV4Verifier()
    var unsigned = Botocore.plain
    unsigned.headers = removing("Authorization", from: unsigned.headers)
    #expect(failure(verifier.verify(unsigned))?.kind == .missingAuthenticationToken)
    let incomplete = Botocore.withAuthorization("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00")
    #expect(failure(verifier.verify(incomplete))?.kind == .incompleteSignature)
    let wrongService = Botocore.withAuthorization(
        "AWS4-HMAC-SHA256 Credential=K/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
    #expect(failure(verifier.verify(wrongService))?.kind == .invalidSignature)
    let emptyKey = Botocore.withAuthorization(
        "AWS4-HMAC-SHA256 Credential=/20250314/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    )
    #expect(failure(verifier.verify(emptyKey))?.kind == .unrecognizedClient)
}

// MARK: - Canonical parts

private func rendered(_ append: (inout [UInt8]) -> Void) -> String {
    var bytes: [UInt8] = []
    append(&bytes)
    return String(decoding: bytes, as: UTF8.self)
}

private func canonicalPath(_ raw: String) -> String {
    rendered { CanonicalRequest.appendPath(raw, to: &$0) }
}

private func canonicalQuery(_ raw: String) -> String {
    rendered { CanonicalRequest.appendQuery(raw, to: &$0) }
}

private func canonicalHeaderValue(_ values: [String]) -> String {
    rendered { CanonicalRequest.appendHeaderValue(values, to: &$0) }
}

@Test(.timeLimit(.minutes(3))) func canonicalPathNormalisesAndEncodesEachSegment() {
    #expect(canonicalPath("") == "/")
    #expect(canonicalPath("/") == "/")
    #expect(canonicalPath("//a/./b/../c/") == "/a/c/")
    #expect(canonicalPath("/a%20b/c:d") == "/a%2520b/c%3Ad")
    #expect(canonicalPath("/../..") == "/")
}

@Test(.timeLimit(.minutes(3))) func canonicalQuerySortsAndReencodes() {
    #expect(canonicalQuery("") == "")
    #expect(canonicalQuery("b=2&a=x~y&a=hello%20world&flag&c=%2f+") == "a=hello%20world&a=x~y&b=2&c=%2F%2B&flag=")
    #expect(canonicalQuery("k=%zz&%C3%A9=%E2%82%AC") == "%C3%A9=%E2%82%AC&k=%25zz")
    #expect(canonicalQuery("a=2&a=10&B=1") == "B=1&a=10&a=2")
}

@Test(.timeLimit(.minutes(3))) func canonicalHeaderValueTrimsCollapsesAndJoins() {
    #expect(canonicalHeaderValue(["  a   b \t c  "]) == "a b c")
    #expect(canonicalHeaderValue(["one", " two   three "]) == "one,two three")
    #expect(canonicalHeaderValue([""]) == "")
}

@Test(.timeLimit(.minutes(3))) func timestampsRoundTrip() throws {
    for text in ["19700101T000000Z", "20000229T235959Z", "20250314T092653Z", "21000301T120000Z"] {
        let timestamp = try Timestamp(parsing: text)
        #expect(Timestamp.format(timestamp.seconds) == text)
    }
    #expect(try Timestamp(parsing: "20250314T092653Z").seconds == 1_741_944_413)
    for text in ["20250230T000000Z", "20250314T246000Z", "20250314 092653Z", "2025031T092653Z", ""] {
        #expect(throws: SigV4Failure.self) { try Timestamp(parsing: text) }
    }
}

@Test(.timeLimit(.minutes(3))) func signingKeysAreCachedPerScope() {
    let cache = SigningKeyCache()
    let first = cache.key(secret: "s", date: "20250314", region: "us-east-1", service: "dynamodb")
    let again = cache.key(secret: "s", date: "20250314", region: "us-east-1", service: "dynamodb")
    let otherDay = cache.key(secret: "s", date: "20250315", region: "us-east-1", service: "dynamodb")
    #expect(first.withUnsafeBytes { Array($0) } == again.withUnsafeBytes { Array($0) })
    #expect(first.withUnsafeBytes { Array($0) } != otherDay.withUnsafeBytes { Array($0) })
}
