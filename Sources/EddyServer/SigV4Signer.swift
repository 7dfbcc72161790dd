import Crypto
import Foundation

/// An access key pair that signs requests.
public struct SigV4Credentials: Sendable, Hashable {
    public var accessKeyId: String
    public var secretAccessKey: String

    public init(accessKeyId: String, secretAccessKey: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }
}

/// Signs requests with AWS Signature Version 4, as the AWS SDKs do, for a server that checks them with
/// ``SigV4Verifier`` (or for AWS itself): `eddy --endpoint-url` signs with it.
///
/// ```swift
/// let signer = SigV4Signer(credentials: .init(accessKeyId: "AKID", secretAccessKey: "secret"), region: "us-east-1", service: "dynamodb")
/// let request = signer.signed(SigV4Request(
///     method: "POST", path: "/",
///     headers: [("Host", "127.0.0.1:8000"), ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.ListTables")],
///     body: Array("{}".utf8)))
/// // request.headers now ends with X-Amz-Date and Authorization
/// ```
///
/// The canonical request is built by the code the verifier uses, and the signer's output is checked against
/// signatures made by botocore and by the AWS documentation's examples.
public struct SigV4Signer: Sendable {
    public let credentials: SigV4Credentials
    /// The Region the credential scope names, for example `us-east-1`.
    public let region: String
    /// The service the credential scope names, for example `dynamodb`.
    public let service: String
    private let signingKeys = SigningKeyCache()

    public init(credentials: SigV4Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `request` with an `X-Amz-Date` header (the time `date`) and an `Authorization` header added, whose
    /// signature covers the method, the path, the query, every header of `request` (its `Host` header among
    /// them: the server checks that `host` is signed) and the body. An `Authorization` or `X-Amz-Date` header
    /// `request` already has is replaced.
    public func signed(_ request: SigV4Request, at date: Date = Date()) -> SigV4Request {
        let timestamp = Timestamp.format(Int64(date.timeIntervalSince1970.rounded(.down)))
        var signed = request
        signed.headers.removeAll { ASCII.equalsIgnoringCase($0.name, "authorization") || ASCII.equalsIgnoringCase($0.name, "x-amz-date") }
        signed.headers.append((name: "X-Amz-Date", value: timestamp))
        let names = Set(signed.headers.map { $0.name.lowercased() }).sorted()
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/\(CredentialScope.terminator)"
        let stringToSign = CanonicalRequest.stringToSign(
            CanonicalRequest.build(signed, signedHeaders: names), date: timestamp, scope: scope)
        let key = signingKeys.key(secret: credentials.secretAccessKey, date: String(timestamp.prefix(8)), region: region, service: service)
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: stringToSign, using: key))
        signed.headers.append((
            name: "Authorization",
            value: "\(AuthorizationHeader.algorithm) Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        ))
        return signed
    }
}
