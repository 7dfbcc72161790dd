/// The rules every stored attribute value obeys, with DynamoDB's messages.
enum ValueValidation {
    /// Checks nesting depth, sets (non-empty, no duplicates) and, inside containers, every member.
    static func validate(_ item: Item) throws(EddyError) {
        for (name, value) in item {
            try validateName(name)
            try validate(value, depth: 0)
        }
    }

    /// An attribute name is 1 to 65,535 bytes, refused with DynamoDB's words.
    static func validateName(_ name: String) throws(EddyError) {
        guard !name.isEmpty else {
            throw .validation("One or more parameter values were invalid: Empty attribute name")
        }
        guard name.utf8.count <= Limits.attributeNameLengthMax else {
            throw .validation(
                "One or more parameter values were invalid: Attribute name is too large, must be less than \(Limits.attributeNameLengthMax + 1) bytes")
        }
    }

    static func validate(_ value: AttributeValue, depth: Int) throws(EddyError) {
        switch value {
        case .s, .n, .b, .bool, .null:
            return
        case .m(let map):
            guard depth < Limits.nestingDepthMax else { throw nestingError }
            for (_, member) in map { try validate(member, depth: depth + 1) }
        case .l(let list):
            guard depth < Limits.nestingDepthMax else { throw nestingError }
            for member in list { try validate(member, depth: depth + 1) }
        case .ss(let strings):
            guard !strings.isEmpty else {
                throw .validation("One or more parameter values were invalid: An string set  may not be empty")
            }
            try checkNoDuplicates(strings, rendered: strings)
        case .ns(let numbers):
            guard !numbers.isEmpty else {
                throw .validation("One or more parameter values were invalid: An number set  may not be empty")
            }
            try checkNoDuplicates(numbers, rendered: numbers.map(\.description))
        case .bs(let binaries):
            guard !binaries.isEmpty else {
                throw .validation("One or more parameter values were invalid: Binary sets should not be empty")
            }
            try checkNoDuplicates(binaries, rendered: binaries.map { "\($0)" })
        }
    }

    private static var nestingError: EddyError {
        .validation("Nesting Levels have exceeded supported limits")
    }

    private static func checkNoDuplicates<Member: Hashable>(_ members: [Member], rendered: [String]) throws(EddyError) {
        guard Set(members).count == members.count else {
            throw .validation("One or more parameter values were invalid: Input collection [\(rendered.joined(separator: ", "))] contains duplicates.")
        }
    }
}
