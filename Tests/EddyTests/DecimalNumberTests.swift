import ChildProcessSupport
import Foundation
import PropertyBased
import Testing

@testable import Eddy

// The expected messages are DynamoDB's, written out here rather than read from the implementation
// so that a changed message fails.
private let tooManyDigits = "Attempting to store more than 38 significant digits in a Number"
private let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range"
private let underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
private func notNumeric(_ text: String) -> String { "The parameter cannot be converted to a numeric value: \(text)" }

private let largest = "9.9999999999999999999999999999999999999E+125"
private let largestPlain = String(repeating: "9", count: 38) + String(repeating: "0", count: 88)
private let smallestPlain = "0." + String(repeating: "0", count: 129) + "1"

private func message(_ body: () throws(EddyError) -> DecimalNumber) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.message
    }
}

@Suite(.timeLimit(.minutes(3))) struct DecimalNumberTests {
    // MARK: Parsing

    /// Spellings of one number and the canonical text Eddy returns for them. The AWS Developer Guide
    /// ("Data types", Number) says leading and trailing zeros are trimmed; the rest follows from decimal
    /// arithmetic.
    private static let spellings: [(String, String)] = [
        ("0", "0"), ("-0", "0"), ("+0", "0"), ("000", "0"), ("0.000", "0"), ("-0.00", "0"), ("0e7", "0"),
        ("0.0e2", "0"), ("0e-9", "0"), ("0e125", "0"), ("0e-130", "0"), (".0", "0"), ("0.", "0"),
        ("1", "1"), ("1.0", "1"), ("01", "1"), ("1E0", "1"), ("10E-1", "1"), ("+1", "1"), ("1.", "1"),
        ("1e-0", "1"), ("1E+0", "1"), ("0.01e2", "1"), ("1000e-3", "1"),
        ("8.", "8"), (".25", "0.25"), ("+.75", "0.75"), ("-.125", "-0.125"), ("0009", "9"), ("002.50", "2.5"),
        ("4.40", "4.4"), ("200.00", "200"), ("0.30", "0.3"), ("600", "600"), ("7000", "7000"),
        ("2e3", "2000"), ("2E3", "2000"), ("2e+3", "2000"), ("2E+3", "2000"), ("6e1", "60"), ("-4e2", "-400"),
        ("2.5e2", "250"), ("4.56e4", "45600"), ("3e-3", "0.003"), ("7e-1", "0.7"), ("456e-2", "4.56"),
        ("4.56e-1", "0.456"), ("2.0e3", "2000"), ("3.00e2", "300"), ("5.0e-1", "0.5"), ("+2e2", "200"),
        ("1e21", "1000000000000000000000"), ("8.8e9", "8800000000"), ("1e-19", "0.0000000000000000001"),
        ("2.71828", "2.71828"), ("-40.5", "-40.5"), ("0.002", "0.002"), ("0031.4100", "31.41"),
        ("-6.0221", "-6.0221"), ("-23e4", "-230000"), ("-6.02E23", "-602" + String(repeating: "0", count: 21)),
        ("2e004", "20000"), ("3e000000000000000000000000000002", "300"), ("-75e-4", "-0.0075"),
        ("64.2500", "64.25"), ("+002.250e2", "225"),
    ]

    @Test(arguments: spellings)
    func parsesAndNormalises(input: String, canonical: String) throws {
        let number = try DecimalNumber(input)
        #expect(number.description == canonical)
        #expect(try DecimalNumber(canonical) == number)
    }

    @Test(arguments: [
        ("100", false, UInt128(1), 2, [UInt8(1)]),
        ("-0.0250", true, 25, -3, [2, 5]),
        ("12.500", false, 125, -1, [1, 2, 5]),
        ("-0", false, 0, 0, []),
        ("0e-100", false, 0, 0, []),
        ("1E-130", false, 1, -130, [1]),
        ("1e125", false, 1, 125, [1]),
        ("100.001", false, 100_001, -3, [1, 0, 0, 0, 0, 1]),
    ])
    func exposesNormalisedParts(
        input: String, isNegative: Bool, coefficient: UInt128, exponent: Int, digits: [UInt8]
    ) throws {
        let number = try DecimalNumber(input)
        #expect(number.isNegative == isNegative)
        #expect(number.coefficient == coefficient)
        #expect(number.exponent == exponent)
        #expect(number.significantDigits == digits)
        #expect(number.isZero == (coefficient == 0))
    }

    @Test(arguments: [
        "abc", "", " 1", "1 ", " ", "0x10", "1e", "NaN", "Infinity", "-Infinity", "-NaN", "inf", "dog", "-dog",
        "1.2.3", "+e2", "1+2", "+1+2", "++5", "--1", "+-1", "-+1", ".", "-", "+", "e5", ".e1", "-.e1", "1e+",
        "1e-", "1e1.5", "1ee1", "1e1e1", "1e--1", "1_000", "1,5", "0b1", "1d", "1f", "\t1", "1\n", "\u{661}",
        "\u{FF11}", "1e9223372036854775808", "-1e9223372036854775808", "1e-9223372036854775809",
        "1e99999999999999999999", "0e99999999999999999999",
    ])
    func refusesWhatIsNotANumber(input: String) {
        #expect(message { () throws(EddyError) in try DecimalNumber(input) } == notNumeric(input))
    }

    /// Spellings DynamoDB refuses and its message. Syntax is checked before the digit limit, the
    /// digit limit before the range; an exponent counts only if it fits in 64 bits, and zero is
    /// checked against the largest exponent by the exponent it is written with.
    private static let refusals: [(String, String)] = [
        ("1234567890123456789012345678901234567890x", notNumeric("1234567890123456789012345678901234567890x")),
        ("123456789012345678901234567890123456789", tooManyDigits),
        ("-1.23456789012345678901234567890123456789", tooManyDigits),
        ("3.14159265358979323846264338327950288419", tooManyDigits),
        ("314159265358979323846.264338327950288419", tooManyDigits),
        ("314159265358979323846264338327950288419e30", tooManyDigits),
        ("1000000000000000000000000000000000000001", tooManyDigits),
        ("0.000123456789012345678901234567890123456789", tooManyDigits),
        ("9.99999999999999999999999999999999999999E+125", tooManyDigits),
        ("123456789012345678901234567890123456789e200", tooManyDigits),
        ("1e126", overflow), ("-1e126", overflow), ("11e125", overflow), ("10e125", overflow),
        ("1E+126", overflow), ("0.1e127", overflow), ("1e99999999999", overflow), ("-1e99999999999", overflow),
        ("1e2147483648", overflow), ("1e2147483647", overflow), ("1e9223372036854775807", overflow),
        ("100e9223372036854775807", overflow), ("0e126", overflow), ("-0e126", overflow), ("00e126", overflow),
        ("1" + String(repeating: "0", count: 126), overflow),
        ("1e-131", underflow), ("-1e-131", underflow), ("0.9e-130", underflow), ("0.01e-129", underflow),
        ("9.9999999999999999999999999999999999999E-131", underflow), ("1e-99999999999", underflow),
        ("1e-2147483648", underflow), ("1e-9223372036854775808", underflow),
        ("0.001e-9223372036854775808", underflow),
    ]

    @Test(arguments: refusals)
    func refusesWithDynamoDBsMessage(input: String, expected: String) {
        #expect(message { () throws(EddyError) in try DecimalNumber(input) } == expected)
    }

    /// The extremes of the range and of the precision, which must be accepted.
    private static let limits: [(String, String)] = [
        ("1E-130", smallestPlain), ("-1E-130", "-" + smallestPlain), ("0.1e-129", smallestPlain),
        (largest, largestPlain), ("-" + largest, "-" + largestPlain), (largestPlain, largestPlain),
        ("1e125", "1" + String(repeating: "0", count: 125)),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("3.1415926535897932384626433832795028841", "3.1415926535897932384626433832795028841"),
        ("314159265358979323846.26433832795028841", "314159265358979323846.26433832795028841"),
        (
            "31415926535897932384626433832795028841e30",
            "31415926535897932384626433832795028841" + String(repeating: "0", count: 30)
        ),
        ("00012345678901234567890123456789012345678000", "12345678901234567890123456789012345678000"),
    ]

    @Test(arguments: limits)
    func acceptsTheLimitsExactly(input: String, canonical: String) throws {
        #expect(try DecimalNumber(input).description == canonical)
    }

    /// A zero with an exponent however negative is zero, as DynamoDB reads it: only a non-zero number
    /// underflows (issue 21).
    @Test(arguments: [
        "0e-131", "0.0e-130", "0E-200", "0.0e-1000", "-0e-9223372036854775808", "00.000E-9223372036854775807",
        "0." + String(repeating: "0", count: 131), ".0e-500",
    ])
    func acceptsZeroWithAnyNegativeExponent(input: String) throws {
        let number = try DecimalNumber(input)
        #expect(number.isZero)
        #expect(number.description == "0")
    }

    // MARK: Other initialisers

    @Test(arguments: [0, 1, -1, 7, 10, 1200, -1200, 1_000_000, Int.max, Int.min])
    func convertsIntegersExactly(value: Int) throws {
        let number = DecimalNumber(value)
        #expect(number.description == String(value))
        #expect(try DecimalNumber(String(value)) == number)
    }

    @Test(arguments: [
        (true, 12_500, -4, "-1.25"),
        (false, 0, 999, "0"),
        (true, 0, -5, "0"),
        (false, 99_999_999_999_999_999_999_999_999_999_999_999_999, 88, largestPlain),
        (false, 1, -130, smallestPlain),
        (false, 100_000_000_000_000_000_000_000_000_000_000_000_000, -39, "0.1"),
        (true, 42, 0, "-42"),
    ] as [(Bool, UInt128, Int, String)])
    func buildsFromParts(isNegative: Bool, coefficient: UInt128, exponent: Int, canonical: String) throws {
        let number = try DecimalNumber(isNegative: isNegative, coefficient: coefficient, exponent: exponent)
        #expect(number.description == canonical)
        #expect(number == (try DecimalNumber(canonical)))
    }

    @Test(arguments: [
        (.max, 0, tooManyDigits),
        (100_000_000_000_000_000_000_000_000_000_000_000_000, 88, overflow),
        (1000, 123, overflow),
        (10, Int.max, overflow),
        (1, -131, underflow),
        (1, Int.min, underflow),
    ] as [(UInt128, Int, String)])
    func refusesPartsOutOfLimits(coefficient: UInt128, exponent: Int, expected: String) {
        #expect(
            message { () throws(EddyError) in
                try DecimalNumber(isNegative: false, coefficient: coefficient, exponent: exponent)
            } == expected)
    }

    // MARK: Equality, hashing and order

    @Test func everySpellingOfANumberIsTheSameValue() throws {
        let spellings = ["1", "1.0", "01", "1E0", "10E-1", "+1", "0.1e1", "1.", "100e-2", "0001.000e+0"]
        let numbers = try spellings.map { try DecimalNumber($0) }
        #expect(Set(numbers).count == 1)
        #expect(Set(numbers.map(\.description)) == ["1"])
        #expect(Set(numbers.map(\.hashValue)).count == 1)
        #expect(numbers.allSatisfy { $0 == DecimalNumber(1) })
    }

    @Test func ordersNumerically() throws {
        let ascending = try [
            "-" + largest, "-1e100", "-10", "-9.5", "-1.0000000000000000000000000000000000001", "-1", "-0.5",
            "-1E-130", "0", "1E-130", "0.001", "0.5", "1", "1.0000000000000000000000000000000000001", "2", "9.5",
            "10", "99", "100", "1e100", largest,
        ].map { try DecimalNumber($0) }
        for (i, low) in ascending.enumerated() {
            for high in ascending[(i + 1)...] {
                #expect(low < high, "\(low) < \(high)")
                #expect(!(high < low), "!(\(high) < \(low))")
                #expect(low != high)
            }
            #expect(!(low < low))
        }
        #expect(ascending.shuffled().sorted() == ascending)
    }

    @Test func negatesAroundZero() throws {
        #expect(try DecimalNumber("2.5").negated.description == "-2.5")
        #expect(try DecimalNumber("-2.5").negated.description == "2.5")
        #expect(DecimalNumber(0).negated == DecimalNumber(0))
        #expect(!DecimalNumber(0).negated.isNegative)
    }

    // MARK: Arithmetic

    /// `lhs + rhs`, with the expected text or DynamoDB's message.
    private static let sums: [(String, String, String)] = [
        ("1", "10000000000000000000000", "10000000000000000000001"),
        ("0.1", "0.2", "0.3"),
        ("5", "-5", "0"),
        ("0", "-3.5", "-3.5"),
        ("-3.5", "0", "-3.5"),
        ("-2", "0.5", "-1.5"),
        ("1e-130", "-1e-130", "0"),
        ("9e125", "9e124", "99" + String(repeating: "0", count: 124)),
        ("1E+100", "1E+99", "11" + String(repeating: "0", count: 99)),
        ("99999999999999999999999999999999999999", "1", "1" + String(repeating: "0", count: 38)),
        // Aligned, the operands need 39 digits; the exact sum needs one.
        ("1e38", "-99999999999999999999999999999999999999", "1"),
        ("-1e38", "99999999999999999999999999999999999999", "-1"),
        ("1e38", "-1", "99999999999999999999999999999999999999"),
        ("1e38", "1", overflow),
        ("1e125", "-99999999999999999999999999999999999999e87", "1" + String(repeating: "0", count: 87)),
        ("1e-92", "-9999999999999999999999999999999999999e-129", "0." + String(repeating: "0", count: 128) + "1"),
        // DynamoDB reports an exact sum beyond 38 digits as an overflow, whichever end is lost.
        ("1e50", "1", overflow),
        ("1e50", "-1", overflow),
        ("1", "1e-50", overflow),
        ("1E+100", "1E-100", overflow),
        ("99999999999999999999999999999999999999", "2", overflow),
        ("12345678901234567890123456789012345678", "0.1", overflow),
        ("9e125", "9e125", overflow),
        ("-9e125", "-9e125", overflow),
        (largest, "1E+125", overflow),
        ("1.5e-130", "-1.4e-130", underflow),
        ("-1.5e-130", "1.4e-130", underflow),
        ("1.0000000000000000000000000000000000001e-130", "-1e-130", underflow),
    ]

    @Test(arguments: sums)
    func addsExactly(lhs: String, rhs: String, expected: String) throws {
        let a = try DecimalNumber(lhs)
        let b = try DecimalNumber(rhs)
        for (x, y) in [(a, b), (b, a)] {
            let got: String
            do {
                got = try x.adding(y).description
            } catch {
                got = error.message
            }
            #expect(got == expected, "\(x) + \(y)")
        }
    }

    /// `lhs - rhs`, with the expected text or DynamoDB's message.
    private static let differences: [(String, String, String)] = [
        ("10000000000000000000000", "1", "9999999999999999999999"),
        ("10", "0.01", "9.99"),
        ("-1", "-1", "0"),
        ("1e-130", "2e-130", "-" + smallestPlain),
        ("1e50", "1", overflow),
        ("9e125", "-9e125", overflow),
    ]

    @Test(arguments: differences)
    func subtractsExactly(lhs: String, rhs: String, expected: String) throws {
        let got: String
        do {
            got = try DecimalNumber(lhs).subtracting(DecimalNumber(rhs)).description
        } catch {
            got = error.message
        }
        #expect(got == expected)
    }

    // MARK: Properties

    @Test func descriptionRoundTrips() async {
        await propertyCheck(
            count: 1000, input: Gen.bool, Gen.uint128(in: 0...99_999_999_999_999_999_999_999_999_999_999_999_999),
            Gen.int(in: -175...135)
        ) { negative, coefficient, exponent in
            let built = try? DecimalNumber(isNegative: negative, coefficient: coefficient, exponent: exponent)
            if coefficient != 0 {
                // The scientific spelling and the parts must agree on validity and value.
                let scientific = (negative ? "-" : "") + "\(coefficient)e\(exponent)"
                #expect(built == (try? DecimalNumber(scientific)), "\(scientific)")
            }
            guard let built else { return }
            let reparsed = try DecimalNumber(built.description)
            #expect(reparsed == built)
            #expect(reparsed.description == built.description)
            #expect(reparsed.hashValue == built.hashValue)
        }
    }

    /// Parsing, normalising, ordering and adding thousands of generated spellings, checked against
    /// Python's `decimal` module with DynamoDB's rules written out independently in Python.
    @Test func agreesWithPythonDecimal() throws {
        let seed = ProcessInfo.processInfo.environment["DECIMAL_NUMBER_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: .min ... .max)
        var rng = SplitMix64(seed: seed)
        let inputs = NumberSpellings.pairs(2000, using: &rng).flatMap { [$0.0, $0.1] }
        let reference = try runPythonReference(inputs)
        try #require(reference.count == 2 * inputs.count - 1, "the reference printed \(reference.count) lines")

        var mismatches: [String] = []
        var parsed: [DecimalNumber?] = []
        for (index, input) in inputs.enumerated() {
            var got: String
            do {
                let number = try DecimalNumber(input)
                parsed.append(number)
                got = Self.parts(number) + " " + number.description
            } catch {
                parsed.append(nil)
                got = Self.kind(of: error)
            }
            if got != reference[index] {
                mismatches.append("parse \(input.debugDescription): \(got) ≠ \(reference[index])")
            }
        }
        for index in inputs.indices.dropLast() {
            let expected = reference[inputs.count + index]
            guard let a = parsed[index], let b = parsed[index + 1] else {
                if expected != "-" { mismatches.append("pair \(index): reference evaluated \(expected)") }
                continue
            }
            let order = a < b ? "-1" : (b < a ? "1" : "0")
            if (order == "0") != (a == b) { mismatches.append("\(a) vs \(b): < says \(order), == says \(a == b)") }
            if a == b, a.hashValue != b.hashValue { mismatches.append("\(a) and \(b) hash differently") }
            let sum: String
            do {
                sum = Self.parts(try a.adding(b))
            } catch {
                sum = Self.kind(of: error)
            }
            let got = order + " " + sum
            if got != expected { mismatches.append("\(a) ? \(b): \(got) ≠ \(expected)") }
        }
        // Every kind of outcome must have been exercised, or the generator has drifted.
        var outcomes: [String: Int] = [:]
        for line in reference[..<inputs.count] {
            outcomes["parse " + (line.first == "+" || line.first == "-" ? "value" : line), default: 0] += 1
        }
        for line in reference[inputs.count...] where line != "-" {
            let fields = line.split(separator: " ")
            outcomes["order " + fields[0], default: 0] += 1
            outcomes["sum " + (fields.count > 2 ? "value" : fields[1]), default: 0] += 1
        }
        let expectedOutcomes = [
            "parse value", "parse 0 0", "parse invalid", "parse digits", "parse overflow", "parse underflow",
            "order -1", "order 0", "order 1", "sum value", "sum 0", "sum overflow", "sum underflow",
        ]
        #expect(expectedOutcomes.allSatisfy { outcomes[$0, default: 0] >= 10 }, "outcomes: \(outcomes)")
        #expect(
            mismatches.isEmpty,
            """
            DECIMAL_NUMBER_SEED=\(seed) replays these \(mismatches.count) mismatches, the first:
            \(mismatches.prefix(20).joined(separator: "\n"))
            """)
    }

    /// The reference's form of a value: `0`, or sign, significant digits and exponent.
    private static func parts(_ number: DecimalNumber) -> String {
        if number.isZero { return "0" }
        let digits = number.significantDigits.map { String($0) }.joined()
        return "\(number.isNegative ? "-" : "+") \(digits) \(number.exponent)"
    }

    private static func kind(of error: EddyError) -> String {
        switch error.message {
        case tooManyDigits: "digits"
        case overflow: "overflow"
        case underflow: "underflow"
        case let text where text.hasPrefix(notNumeric("")): "invalid"
        default: "unexpected: \(error.message)"
        }
    }
}

// MARK: - The Python reference

/// DynamoDB's number rules over Python's arbitrary-precision `decimal`. Reads one spelling a line;
/// prints, for each, `invalid`, `digits`, `overflow`, `underflow`, or the normalised value as
/// `0 0` / `sign digits exponent text`; then for each consecutive pair of valid numbers the
/// comparison (-1, 0, 1) and the exact sum classified as a result of arithmetic, else `-`.
private let pythonReference = #"""
    import re, sys
    from decimal import Decimal, getcontext

    ctx = getcontext()
    ctx.prec = 400
    ctx.Emax = 10**6
    ctx.Emin = -10**6
    SYNTAX = re.compile(r'([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?')

    def parse(text):
        m = SYNTAX.fullmatch(text)
        if m is None:
            return 'invalid', None
        sign, whole, frac_a, frac_b, written = m.groups()
        whole = whole or ''
        frac = frac_a if frac_a is not None else (frac_b or '')
        e = int(written) if written is not None else 0
        if not -2**63 <= e < 2**63:
            return 'invalid', None
        digits = whole + frac
        core = digits.lstrip('0')
        if core == '':
            lead = e - len(frac)
            if lead > 125:
                return 'overflow', None
            return '0 0', Decimal(0)
        sig = core.rstrip('0')
        if len(sig) > 38:
            return 'digits', None
        lead = e + len(whole) - (len(digits) - len(core)) - 1
        if lead > 125:
            return 'overflow', None
        if lead < -130:
            return 'underflow', None
        exp = lead - (len(sig) - 1)
        value = Decimal(('-' if sign == '-' else '') + sig + 'E' + str(exp))
        return '%s %s %d %s' % ('-' if sign == '-' else '+', sig, exp, format(value, 'f')), value

    def arithmetic(value):
        if value == 0:
            return '0'
        sign, digits, exp = value.as_tuple()
        text = ''.join(map(str, digits))
        sig = text.rstrip('0')
        exp += len(text) - len(sig)
        lead = exp + len(sig) - 1
        if lead > 125 or len(sig) > 38:
            return 'overflow'
        if lead < -130:
            return 'underflow'
        return '%s %s %d' % ('-' if sign else '+', sig, exp)

    lines = sys.stdin.read().split('\n')[:-1]
    results = [parse(line) for line in lines]
    out = [kind for kind, _ in results]
    for (_, a), (_, b) in zip(results, results[1:]):
        if a is not None and b is not None:
            out.append('%d %s' % ((a > b) - (a < b), arithmetic(a + b)))
        else:
            out.append('-')
    sys.stdout.write('\n'.join(out) + '\n')
    """#

private func runPythonReference(_ inputs: [String]) throws -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", pythonReference]
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONIOENCODING"] = "utf-8"
    environment["PYTHONUTF8"] = "1"
    process.environment = environment
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    // Python reads all of its input before it writes, so writing first cannot deadlock.
    try input.fileHandleForWriting.write(contentsOf: Data(inputs.map { $0 + "\n" }.joined().utf8))
    try input.fileHandleForWriting.close()
    let data = try output.fileHandleForReading.readToEnd() ?? Data()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "python3 failed with status \(process.terminationStatus)")
    return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        .dropLast().map(String.init)
}

// MARK: - Generated spellings

/// Random spellings of numbers around DynamoDB's limits, in pairs chosen to stress order and sums.
private enum NumberSpellings {
    /// A number before it is spelt: significant digits (no leading or trailing zero), the power of
    /// ten of the first one, and the sign.
    struct Value {
        var digits: String
        var leading: Int
        var negative: Bool
    }

    static func pairs(_ count: Int, using rng: inout SplitMix64) -> [(String, String)] {
        (0..<count).map { _ in
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 8 { return (malformed(using: &rng), spell(value(using: &rng), using: &rng)) }
            if roll < 14 { return (zero(using: &rng), spell(value(using: &rng), using: &rng)) }
            if roll < 22 {
                // 10^t against -(10^t - 10^(t-n)): far apart when aligned, a single digit when summed.
                let length = Int.random(in: 34...40, using: &rng)
                let top = Int.random(in: -95...125, using: &rng)
                let sign = Bool.random(using: &rng)
                let power = Value(digits: "1", leading: top, negative: sign)
                let nines = Value(digits: String(repeating: "9", count: length), leading: top - 1, negative: !sign)
                return (spell(power, using: &rng), spell(nines, using: &rng))
            }
            let first = value(using: &rng)
            var second = value(using: &rng)
            switch roll {
            case ..<36: second = first
            case ..<44: second = Value(digits: first.digits, leading: first.leading, negative: !first.negative)
            case ..<56:
                // A near twin of the opposite sign: the sum cancels down to the last digits, and
                // near 1E-130 below the range.
                var digits = Array(first.digits)
                digits[digits.count - 1] = Character(String(Int.random(in: 1...9, using: &rng)))
                if Bool.random(using: &rng) { digits.append(contentsOf: "0\(Int.random(in: 1...9, using: &rng))") }
                second = Value(digits: String(digits), leading: first.leading, negative: !first.negative)
            case ..<68:
                // Same leading place: the order depends on the digits.
                second.leading = first.leading
                if Bool.random(using: &rng) { second.negative = first.negative }
            case ..<85:
                // Scales a little apart: some sums align in 128 bits, some only digit by digit.
                second.leading = first.leading - Int.random(in: -45...45, using: &rng)
                second.negative = Bool.random(using: &rng) ? first.negative : !first.negative
            default: break
            }
            return (spell(first, using: &rng), spell(second, using: &rng))
        }
    }

    static func value(using rng: inout SplitMix64) -> Value {
        let length: Int
        switch Int.random(in: 0..<10, using: &rng) {
        case ..<4: length = Int.random(in: 1...6, using: &rng)
        case ..<7: length = Int.random(in: 35...38, using: &rng)
        case ..<8: length = Int.random(in: 39...41, using: &rng)
        default: length = Int.random(in: 1...45, using: &rng)
        }
        var digits = ""
        for position in 0..<length {
            let edge = position == 0 || position == length - 1
            // Inner zeros are common, so some spellings have long runs that are still significant.
            let digit =
                edge
                ? Int.random(in: 1...9, using: &rng)
                : (Bool.random(using: &rng) ? 0 : Int.random(in: 0...9, using: &rng))
            digits.append(Character(String(digit)))
        }
        let leading: Int
        switch Int.random(in: 0..<10, using: &rng) {
        case ..<3: leading = Int.random(in: -5...5, using: &rng)
        case ..<5: leading = Int.random(in: 120...126, using: &rng)
        case ..<7: leading = Int.random(in: -131 ... -125, using: &rng)
        default: leading = Int.random(in: -135...130, using: &rng)
        }
        return Value(digits: digits, leading: leading, negative: Bool.random(using: &rng))
    }

    /// Writes a value with random leading zeros, trailing zeros, point position and exponent.
    static func spell(_ value: Value, using rng: inout SplitMix64) -> String {
        let leadingZeros = Int.random(in: 0...3, using: &rng)
        let trailingZeros = Int.random(in: 0...4, using: &rng)
        let written =
            String(repeating: "0", count: leadingZeros) + value.digits + String(repeating: "0", count: trailingZeros)
        var significand = written
        var integerDigits = written.count
        if Int.random(in: 0..<10, using: &rng) >= 3 {
            integerDigits = Int.random(in: 0...written.count, using: &rng)
            significand.insert(".", at: significand.index(significand.startIndex, offsetBy: integerDigits))
        }
        let exponent = value.leading - (integerDigits - leadingZeros - 1)
        let sign = value.negative ? "-" : (Int.random(in: 0..<5, using: &rng) == 0 ? "+" : "")
        if exponent == 0, Bool.random(using: &rng) { return sign + significand }
        let marker = Bool.random(using: &rng) ? "e" : "E"
        let exponentSign = exponent < 0 ? "-" : (Bool.random(using: &rng) ? "+" : "")
        let padding = Int.random(in: 0..<6, using: &rng) == 0 ? "00" : ""
        return sign + significand + marker + exponentSign + padding + String(exponent.magnitude)
    }

    static func zero(using rng: inout SplitMix64) -> String {
        let whole = String(repeating: "0", count: Int.random(in: 0...2, using: &rng))
        let fraction = String(repeating: "0", count: Int.random(in: 0...3, using: &rng))
        var text = (Bool.random(using: &rng) ? "-" : "") + (whole.isEmpty && fraction.isEmpty ? "0" : whole)
        if !fraction.isEmpty || whole.isEmpty { text += "." + (fraction.isEmpty ? "0" : fraction) }
        if Bool.random(using: &rng) { text += "e\(Int.random(in: -134...129, using: &rng))" }
        return text
    }

    static func malformed(using rng: inout SplitMix64) -> String {
        let templates = [
            "", ".", "-", "+", "e5", "1e", "1e+", "--1", "+-1", " 1", "1 ", "0x10", "NaN", "Infinity", "1.2.3",
            "1e9223372036854775807", "1e9223372036854775808", "-1e-9223372036854775808", "1e-9223372036854775809",
            "1e99999999999", "0e99999999999", "\u{661}", "1_0",
        ]
        if Bool.random(using: &rng) { return templates[Int.random(in: 0..<templates.count, using: &rng)] }
        // Damage a valid spelling with a character that may or may not belong there.
        var text = spell(value(using: &rng), using: &rng)
        let inserts: [Character] = [" ", ".", "e", "E", "+", "-", "x", "_", "0"]
        let at = text.index(text.startIndex, offsetBy: Int.random(in: 0...text.count, using: &rng))
        text.insert(inserts[Int.random(in: 0..<inserts.count, using: &rng)], at: at)
        return text
    }
}
