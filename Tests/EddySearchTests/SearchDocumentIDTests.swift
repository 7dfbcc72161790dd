import Foundation
import Testing

@testable import Eddy
@testable import EddySearch

// The documents' `_id`s, written from the issue: made from the primary key, one per item of a table, at most
// Elasticsearch's 512 bytes.

@Suite struct SearchDocumentIDTests {
    @Test func readableFormIsTheKeysText() throws {
        #expect(SearchDocumentID.make(partitionKey: .s("user#1"), sortKey: nil) == "user#1")
        #expect(SearchDocumentID.make(partitionKey: .s("user#1"), sortKey: .n(try DecimalNumber("7.50"))) == "user#1|7.5")
        #expect(SearchDocumentID.make(partitionKey: .b([0, 1, 2, 255]), sortKey: .s("x")) == "AAEC/w==|x")
        #expect(SearchDocumentID.make(partitionKey: .n(try DecimalNumber("-1E+3")), sortKey: nil) == "-1000")
    }

    /// Keys that a plain join would send to one `_id`: each pair must get two.
    @Test(arguments: [
        (("a|b", "c"), ("a", "b|c")),
        (("a\\", "|b"), ("a\\|", "b")),
        (("a\\|", "b"), ("a", "\\|b")),
        (("\\", "\\"), ("\\\\", "")),
    ])
    func escapingKeepsKeysApart(_ first: (String, String), _ second: (String, String)) {
        let one = SearchDocumentID.make(partitionKey: .s(first.0), sortKey: .s(first.1))
        let other = SearchDocumentID.make(partitionKey: .s(second.0), sortKey: .s(second.1))
        #expect(one != other)
    }

    @Test func aHashOnlyKeyThatLooksLikeACompositeOneStaysApart() {
        let composite = SearchDocumentID.make(partitionKey: .s("a"), sortKey: .s("b"))
        let single = SearchDocumentID.make(partitionKey: .s("a|b"), sortKey: nil)
        #expect(composite != single)
    }

    /// DynamoDB's largest keys (a 2048-byte partition key, a 1024-byte sort key) fit in hashed form, and two
    /// long keys differing in their last byte stay apart.
    @Test func longKeysAreHashedUnder512Bytes() {
        let partition = String(repeating: "é", count: 1024)
        let long = SearchDocumentID.make(partitionKey: .s(partition), sortKey: .s(String(repeating: "z", count: 1024)))
        let other = SearchDocumentID.make(partitionKey: .s(partition), sortKey: .s(String(repeating: "z", count: 1023) + "y"))
        #expect(long.utf8.count == 66)
        #expect(long.hasPrefix("\\#"))
        #expect(long != other)
        #expect(long == SearchDocumentID.make(partitionKey: .s(partition), sortKey: .s(String(repeating: "z", count: 1024))))
    }

    @Test func readableFormUpToTheLimitIsKept() {
        let exactly = String(repeating: "k", count: SearchDocumentID.bytesMax)
        #expect(SearchDocumentID.make(partitionKey: .s(exactly), sortKey: nil) == exactly)
        #expect(SearchDocumentID.make(partitionKey: .s(exactly + "k"), sortKey: nil).hasPrefix("\\#"))
    }

    /// A readable `_id` can hold what a hashed one looks like only escaped: `\#…` as a key gives `\\#…`.
    @Test func aKeyShapedLikeAHashedIDIsNotOne() {
        let hashed = SearchDocumentID.make(partitionKey: .s(String(repeating: "x", count: 600)), sortKey: nil)
        let lookalike = SearchDocumentID.make(partitionKey: .s(hashed), sortKey: nil)
        #expect(lookalike != hashed)
        #expect(lookalike == "\\" + hashed)
    }
}
