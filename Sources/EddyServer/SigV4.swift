import Crypto
import Foundation
import Synchronization

/// An HTTP request as received, carrying everything AWS Signature Version 4 covers.
public struct SigV4Request: Sendable {
    /// The HTTP method, for example `POST`.
    public var method: String
    /// The request path exactly as received on the wire, still percent-encoded, without the query string.
    public var path: String
    /// The raw query string as received, without the leading `?` (empty when there is none).
    public var query: String
    /// The request headers in arrival order. Names compare case-insensitively; a name may repeat.
    public var headers: [(name: String, value: String)]
    /// The request body bytes.
    public var body: [UInt8]

    /// Creates a request from its parts as received.
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The raw, still percent-encoded request path.
    ///   - query: The raw query string without `?`.
    ///   - headers: The headers in arrival order.
    ///   - body: The body bytes.
    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    func values(named name: String) -> [String] {
        headers.lazy.filter { ASCII.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    func firstValue(named name: String) -> String? {
        headers.first { ASCII.equalsIgnoringCase($0.name, name) }?.value
    }
}

/// Who signed a request that passed verification.
public struct SigV4Identity: Sendable, Hashable {
    /// The access key id from the credential scope.
    public var accessKeyId: String
    /// The region from the credential scope, for example `us-east-1`.
    public var region: String

    /// Creates an identity.
    public init(accessKeyId: String, region: String) {
        self.accessKeyId = accessKeyId
        self.region = region
    }
}

/// Why a request failed verification, in the shape DynamoDB reports it.
public struct SigV4Failure: Error, Sendable, Hashable {
    /// The DynamoDB error a failure maps to.
    public enum Kind: String, Sendable, Hashable {
        /// No SigV4 `Authorization` header at all.
        case missingAuthenticationToken = "MissingAuthenticationTokenException"
        /// The `Authorization` header or the request date is malformed or incomplete.
        case incompleteSignature = "IncompleteSignatureException"
        /// The signature is expired, not yet valid, wrongly scoped, or does not match.
        case invalidSignature = "InvalidSignatureException"
        /// The access key id is not known.
        case unrecognizedClient = "UnrecognizedClientException"
    }

    /// Which DynamoDB error this is.
    public var kind: Kind
    /// The human-readable message, worded as AWS words it.
    public var message: String

    /// The DynamoDB error type name, for example `InvalidSignatureException`.
    public var typeName: String { kind.rawValue }

    /// Creates a failure.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// Verifies AWS Signature Version 4 `Authorization` headers, server side.
///
/// Checks run in the order DynamoDB applies them: presence of the header, its parameters and a date,
/// the date format, clock skew, `host` among the signed headers, the algorithm, the credential scope,
/// the access key id, and finally the signature itself. Derived signing keys are cached per
/// secret, date, region and service.
///
/// Only the `Authorization` header form of SigV4 is supported, not query-string (presigned) signing.
/// The payload hash is always computed from the body, as for non-S3 services: an `x-amz-content-sha256`
/// header is covered only as an ordinary signed header.
public struct SigV4Verifier: Sendable {
    /// Looks up the secret access key for an access key id, or returns `nil` for an unknown key.
    public typealias CredentialLookup = @Sendable (_ accessKeyId: String) -> String?

    /// How far, in seconds, the request date may be from the server clock: 15 minutes, as AWS allows.
    public static let allowedClockSkew: Int64 = 15 * 60

    /// The service name the credential scope must name, for example `dynamodb`.
    public let service: String
    /// The region the credential scope must name, or `nil` to accept any Region name (letters, digits, `-`
    /// and `_`; see ``RegionalDatabases``).
    public let region: String?
    private let credentials: CredentialLookup?
    private let clock: @Sendable () -> Date
    private let signingKeys = SigningKeyCache()

    /// Creates a verifier.
    /// - Parameters:
    ///   - service: The service the credential scope must name.
    ///   - region: The region the credential scope must name, or `nil` for any region.
    ///   - credentials: The secret lookup. With `nil`, as in DynamoDB Local, any well-formed `Authorization`
    ///     header is accepted with any access key: the clock and the signature are not checked.
    ///   - clock: The current time.
    public init(
        service: String = "dynamodb",
        region: String? = nil,
        credentials: CredentialLookup? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.service = service
        self.region = region
        self.credentials = credentials
        self.clock = clock
    }

    /// Verifies a request's signature.
    /// - Parameter request: The request as received.
    /// - Returns: The signer's identity, or the DynamoDB error to answer with.
    public func verify(_ request: SigV4Request) -> Result<SigV4Identity, SigV4Failure> {
        do {
            return .success(try check(request))
        } catch {
            return .failure(error)
        }
    }

    private func check(_ request: SigV4Request) throws(SigV4Failure) -> SigV4Identity {
        let authorization = try AuthorizationHeader(from: request)
        let timestamp = try Timestamp(parsing: authorization.date)
        if credentials != nil {
            try checkSkew(of: timestamp)
        }
        try authorization.requireSignedHost()
        try authorization.requireSupportedAlgorithm()
        let scope = try CredentialScope(parsing: authorization.credential)
        try checkScope(scope, against: timestamp)
        try authorization.requireSignedHeadersPresent(in: request)
        let identity = SigV4Identity(accessKeyId: scope.accessKeyId, region: scope.region)
        guard let credentials else { return identity }
        guard let secret = credentials(scope.accessKeyId) else { throw .unrecognizedClient }
        try checkSignature(of: request, authorization, scope, timestamp, secret: secret)
        return identity
    }

    private func checkSkew(of timestamp: Timestamp) throws(SigV4Failure) {
        let now = Int64(clock().timeIntervalSince1970.rounded(.down))
        let skew = Self.allowedClockSkew
        if timestamp.seconds < now - skew {
            throw SigV4Failure(
                .invalidSignature,
                "Signature expired: \(timestamp.text) is now earlier than \(Timestamp.format(now - skew)) "
                    + "(\(Timestamp.format(now)) - 15 min.)")
        }
        if timestamp.seconds > now + skew {
            throw SigV4Failure(
                .invalidSignature,
                "Signature not yet current: \(timestamp.text) is still later than \(Timestamp.format(now + skew)) "
                    + "(\(Timestamp.format(now)) + 15 min.)")
        }
    }

    private func checkScope(_ scope: CredentialScope, against timestamp: Timestamp) throws(SigV4Failure) {
        var message = ""
        if !RegionalDatabases.isRegionName(scope.region) || (region != nil && scope.region != region) {
            message += "Credential should be scoped to a valid region, not '\(scope.region)'. "
        }
        if scope.service != service {
            message += "Credential should be scoped to correct service: '\(service)'. "
        }
        if scope.terminator != CredentialScope.terminator {
            message +=
                "Credential should be scoped with a valid terminator: 'aws4_request', not '\(scope.terminator)'. "
        }
        if scope.date != timestamp.dateStamp {
            message +=
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                + "'\(scope.date)' != '\(timestamp.dateStamp)', from '\(timestamp.text)'. "
        }
        if !message.isEmpty {
            throw SigV4Failure(.invalidSignature, message)
        }
        if scope.accessKeyId.isEmpty {
            throw .unrecognizedClient
        }
    }

    private func checkSignature(
        of request: SigV4Request, _ authorization: AuthorizationHeader, _ scope: CredentialScope,
        _ timestamp: Timestamp, secret: String
    ) throws(SigV4Failure) {
        let canonical = CanonicalRequest.build(request, signedHeaders: authorization.signedHeaders)
        let stringToSign = CanonicalRequest.stringToSign(canonical, date: timestamp.text, scope: scope.scopeString)
        let key = signingKeys.key(secret: secret, date: scope.date, region: scope.region, service: service)
        guard let provided = Hex.decode(authorization.signature),
            HMAC<SHA256>.isValidAuthenticationCode(provided, authenticating: stringToSign, using: key)
        else {
            throw .signatureMismatch(
                canonical: String(decoding: canonical, as: UTF8.self),
                stringToSign: String(decoding: stringToSign, as: UTF8.self))
        }
    }
}

extension SigV4Failure {
    static let unrecognizedClient = SigV4Failure(
        .unrecognizedClient, "The security token included in the request is invalid.")

    static func signatureMismatch(canonical: String, stringToSign: String) -> SigV4Failure {
        SigV4Failure(
            .invalidSignature,
            "The request signature we calculated does not match the signature you provided. "
                + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
                + "\n\nThe Canonical String for this request should have been\n'\(canonical)'"
                + "\n\nThe String-to-Sign should have been\n'\(stringToSign)'\n")
    }
}

/// The parameters of an `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header and the request date.
struct AuthorizationHeader {
    static let algorithm = "AWS4-HMAC-SHA256"

    let algorithm: String
    let credential: String
    let signedHeaders: [String]
    let signature: String
    let date: String

    init(from request: SigV4Request) throws(SigV4Failure) {
        guard let header = request.firstValue(named: "authorization").map(ASCII.trimmingWhitespace),
            header.utf8.starts(with: "AWS4-".utf8)
        else {
            throw SigV4Failure(.missingAuthenticationToken, "Request is missing Authentication Token")
        }
        // A substring's UTF-8 view is copied byte by byte; its contiguous storage is copied at once.
        var tokens = ParameterTokens(header.utf8.withContiguousStorageIfAvailable(Array.init) ?? Array(header.utf8))
        let algorithm = tokens.next() ?? []
        var parameters = Parameters()
        while let token = tokens.next() {
            try parameters.add(token, header: header)
        }
        let date = request.firstValue(named: "x-amz-date") ?? request.firstValue(named: "date")
        try parameters.requireComplete(date: date, header: header)
        self.algorithm = String(decoding: algorithm, as: UTF8.self)
        credential = parameters.credential ?? ""
        var names = parameters.signedHeaders ?? ""
        // `lowercased()` makes a new string even when nothing changes: only ASCII capitals and non-ASCII letters change.
        if !names.utf8.allSatisfy({ $0 < 0x80 && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) {
            names = names.lowercased()
        }
        var signedHeaders = names.utf8.split(separator: UInt8(ascii: ";")).map { String(Substring($0)) }
        signedHeaders.sort()
        self.signedHeaders = signedHeaders
        signature = parameters.signature ?? ""
        self.date = date.map { String(ASCII.trimmingWhitespace($0)) } ?? ""
    }

    func requireSignedHost() throws(SigV4Failure) {
        guard signedHeaders.contains("host") || signedHeaders.contains(":authority") else {
            throw SigV4Failure(
                .invalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }
    }

    func requireSupportedAlgorithm() throws(SigV4Failure) {
        guard algorithm == Self.algorithm else {
            throw SigV4Failure(
                .incompleteSignature, "Unsupported AWS 'algorithm': '\(algorithm)' (only AWS4-HMAC-SHA256 for now). ")
        }
    }

    func requireSignedHeadersPresent(in request: SigV4Request) throws(SigV4Failure) {
        for name in signedHeaders where request.firstValue(named: name) == nil {
            throw SigV4Failure(
                .incompleteSignature,
                "'\(name)' is named as a SignedHeader, but it does not exist in the HTTP request.")
        }
    }
}

/// The whitespace- or comma-separated words of an `Authorization` header.
private struct ParameterTokens: IteratorProtocol {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func next() -> ArraySlice<UInt8>? {
        while index < bytes.count, ASCII.separatesParameters(bytes[index]) { index += 1 }
        guard index < bytes.count else { return nil }
        let start = index
        while index < bytes.count, !ASCII.separatesParameters(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }
}

/// The `Credential`, `SignedHeaders` and `Signature` parameters of an `Authorization` header; the first of
/// each counts and other names are ignored.
private struct Parameters {
    var credential: String?
    var signedHeaders: String?
    var signature: String?

    mutating func add(_ token: ArraySlice<UInt8>, header: Substring) throws(SigV4Failure) {
        guard let equals = token.firstIndex(of: UInt8(ascii: "=")) else {
            throw SigV4Failure(
                .incompleteSignature,
                "'\(String(decoding: token, as: UTF8.self))' not a valid key=value pair (missing equal-sign) "
                    + "in Authorization header: '\(header)'.")
        }
        let name = token[..<equals]
        let value = String(decoding: token[(equals + 1)...], as: UTF8.self)
        if name.elementsEqual("Credential".utf8) {
            credential = credential ?? value
        } else if name.elementsEqual("SignedHeaders".utf8) {
            signedHeaders = signedHeaders ?? value
        } else if name.elementsEqual("Signature".utf8) {
            signature = signature ?? value
        }
    }

    func requireComplete(date: String?, header: Substring) throws(SigV4Failure) {
        guard credential?.isEmpty ?? true || signature?.isEmpty ?? true || signedHeaders?.isEmpty ?? true || date == nil else {
            return
        }
        var message = ""
        let required = [("Credential", credential), ("Signature", signature), ("SignedHeaders", signedHeaders)]
        for (name, value) in required where value?.isEmpty ?? true {
            message += "Authorization header requires '\(name)' parameter. "
        }
        if date == nil {
            message += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        }
        if !message.isEmpty {
            throw SigV4Failure(.incompleteSignature, message + "Authorization=\(header)")
        }
    }
}

/// `keyid/YYYYMMDD/region/service/aws4_request`.
struct CredentialScope {
    static let terminator = "aws4_request"

    let accessKeyId: String
    let date: String
    let region: String
    let service: String
    let terminator: String

    var scopeString: String { "\(date)/\(region)/\(service)/\(terminator)" }

    init(parsing credential: String) throws(SigV4Failure) {
        var trimmed = Array(credential.utf8)[...]
        while trimmed.last == UInt8(ascii: "/") { trimmed = trimmed.dropLast() }
        let parts = trimmed.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 5 else {
            throw SigV4Failure(
                .incompleteSignature,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                    + "got '\(credential)'")
        }
        accessKeyId = parts[0]
        date = parts[1]
        region = parts[2]
        service = parts[3]
        terminator = parts[4]
    }
}

/// A request time in ISO 8601 basic format, `YYYYMMDD'T'HHMMSS'Z'`, parsed without Foundation formatters.
struct Timestamp {
    let text: String
    let seconds: Int64

    var dateStamp: String { String(text.prefix(8)) }

    init(parsing text: String) throws(SigV4Failure) {
        guard let seconds = Self.epochSeconds(Array(text.utf8)) else {
            throw SigV4Failure(
                .incompleteSignature,
                "Date must be in ISO-8601 'basic format'. Got '\(text)'. See http://en.wikipedia.org/wiki/ISO_8601")
        }
        self.text = text
        self.seconds = seconds
    }

    static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let time = seconds - days * 86_400
        let (year, month, day) = Civil.date(fromDays: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        appendDigits(year, count: 4, to: &bytes)
        appendDigits(month, count: 2, to: &bytes)
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(time / 3600, count: 2, to: &bytes)
        appendDigits(time / 60 % 60, count: 2, to: &bytes)
        appendDigits(time % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func epochSeconds(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            let year = number(bytes[0..<4]), let month = number(bytes[4..<6]), let day = number(bytes[6..<8]),
            let hour = number(bytes[9..<11]), let minute = number(bytes[11..<13]), let second = number(bytes[13..<15]),
            (1...12).contains(month), (1...Civil.daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        return Civil.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    private static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01.
enum Civil {
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }
}

/// The canonical request of the SigV4 documentation: method, path, query, headers, signed headers, payload hash.
enum CanonicalRequest {
    static func build(_ request: SigV4Request, signedHeaders: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        bytes += request.method.utf8
        bytes.append(newline)
        appendPath(request.path, to: &bytes)
        bytes.append(newline)
        appendQuery(request.query, to: &bytes)
        bytes.append(newline)
        for name in signedHeaders {
            bytes += name.utf8
            bytes.append(UInt8(ascii: ":"))
            appendHeaderValue(request.values(named: name), to: &bytes)
            bytes.append(newline)
        }
        bytes.append(newline)
        bytes += signedHeaders.joined(separator: ";").utf8
        bytes.append(newline)
        bytes += Hex.sha256(request.body).utf8
        return bytes
    }

    /// What a signature signs: the algorithm, the request date, the credential scope and the canonical
    /// request's SHA-256, one per line.
    static func stringToSign(_ canonical: [UInt8], date: String, scope: String) -> [UInt8] {
        Array([AuthorizationHeader.algorithm, date, scope, Hex.sha256(canonical)].joined(separator: "\n").utf8)
    }

    /// Removes empty, `.` and `..` segments, then URI-encodes each segment of the already-encoded path,
    /// which makes the path encoded twice, as non-S3 services expect.
    static func appendPath(_ raw: String, to bytes: inout [UInt8]) {
        var segments: [Substring.UTF8View] = []
        for segment in raw.utf8.split(separator: UInt8(ascii: "/")) {
            if segment.elementsEqual(".".utf8) { continue }
            if segment.elementsEqual("..".utf8) {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        bytes.append(UInt8(ascii: "/"))
        for (index, segment) in segments.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "/")) }
            URIEncoding.append(segment, to: &bytes)
        }
        if !segments.isEmpty, raw.utf8.last == UInt8(ascii: "/") {
            bytes.append(UInt8(ascii: "/"))
        }
    }

    /// Decodes each name and value, re-encodes them per RFC 3986 and sorts by name, then value.
    /// A `+` is taken literally, not as a space.
    static func appendQuery(_ raw: String, to bytes: inout [UInt8]) {
        let pairs = raw.utf8.split(separator: UInt8(ascii: "&")).map { pair in
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let value = equals == pair.endIndex ? pair[equals...] : pair[pair.index(after: equals)...]
            return (name: reencode(pair[..<equals]), value: reencode(value))
        }
        let sorted = pairs.sorted { lhs, rhs in
            lhs.name != rhs.name
                ? lhs.name.lexicographicallyPrecedes(rhs.name) : lhs.value.lexicographicallyPrecedes(rhs.value)
        }
        for (index, pair) in sorted.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "&")) }
            bytes += pair.name
            bytes.append(UInt8(ascii: "="))
            bytes += pair.value
        }
    }

    /// Trims each value, collapses inner runs of spaces and tabs to one space, and joins repeats with commas.
    static func appendHeaderValue(_ values: [String], to bytes: inout [UInt8]) {
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            var pendingSpace = false
            var started = false
            for byte in value.utf8 {
                if ASCII.isWhitespace(byte) {
                    pendingSpace = started
                    continue
                }
                if pendingSpace { bytes.append(UInt8(ascii: " ")) }
                bytes.append(byte)
                pendingSpace = false
                started = true
            }
        }
    }

    private static let newline = UInt8(ascii: "\n")

    private static func reencode(_ component: Substring.UTF8View) -> [UInt8] {
        var bytes: [UInt8] = []
        URIEncoding.append(URIEncoding.decode(component), to: &bytes)
        return bytes
    }
}

/// RFC 3986 percent-encoding with the SigV4 unreserved set `A-Z a-z 0-9 - _ . ~` and uppercase hex.
enum URIEncoding {
    static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(Hex.uppercaseDigits[Int(byte >> 4)])
                output.append(Hex.uppercaseDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// Decodes `%XX` escapes; anything else, including a malformed escape, stays as it is.
    static func decode(_ component: Substring.UTF8View) -> [UInt8] {
        let bytes = Array(component)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = Hex.value(of: bytes[index + 1]), let low = Hex.value(of: bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

enum Hex {
    static let lowercaseDigits = Array("0123456789abcdef".utf8)
    static let uppercaseDigits = Array("0123456789ABCDEF".utf8)

    static func sha256(_ bytes: [UInt8]) -> String {
        encode(SHA256.hash(data: bytes))
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in bytes {
            output.append(lowercaseDigits[Int(byte >> 4)])
            output.append(lowercaseDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(of: digits[index]), let low = value(of: digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

enum ASCII {
    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && lhs.utf8.elementsEqual(rhs.utf8) { lower($0) == lower($1) }
    }

    static func trimmingWhitespace(_ text: String) -> Substring {
        guard let first = text.utf8.firstIndex(where: { !isWhitespace($0) }),
            let last = text.utf8.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return text[first...last]
    }

    static func separatesParameters(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",")
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}

/// Derived signing keys per secret, date, region and service, bounded in size.
final class SigningKeyCache: Sendable {
    private struct Scope: Hashable {
        let secret: String
        let date: String
        let region: String
        let service: String
    }

    private static let capacity = 1024
    private let keys = Mutex<[Scope: [UInt8]]>([:])

    func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        let scope = Scope(secret: secret, date: date, region: region, service: service)
        if let bytes = keys.withLock({ $0[scope] }) { return SymmetricKey(data: bytes) }
        let bytes = Self.derive(secret: secret, date: date, region: region, service: service)
        keys.withLock { keys in
            if keys.count >= Self.capacity { keys.removeAll(keepingCapacity: true) }
            keys[scope] = bytes
        }
        return SymmetricKey(data: bytes)
    }

    /// kDate = HMAC("AWS4" + secret, date), then region, service and "aws4_request" in turn.
    static func derive(secret: String, date: String, region: String, service: String) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [date, region, service, CredentialScope.terminator] {
            key = Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: SymmetricKey(data: key)))
        }
        return key
    }
}
