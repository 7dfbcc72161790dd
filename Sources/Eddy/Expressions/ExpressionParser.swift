/// Which condition-like expression a text is: names the expression in error messages.
enum ConditionKind: String, Sendable, Hashable {
    case condition = "ConditionExpression"
    case filter = "FilterExpression"
    case keyCondition = "KeyConditionExpression"
}

/// Parses DynamoDB's expressions into `ExpressionAST` trees, with DynamoDB's error messages.
///
/// A hand-written recursive-descent parser over the token array of `ExpressionLexer`. Precedence, highest
/// first: comparators, `IN`, `BETWEEN`, functions, parentheses, `NOT`, `AND`, `OR`.
enum ExpressionParser {
    static func parseCondition(_ text: String, kind: ConditionKind) throws(EddyError) -> ConditionNode {
        try withParser(text, expression: kind.rawValue) { (parser: inout Parser) throws(EddyError) in
            let node = try parser.parseOr()
            try parser.expect(.end)
            return node
        }
    }

    static func parseUpdate(_ text: String) throws(EddyError) -> UpdateNode {
        try withParser(text, expression: "UpdateExpression") { (parser: inout Parser) throws(EddyError) in
            try parser.parseUpdateClauses()
        }
    }

    static func parseProjection(_ text: String) throws(EddyError) -> ProjectionNode {
        try withParser(text, expression: "ProjectionExpression") { (parser: inout Parser) throws(EddyError) in
            var paths = [try parser.parsePath()]
            while parser.current.kind == .comma {
                parser.advance()
                paths.append(try parser.parsePath())
            }
            try parser.expect(.end)
            return ProjectionNode(paths: paths)
        }
    }

    private static func withParser<Result>(
        _ text: String, expression: String, _ body: (inout Parser) throws(EddyError) -> Result
    ) throws(EddyError) -> Result {
        var text = text
        let length = text.utf8.count
        guard length > 0 else {
            throw .validation("Invalid \(expression): The expression can not be empty;")
        }
        guard length <= Limits.expressionLengthMax else {
            throw .validation(
                "Invalid \(expression): Expression size has exceeded the maximum allowed size; expression size: \(length)")
        }
        let outcome: Swift.Result<Result, EddyError> = text.withUTF8 { bytes in
            let tokens = ExpressionLexer.tokenize(bytes)
            // Only whitespace counts as empty too.
            guard tokens.count > 1 else {
                return .failure(.validation("Invalid \(expression): The expression can not be empty;"))
            }
            var parser = Parser(bytes: bytes, tokens: tokens, expression: expression)
            do throws(EddyError) {
                let result = try body(&parser)
                // Only an expression that parses has redundant parentheses: a syntax error anywhere wins.
                if parser.hasRedundantParentheses { throw parser.fail("The expression has redundant parentheses;") }
                return .success(result)
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}

/// The state of one parse: the bytes, their tokens and the position.
struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    let tokens: [Token]
    /// The expression's parameter name, for messages: `ConditionExpression`, `UpdateExpression`, …
    let expression: String
    var position = 0
    /// Operators and functions of an UpdateExpression so far.
    var operatorCount = 0
    /// The token positions of the `(` and `)` of the parenthesized group that closed last.
    private var lastClosedGroup: (open: Int, close: Int)?
    /// Whether a group's whole content is one more group, as in `((a = :v))`, which DynamoDB refuses.
    private(set) var hasRedundantParentheses = false

    init(bytes: UnsafeBufferPointer<UInt8>, tokens: [Token], expression: String) {
        self.bytes = bytes
        self.tokens = tokens
        self.expression = expression
    }

    var current: Token { tokens[position] }

    func peek(_ offset: Int = 1) -> Token {
        tokens[min(position + offset, tokens.count - 1)]
    }

    mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    func text(_ token: Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[token.start..<token.end]), as: UTF8.self)
    }

    /// Whether `token` is the identifier `word` (ASCII, lowercase), ignoring case.
    func isWord(_ token: Token, _ word: StaticString) -> Bool {
        guard token.kind == .identifier, token.end - token.start == word.utf8CodeUnitCount else { return false }
        let expected = word.utf8Start
        for offset in 0..<word.utf8CodeUnitCount where bytes[token.start + offset] | 0x20 != expected[offset] {
            return false
        }
        return true
    }

    // MARK: Errors

    func fail(_ message: String) -> EddyError {
        .validation("Invalid \(expression): \(message)")
    }

    /// DynamoDB's syntax error at the current token: the token, and the text from the previous token to the next.
    func syntaxError() -> EddyError {
        syntaxError(at: position)
    }

    func syntaxError(at index: Int) -> EddyError {
        let token = tokens[index]
        if token.kind == .end {
            let near = index > 0 ? text(Token(kind: .end, start: tokens[index - 1].start, end: token.end)) : ""
            return fail("Syntax error; token: \"<EOF>\", near: \"\(near)\"")
        }
        let start = index > 0 ? tokens[index - 1].start : token.start
        let next = tokens[index + 1]
        let end = next.kind == .end ? token.end : next.end
        let near = text(Token(kind: .end, start: start, end: end))
        return fail("Syntax error; token: \"\(text(token))\", near: \"\(near)\"")
    }

    mutating func expect(_ kind: TokenKind) throws(EddyError) {
        guard current.kind == kind else { throw syntaxError() }
        advance()
    }

    /// At the `)` of a group opened at token `open`: consumes it, and notes redundant parentheses when the
    /// group holds nothing but the group that closed just before.
    private mutating func closeGroup(openedAt open: Int) throws(EddyError) {
        let close = position
        try expect(.rightParen)
        if let inner = lastClosedGroup, inner.open == open + 1, inner.close == close - 1 {
            hasRedundantParentheses = true
        }
        lastClosedGroup = (open, close)
    }

    // MARK: Paths

    /// `name`, `#name`, then any `.name`, `.#name`, `[n]`.
    mutating func parsePath() throws(EddyError) -> DocumentPath {
        var elements: [PathElement] = [try parseNameElement()]
        while true {
            switch current.kind {
            case .dot:
                advance()
                elements.append(try parseNameElement())
            case .leftBracket:
                advance()
                guard current.kind == .number else { throw syntaxError() }
                guard let index = parseIndex(current) else { throw syntaxError() }
                advance()
                try expect(.rightBracket)
                elements.append(.index(index))
            default:
                guard elements.count <= Limits.documentPathDepthMax else {
                    throw fail("The document path has too many nesting levels; nesting levels: \(elements.count)")
                }
                return DocumentPath(elements: elements)
            }
        }
    }

    private static let grammarKeywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN"]

    private func parseIndex(_ token: Token) -> Int? {
        var value = 0
        for offset in token.start..<token.end {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[offset] - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    private mutating func parseNameElement() throws(EddyError) -> PathElement {
        let token = current
        switch token.kind {
        case .namePlaceholder:
            advance()
            return .name(.placeholder(text(token)))
        case .identifier:
            let name = text(token)
            // The grammar's own keywords are tokens of the grammar, not names: where a name is expected
            // they are a syntax error, as in DynamoDB.
            if Self.grammarKeywords.contains(name.uppercased()) { throw syntaxError() }
            if ReservedWords.contains(name) {
                throw fail("Attribute name is a reserved keyword; reserved keyword: \(name)")
            }
            advance()
            return .name(.literal(name))
        default:
            throw syntaxError()
        }
    }

    // MARK: Functions

    /// The functions of the language, by lowercase name.
    enum Function: String {
        case attributeExists = "attribute_exists"
        case attributeNotExists = "attribute_not_exists"
        case attributeType = "attribute_type"
        case beginsWith = "begins_with"
        case contains = "contains"
        case size = "size"
        case ifNotExists = "if_not_exists"
        case listAppend = "list_append"

        var arity: Int {
            switch self {
            case .attributeExists, .attributeNotExists, .size: 1
            case .attributeType, .beginsWith, .contains, .ifNotExists, .listAppend: 2
            }
        }

        var isCondition: Bool {
            switch self {
            case .attributeExists, .attributeNotExists, .attributeType, .beginsWith, .contains: true
            case .size, .ifNotExists, .listAppend: false
            }
        }
    }

    /// At an identifier followed by `(`: the function it names, or DynamoDB's error for an unknown one (a
    /// syntax error when the name does not start with a letter). Consumes the name and the `(`.
    mutating func parseFunctionName() throws(EddyError) -> Function {
        guard ExpressionLexer.isLetter(bytes[current.start]) else { throw syntaxError() }
        let name = text(current)
        guard let function = Function(rawValue: name.lowercased()) else {
            throw fail("Invalid function name; function: \(name)")
        }
        advance()
        advance()
        return function
    }

    /// Whether the current token starts a function call.
    var atFunctionCall: Bool {
        current.kind == .identifier && peek().kind == .leftParen
    }

    func arityError(_ function: Function, _ count: Int) -> EddyError {
        fail("Incorrect number of operands for operator or function; operator or function: \(function.rawValue), number of operands: \(count)")
    }

    func pathRequired(_ function: Function) -> EddyError {
        fail("Operator or function requires a document path; operator or function: \(function.rawValue)")
    }

    // MARK: Conditions

    mutating func parseOr() throws(EddyError) -> ConditionNode {
        var node = try parseAnd()
        while isWord(current, "or") {
            advance()
            node = .or(node, try parseAnd())
        }
        return node
    }

    mutating func parseAnd() throws(EddyError) -> ConditionNode {
        var node = try parseNot()
        while isWord(current, "and") {
            advance()
            node = .and(node, try parseNot())
        }
        return node
    }

    mutating func parseNot() throws(EddyError) -> ConditionNode {
        if isWord(current, "not") {
            advance()
            return .not(try parseNot())
        }
        return try parsePredicate()
    }

    mutating func parsePredicate() throws(EddyError) -> ConditionNode {
        if current.kind == .leftParen {
            let open = position
            advance()
            let node = try parseOr()
            try closeGroup(openedAt: open)
            return node
        }
        if atFunctionCall {
            let start = position
            let function = try parseFunctionName()
            if function.isCondition {
                return try parseConditionFunction(function)
            }
            position = start
        }
        let left = try parseOperand()
        let token = current
        let comparator: Comparator
        switch token.kind {
        case .equal: comparator = .equal
        case .notEqual: comparator = .notEqual
        case .less: comparator = .less
        case .lessOrEqual: comparator = .lessOrEqual
        case .greater: comparator = .greater
        case .greaterOrEqual: comparator = .greaterOrEqual
        default:
            if isWord(token, "between") {
                advance()
                let low = try parseOperand()
                guard isWord(current, "and") else { throw syntaxError() }
                advance()
                let high = try parseOperand()
                return .between(left, low, high)
            }
            if isWord(token, "in") {
                advance()
                try expect(.leftParen)
                var list = [try parseOperand()]
                while current.kind == .comma {
                    advance()
                    list.append(try parseOperand())
                }
                try expect(.rightParen)
                guard list.count <= Limits.inOperandsMax else {
                    throw fail("The IN operator is provided with too many operands; number of operands: \(list.count)")
                }
                return .in(left, list)
            }
            throw syntaxError()
        }
        advance()
        return .compare(left, comparator, try parseOperand())
    }

    /// After `name(`: the arguments and `)` of a condition function.
    private mutating func parseConditionFunction(_ function: Function) throws(EddyError) -> ConditionNode {
        var arguments = [try parseOperand()]
        while current.kind == .comma {
            advance()
            arguments.append(try parseOperand())
        }
        try expect(.rightParen)
        guard arguments.count == function.arity else { throw arityError(function, arguments.count) }
        switch function {
        case .attributeExists, .attributeNotExists, .attributeType:
            guard case .path(let path) = arguments[0] else { throw pathRequired(function) }
            if function == .attributeExists { return .attributeExists(path) }
            if function == .attributeNotExists { return .attributeNotExists(path) }
            return .attributeType(path, arguments[1])
        case .beginsWith:
            return .beginsWith(arguments[0], arguments[1])
        default:
            return .contains(arguments[0], arguments[1])
        }
    }

    /// A value in a condition: a path, a `:value` or `size(path)`.
    mutating func parseOperand() throws(EddyError) -> Operand {
        let token = current
        switch token.kind {
        case .valuePlaceholder:
            advance()
            return .placeholder(text(token))
        case .namePlaceholder:
            return .path(try parsePath())
        case .identifier:
            guard peek().kind == .leftParen else { return .path(try parsePath()) }
            let function = try parseFunctionName()
            switch function {
            case .size:
                var arguments = [try parseOperand()]
                while current.kind == .comma {
                    advance()
                    arguments.append(try parseOperand())
                }
                try expect(.rightParen)
                guard arguments.count == 1 else { throw arityError(function, arguments.count) }
                guard case .path(let path) = arguments[0] else { throw pathRequired(function) }
                return .size(path)
            case .ifNotExists, .listAppend:
                throw fail("The function is not allowed in a condition expression; function: \(function.rawValue)")
            default:
                throw fail("The function is not allowed to be used this way in an expression; function: \(function.rawValue)")
            }
        default:
            throw syntaxError()
        }
    }

    // MARK: Updates

    enum Clause: Int {
        case set, remove, add, delete
        var name: String {
            switch self {
            case .set: "SET"
            case .remove: "REMOVE"
            case .add: "ADD"
            case .delete: "DELETE"
            }
        }
    }

    private func clause(_ token: Token) -> Clause? {
        if isWord(token, "set") { return .set }
        if isWord(token, "remove") { return .remove }
        if isWord(token, "add") { return .add }
        if isWord(token, "delete") { return .delete }
        return nil
    }

    mutating func parseUpdateClauses() throws(EddyError) -> UpdateNode {
        var node = UpdateNode()
        var seen: [Bool] = [false, false, false, false]
        repeat {
            guard let clause = clause(current) else { throw syntaxError() }
            guard !seen[clause.rawValue] else {
                throw fail("The \"\(clause.name)\" section can only be used once in an update expression;")
            }
            seen[clause.rawValue] = true
            advance()
            var first = true
            repeat {
                if !first { advance() }
                first = false
                let path = try parsePath()
                switch clause {
                case .set:
                    try expect(.equal)
                    node.set.append((path, try parseSetValue()))
                case .remove:
                    node.remove.append(path)
                case .add, .delete:
                    guard current.kind == .valuePlaceholder else { throw syntaxError() }
                    let value = Operand.placeholder(text(current))
                    advance()
                    if clause == .add {
                        node.add.append((path, value))
                    } else {
                        node.delete.append((path, value))
                    }
                }
            } while current.kind == .comma
        } while current.kind != .end
        guard operatorCount <= Limits.updateExpressionOperatorsMax else {
            throw fail("The expression contains too many operators; operator count: \(operatorCount)")
        }
        return node
    }

    /// `operand`, `operand + operand` or `operand - operand`.
    mutating func parseSetValue() throws(EddyError) -> SetValue {
        let left = try parseSetOperand()
        switch current.kind {
        case .plus:
            advance()
            operatorCount += 1
            return .plus(left, try parseSetOperand())
        case .minus:
            advance()
            operatorCount += 1
            return .minus(left, try parseSetOperand())
        default:
            return left
        }
    }

    /// A path, a `:value`, `if_not_exists(path, operand)`, `list_append(operand, operand)`, or a value in
    /// parentheses.
    mutating func parseSetOperand() throws(EddyError) -> SetValue {
        let token = current
        switch token.kind {
        case .leftParen:
            let open = position
            advance()
            let value = try parseSetValue()
            try closeGroup(openedAt: open)
            return value
        case .valuePlaceholder:
            advance()
            return .operand(.placeholder(text(token)))
        case .namePlaceholder:
            return .operand(.path(try parsePath()))
        case .identifier:
            guard peek().kind == .leftParen else { return .operand(.path(try parsePath())) }
            let function = try parseFunctionName()
            guard function == .ifNotExists || function == .listAppend else {
                throw fail("The function is not allowed in an update expression; function: \(function.rawValue)")
            }
            operatorCount += 1
            var arguments = [try parseSetOperand()]
            while current.kind == .comma {
                advance()
                arguments.append(try parseSetOperand())
            }
            try expect(.rightParen)
            guard arguments.count == 2 else { throw arityError(function, arguments.count) }
            if function == .listAppend { return .listAppend(arguments[0], arguments[1]) }
            guard case .operand(.path(let path)) = arguments[0] else { throw pathRequired(function) }
            return .ifNotExists(path, arguments[1])
        default:
            throw syntaxError()
        }
    }
}
