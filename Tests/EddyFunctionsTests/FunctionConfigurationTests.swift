import Foundation
import Testing

@testable import EddyFunctions

@Suite struct FunctionConfigurationTests {
    @Test func environmentVariablesUseLambdasMemberNames() throws {
        let json = try JSONEncoder().encode(FunctionEnvironment(variables: ["A": "1"]))
        #expect(String(decoding: json, as: UTF8.self) == #"{"Variables":{"A":"1"}}"#)
    }
}
