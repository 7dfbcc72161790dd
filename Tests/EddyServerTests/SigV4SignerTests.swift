import Foundation
import Testing

@testable import EddyServer

// SigV4Signer against signatures made by others: the AWS documentation's examples and botocore's vectors (the
// fixtures of SigV4Tests.swift). Each request is signed again from its headers without the signature; the
// signer must produce the very `Authorization` header the other signer did.

/// `request` without its signature, its date and the headers botocore does not sign.
private func unsigned(_ request: SigV4Request) -> SigV4Request {
    var unsigned = request
    unsigned.headers.removeAll { ["authorization", "x-amz-date", "user-agent"].contains($0.name.lowercased()) }
    return unsigned
}

private func authorization(_ request: SigV4Request) -> String? {
    request.headers.first { $0.name.lowercased() == "authorization" }?.value
}

@Test(.timeLimit(.minutes(3))) func signerMakesTheAWSDocumentationExamplesSignatures() {
    let credentials = SigV4Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: AWSExample.secret)
    let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "iam")
    let get = signer.signed(unsigned(AWSExample.get), at: Date(timeIntervalSince1970: 1_440_938_160))
    #expect(authorization(get) == authorization(AWSExample.get))
    let post = signer.signed(unsigned(AWSExample.post), at: Date(timeIntervalSince1970: 1_315_611_360))
    #expect(authorization(post) == authorization(AWSExample.post))
}

@Test(.timeLimit(.minutes(3)), arguments: Botocore.all)
func signerMakesBotocoresSignatures(_ vector: SigV4Request) {
    let signer = SigV4Signer(
        credentials: SigV4Credentials(accessKeyId: Botocore.accessKeyId, secretAccessKey: Botocore.secret), region: "us-east-1",
        service: "dynamodb")
    let signed = signer.signed(unsigned(vector), at: Date(timeIntervalSince1970: Botocore.signingTime))
    #expect(authorization(signed) == authorization(vector))
    #expect(signed.headers.first { $0.name == "X-Amz-Date" }?.value == "20250314T092653Z")
}

@Test(.timeLimit(.minutes(3))) func aSignedRequestPassesTheVerifierAndAnotherSecretDoesNot() {
    let now = Date()
    let verifier = SigV4Verifier(service: "eddy", region: "eu-west-1", credentials: { $0 == "AKID" ? "right" : nil }, clock: { now })
    let request = SigV4Request(
        method: "DELETE", path: "/eddy/2026-12-01/triggers/a%20name", query: "x=1",
        headers: [("Host", "127.0.0.1:8000"), ("Authorization", "stale"), ("X-Amz-Date", "19700101T000000Z")], body: [])
    func signed(secret: String, region: String = "eu-west-1") -> SigV4Request {
        SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKID", secretAccessKey: secret), region: region, service: "eddy")
            .signed(request, at: now)
    }
    #expect(verifier.verify(signed(secret: "right")) == .success(SigV4Identity(accessKeyId: "AKID", region: "eu-west-1")))
    #expect(signed(secret: "right").headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
    guard case .failure(let wrong) = verifier.verify(signed(secret: "wrong")) else {
        Issue.record("a wrong secret passed")
        return
    }
    #expect(wrong.kind == .invalidSignature)
    guard case .failure(let elsewhere) = verifier.verify(signed(secret: "right", region: "us-east-1")) else {
        Issue.record("another Region passed")
        return
    }
    #expect(elsewhere.kind == .invalidSignature)
}
