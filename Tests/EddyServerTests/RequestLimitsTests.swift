import Eddy
import Foundation
import Testing

@testable import EddyServer

// What the HTTP server answers at its limits (HTTPService.requestLineBytesMax, requestHeadersBytesMax): a 400
// with a JSON body, before the connection closes, and the server goes on serving; and DescribeEndpoints, which
// answers the address the client used.

@Suite(.timeLimit(.minutes(2))) struct RequestLimitsTests {
    static let credentials = SigV4Credentials(accessKeyId: "AKIDLIMITS", secretAccessKey: "limits/secret")

    static let overLimit: [(label: String, request: EddyClient.Request)] = [
        ("a header over the line limit", listTables(headers: [("X-Big", String(repeating: "b", count: 17_000))])),
        ("headers over the total limit", listTables(headers: (0..<7).map { ("X-Part-\($0)", String(repeating: "h", count: 10_000)) })),
        ("a request line over the limit", EddyClient.Request(method: "GET", path: "/health", query: String(repeating: "q", count: 17_000), service: "dynamodb")),
    ]

    static func listTables(headers: [(String, String)]) -> EddyClient.Request {
        var request = EddyClient.Request.target("DynamoDB_20120810.ListTables", body: Array("{}".utf8))
        request.headers += headers.map { (name: $0.0, value: $0.1) }
        return request
    }

    @Test(arguments: overLimit)
    func aRequestOverTheLimitsIsA400WithABody(label: String, request: EddyClient.Request) async throws {
        try await withListeningServer { _, port in
            let client = EddyClient(port: port, credentials: Self.credentials)
            let response = try await client.send(request)
            await client.close()
            #expect(response.status == 400, "\(label)")
            let body = try #require(jsonObject(response.body))
            #expect(body["__type"] as? String == "com.amazon.coral.service#BadRequest")
            #expect(body["message"] as? String == """
                The request line or headers are larger than the server's limits: \(HTTPService.requestLineBytesMax) bytes \
                for the request line or one header, \(HTTPService.requestHeadersBytesMax) bytes for all headers
                """)

            let next = EddyClient(port: port, credentials: Self.credentials)
            let served = try await next.send(Self.listTables(headers: [("X-Big", String(repeating: "b", count: 15_000))]))
            await next.close()
            #expect(served.status == 200)
        }
    }

    @Test func describeEndpointsAnswersTheAddressTheClientUsed() async throws {
        try await withListeningServer { _, port in
            let client = EddyClient(port: port, credentials: Self.credentials)
            let response = try await client.send(.target("DynamoDB_20120810.DescribeEndpoints", body: []))
            await client.close()
            #expect(response.status == 200)
            let endpoints = try #require(jsonObject(response.body)?["Endpoints"] as? [[String: Any]])
            #expect(endpoints.count == 1)
            #expect(endpoints.first?["Address"] as? String == "127.0.0.1:\(port)")
            #expect(endpoints.first?["CachePeriodInMinutes"] as? Int == 1440)
        }
    }
}
