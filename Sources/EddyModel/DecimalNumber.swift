/// DynamoDB's Number: an exact decimal of up to 38 significant digits, never binary floating point.
///
/// Positive values range from 1E-130 to 9.9999999999999999999999999999999999999E+125, negative
/// values mirror them, and zero is a value of its own. Leading and trailing zeros are not
/// significant, so every way of writing a number gives the same value, the same hash and the same
/// ``description``:
///
/// ```swift
/// let a = try DecimalNumber("+001.500e2")
/// let b = DecimalNumber(150)
/// print(a == b, a.description) // true 150
/// ```
///
/// A value is kept normalised as `±coefficient × 10^exponent` with no trailing zeros in the
/// coefficient, which is why `==` and `hash(into:)` are numeric.
public struct DecimalNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whether the number is below zero; `false` for zero.
    ///
    /// ```swift
    /// try DecimalNumber("-0").isNegative // false
    /// ```
    public let isNegative: Bool

    /// The significant digits as an integer, without trailing zeros; `0` for zero.
    ///
    /// ```swift
    /// try DecimalNumber("12.500").coefficient // 125
    /// ```
    public let coefficient: UInt128

    /// The power of ten the ``coefficient`` is scaled by; `0` for zero.
    ///
    /// ```swift
    /// try DecimalNumber("12.500").exponent // -1
    /// ```
    public let exponent: Int

    private init(unchecked isNegative: Bool, coefficient: UInt128, exponent: Int) {
        self.isNegative = isNegative
        self.coefficient = coefficient
        self.exponent = exponent
    }

    private static let zero = DecimalNumber(unchecked: false, coefficient: 0, exponent: 0)

    /// Whether the number is zero.
    ///
    /// ```swift
    /// try DecimalNumber("0.000").isZero // true
    /// ```
    public var isZero: Bool { coefficient == 0 }

    /// How many significant digits the number has (1 to 38); `0` for zero.
    ///
    /// ```swift
    /// try DecimalNumber("-0.0250").significantDigitCount // 2
    /// ```
    public var significantDigitCount: Int {
        coefficient == 0 ? 0 : Self.digitCount(coefficient)
    }

    /// The decimal digits of ``coefficient`` as values `0...9`, most significant first; empty for zero.
    ///
    /// ```swift
    /// try DecimalNumber("-0.0250").significantDigits // [2, 5]
    /// ```
    public var significantDigits: [UInt8] {
        let count = significantDigitCount
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            Self.writeDigits(of: coefficient, count: count, into: buffer, at: 0, zero: 0)
            initialized = count
        }
    }

    /// The canonical text: plain notation without an exponent, as DynamoDB returns numbers.
    ///
    /// Equal numbers give equal text, and the text parses back to the same number.
    ///
    /// ```swift
    /// try DecimalNumber("1E2").description     // "100"
    /// try DecimalNumber("-25e-4").description  // "-0.0025"
    /// ```
    public var description: String {
        guard coefficient != 0 else { return "0" }
        let digits = Self.digitCount(coefficient)
        let sign = isNegative ? 1 : 0
        // Where the decimal point falls, counted in digits from the left of the coefficient.
        let point = digits + exponent
        let length: Int
        if exponent >= 0 {
            length = sign + point
        } else if point > 0 {
            length = sign + digits + 1
        } else {
            length = sign + 2 - point + digits
        }
        return String(unsafeUninitializedCapacity: length) { buffer in
            if isNegative { buffer[0] = UInt8(ascii: "-") }
            if exponent >= 0 {
                Self.writeDigits(of: coefficient, count: digits, into: buffer, at: sign, zero: UInt8(ascii: "0"))
                for index in (sign + digits)..<length { buffer[index] = UInt8(ascii: "0") }
            } else if point > 0 {
                Self.writeDigits(of: coefficient, count: digits, into: buffer, at: sign, zero: UInt8(ascii: "0"))
                // Shift the fraction right by one to open a slot for the point.
                var index = length - 1
                while index > sign + point {
                    buffer[index] = buffer[index - 1]
                    index -= 1
                }
                buffer[sign + point] = UInt8(ascii: ".")
            } else {
                buffer[sign] = UInt8(ascii: "0")
                buffer[sign + 1] = UInt8(ascii: ".")
                for index in (sign + 2)..<(sign + 2 - point) { buffer[index] = UInt8(ascii: "0") }
                Self.writeDigits(
                    of: coefficient, count: digits, into: buffer, at: sign + 2 - point, zero: UInt8(ascii: "0"))
            }
            return length
        }
    }

    /// The number with the opposite sign; zero stays zero.
    ///
    /// ```swift
    /// try DecimalNumber("2.5").negated.description // "-2.5"
    /// ```
    public var negated: DecimalNumber {
        coefficient == 0 ? self : DecimalNumber(unchecked: !isNegative, coefficient: coefficient, exponent: exponent)
    }
}

// MARK: - Limits and messages

extension DecimalNumber {
    private static let maximumDigits = 38
    /// The power of ten of the leading digit of the largest magnitude, 9.99…E+125.
    private static let maximumLeadingExponent = 125
    /// The power of ten of the leading digit of the smallest non-zero magnitude, 1E-130.
    private static let minimumLeadingExponent = -130

    // DynamoDB's own wording, as its current validation layer answers PutItem, UpdateItem and GetItem.
    private static let tooManyDigits = EddyError.validation(
        "Attempting to store more than 38 significant digits in a Number")
    private static let overflow = EddyError.validation(
        "Number overflow. Attempting to store a number with magnitude larger than supported range")
    private static let underflow = EddyError.validation(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range")

    private static func notNumeric(_ text: String) -> EddyError {
        .validation("The parameter cannot be converted to a numeric value: \(text)")
    }

    /// `10^0 … 10^38`; `10^38` still fits, as `UInt128.max` is about 3.4 × 10^38.
    private static let powersOfTen: [UInt128] = {
        var powers: [UInt128] = [1]
        for _ in 1...38 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    /// The number of decimal digits of a non-zero value, from its bit length.
    private static func digitCount(_ value: UInt128) -> Int {
        // 1233 / 4096 approximates log10(2) from below, so the estimate is exact or one short.
        let estimate = ((128 - value.leadingZeroBitCount) * 1233) >> 12
        return value >= powersOfTen[estimate] ? estimate + 1 : estimate
    }

    /// Writes the `count` decimal digits of `value` into `buffer[start..<start + count]`, each
    /// offset by `zero` (`0x30` for text, `0` for digit values).
    private static func writeDigits(
        of value: UInt128, count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int, zero: UInt8
    ) {
        // Two 64-bit halves of 19 digits each, so the per-digit division is a 64-bit one.
        let split = UInt128(10_000_000_000_000_000_000)
        var low = UInt64(truncatingIfNeeded: value % split)
        var high = UInt64(truncatingIfNeeded: value / split)
        var index = start + count - 1
        var written = 0
        while index >= start {
            if written < 19 {
                buffer[index] = zero + UInt8(truncatingIfNeeded: low % 10)
                low /= 10
            } else {
                buffer[index] = zero + UInt8(truncatingIfNeeded: high % 10)
                high /= 10
            }
            written += 1
            index -= 1
        }
    }
}

// MARK: - Creating numbers

extension DecimalNumber {
    /// Parses DynamoDB's text form of a number, validates it and normalises it.
    ///
    /// The accepted syntax is an optional `+` or `-`, digits with at most one decimal point (either
    /// side of the point may be empty, not both), and an optional exponent of `e` or `E`, an
    /// optional sign and digits. Spaces, `NaN`, `Infinity` and hexadecimal are refused.
    ///
    /// ```swift
    /// let price = try DecimalNumber("+0012.50")   // 12.5
    /// let tiny = try DecimalNumber("1E-130")      // the smallest positive magnitude
    /// _ = try DecimalNumber("1e126")              // throws: Number overflow…
    /// ```
    ///
    /// Zero is checked against the largest exponent by the exponent it is written with, as DynamoDB
    /// does: `0e126` is refused while `0.0e126` and `0e125` are zero. A zero with an exponent however
    /// negative (`0E-200`, `0.0e-1000`) is zero: only a non-zero number underflows.
    ///
    /// - Throws: ``EddyError/validation(_:)`` with DynamoDB's message: the text is not a number
    ///   (including an exponent beyond a 64-bit integer), it has more than 38 significant digits,
    ///   or its magnitude is out of range.
    public init(_ text: String) throws(EddyError) {
        var utf8 = text
        switch utf8.withUTF8(Self.parse) {
        case .success(let number): self = number
        case .failure(.notNumeric): throw Self.notNumeric(text)
        case .failure(.tooManyDigits): throw Self.tooManyDigits
        case .failure(.overflow): throw Self.overflow
        case .failure(.underflow): throw Self.underflow
        }
    }

    /// The exact value of an integer.
    ///
    /// ```swift
    /// DecimalNumber(-1200).description // "-1200"
    /// ```
    public init(_ value: Int) {
        var magnitude = value.magnitude
        guard magnitude != 0 else {
            self = .zero
            return
        }
        var exponent = 0
        while magnitude % 10 == 0 {
            magnitude /= 10
            exponent += 1
        }
        self.init(unchecked: value < 0, coefficient: UInt128(magnitude), exponent: exponent)
    }

    /// The number `±coefficient × 10^exponent`, validated and normalised.
    ///
    /// A zero coefficient gives zero whatever the exponent and sign.
    ///
    /// ```swift
    /// let amount = try DecimalNumber(isNegative: true, coefficient: 12_500, exponent: -4)
    /// print(amount) // -1.25
    /// ```
    ///
    /// - Throws: ``EddyError/validation(_:)`` when the coefficient, without its trailing zeros,
    ///   has more than 38 digits, or the magnitude is out of range.
    public init(isNegative: Bool, coefficient: UInt128, exponent: Int) throws(EddyError) {
        self = try Self.normalised(
            isNegative: isNegative, coefficient: coefficient, exponent: exponent, tooPrecise: Self.tooManyDigits)
    }

    /// Strips trailing zeros, then applies the digit limit and the range.
    private static func normalised(
        isNegative: Bool, coefficient: UInt128, exponent: Int, tooPrecise: EddyError
    ) throws(EddyError) -> DecimalNumber {
        guard coefficient != 0 else { return .zero }
        var coefficient = coefficient
        var trailingZeros = 0
        while coefficient % 10 == 0 {
            coefficient /= 10
            trailingZeros += 1
        }
        let digits = digitCount(coefficient)
        guard digits <= maximumDigits else { throw tooPrecise }
        let (leading, overflowed) = exponent.addingReportingOverflow(trailingZeros + digits - 1)
        guard !overflowed, leading <= maximumLeadingExponent else { throw overflow }
        guard leading >= minimumLeadingExponent else { throw underflow }
        return DecimalNumber(unchecked: isNegative, coefficient: coefficient, exponent: leading - (digits - 1))
    }

    private enum ParseFailure: Error {
        case notNumeric, tooManyDigits, overflow, underflow
    }

    /// One pass over the bytes. A syntax error wins over too many digits, which wins over the range.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<DecimalNumber, ParseFailure> {
        let end = bytes.count
        var index = 0
        var negative = false
        if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }

        var coefficient: UInt128 = 0
        var significant = 0  // digits already in `coefficient`
        var pendingZeros = 0  // zeros after the last non-zero digit: significant only if one follows
        var tooManyDigits = false
        var digitsSeen = 0
        var firstNonZero = -1  // index among the digits seen
        var integerDigits = -1  // digits before the point, once one is seen
        while index < end {
            let byte = bytes[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                if digit != 0 {
                    if firstNonZero < 0 {
                        firstNonZero = digitsSeen
                        coefficient = UInt128(digit)
                        significant = 1
                    } else if significant + pendingZeros + 1 <= maximumDigits {
                        coefficient = coefficient * powersOfTen[pendingZeros + 1] + UInt128(digit)
                        significant += pendingZeros + 1
                    } else {
                        tooManyDigits = true
                    }
                    pendingZeros = 0
                } else if firstNonZero >= 0 {
                    pendingZeros += 1
                }
                digitsSeen += 1
            } else if byte == UInt8(ascii: "."), integerDigits < 0 {
                integerDigits = digitsSeen
            } else {
                break
            }
            index += 1
        }
        guard digitsSeen > 0 else { return .failure(.notNumeric) }
        if integerDigits < 0 { integerDigits = digitsSeen }

        var writtenExponent: Int64 = 0
        if index < end {
            // `| 0x20` folds `E` onto `e` and maps no other byte there.
            guard bytes[index] | 0x20 == UInt8(ascii: "e") else { return .failure(.notNumeric) }
            index += 1
            var exponentNegative = false
            if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < end else { return .failure(.notNumeric) }
            var magnitude: UInt64 = 0
            var exponentTooLong = false
            while index < end {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return .failure(.notNumeric) }
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { exponentTooLong = true } else { magnitude = sum }
                index += 1
            }
            // DynamoDB reads the exponent as a 64-bit integer: beyond that it is not a number at all.
            let limit = exponentNegative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
            guard !exponentTooLong, magnitude <= limit else { return .failure(.notNumeric) }
            writtenExponent = Int64(truncatingIfNeeded: exponentNegative ? 0 &- magnitude : magnitude)
        }

        if tooManyDigits { return .failure(.tooManyDigits) }
        let leading: Int64
        let overflowed: Bool
        if firstNonZero < 0 {
            // Zero keeps the exponent it was written with for the range check.
            (leading, overflowed) = writtenExponent.subtractingReportingOverflow(Int64(digitsSeen - integerDigits))
        } else {
            (leading, overflowed) = writtenExponent.addingReportingOverflow(Int64(integerDigits - firstNonZero - 1))
        }
        if overflowed, firstNonZero < 0, writtenExponent < 0 { return .success(.zero) }
        if overflowed { return .failure(writtenExponent > 0 ? .overflow : .underflow) }
        if leading > Int64(maximumLeadingExponent) { return .failure(.overflow) }
        // A zero is zero however small its exponent: only a non-zero number can underflow.
        if firstNonZero < 0 { return .success(.zero) }
        if leading < Int64(minimumLeadingExponent) { return .failure(.underflow) }
        return .success(
            DecimalNumber(unchecked: negative, coefficient: coefficient, exponent: Int(leading) - (significant - 1)))
    }
}

// MARK: - Arithmetic and order

extension DecimalNumber {
    /// The exact sum, as DynamoDB's `ADD` action and `+` in `SET` compute it.
    ///
    /// ```swift
    /// let total = try DecimalNumber("0.1").adding(DecimalNumber("0.2")) // 0.3, exactly
    /// _ = try DecimalNumber("1E+50").adding(DecimalNumber(1))           // throws: 51 digits
    /// ```
    ///
    /// - Throws: ``EddyError/validation(_:)`` when the exact sum leaves the range, or needs more
    ///   than 38 significant digits; DynamoDB words the latter as a number overflow too.
    public func adding(_ other: DecimalNumber) throws(EddyError) -> DecimalNumber {
        if other.coefficient == 0 { return self }
        if coefficient == 0 { return other }
        let lowest = Swift.min(exponent, other.exponent)
        let shift = exponent - lowest
        let otherShift = other.exponent - lowest
        guard Self.digitCount(coefficient) + shift <= Self.maximumDigits,
            Self.digitCount(other.coefficient) + otherShift <= Self.maximumDigits
        else { return try wideSum(other) }
        // Both aligned operands are below 10^38, so even their sum fits in 128 bits.
        let aligned = coefficient * Self.powersOfTen[shift]
        let otherAligned = other.coefficient * Self.powersOfTen[otherShift]
        let negative: Bool
        let magnitude: UInt128
        if isNegative == other.isNegative {
            (negative, magnitude) = (isNegative, aligned + otherAligned)
        } else if aligned >= otherAligned {
            (negative, magnitude) = (isNegative, aligned - otherAligned)
        } else {
            (negative, magnitude) = (other.isNegative, otherAligned - aligned)
        }
        return try Self.normalised(
            isNegative: negative, coefficient: magnitude, exponent: lowest, tooPrecise: Self.overflow)
    }

    /// The exact difference `self - other`.
    ///
    /// ```swift
    /// let change = try DecimalNumber(10).subtracting(DecimalNumber("0.01")) // 9.99
    /// ```
    ///
    /// - Throws: ``EddyError/validation(_:)`` as ``adding(_:)`` does.
    public func subtracting(_ other: DecimalNumber) throws(EddyError) -> DecimalNumber {
        try adding(other.negated)
    }

    /// The sum of operands too far apart in scale to align in 128 bits, digit by digit.
    ///
    /// Valid operands span at most 10^125 down to 10^-167, so the digit arrays stay short.
    private func wideSum(_ other: DecimalNumber) throws(EddyError) -> DecimalNumber {
        let digits = Self.digitCount(coefficient)
        let otherDigits = Self.digitCount(other.coefficient)
        let lowest = Swift.min(exponent, other.exponent)
        // One place above the higher leading digit takes the carry.
        let highest = Swift.max(exponent + digits, other.exponent + otherDigits)
        let width = highest - lowest + 1

        // Most significant first: index i holds the digit of 10^(highest - i).
        func spread(_ number: DecimalNumber, _ count: Int) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: width) { buffer, initialized in
                buffer.initialize(repeating: 0)
                let start = highest - (number.exponent + count - 1)
                Self.writeDigits(of: number.coefficient, count: count, into: buffer, at: start, zero: 0)
                initialized = width
            }
        }
        var larger = spread(self, digits)
        var smaller = spread(other, otherDigits)
        var negative = isNegative
        let sameSign = isNegative == other.isNegative
        if !sameSign, Self.compareMagnitudes(self, other) < 0 {
            swap(&larger, &smaller)
            negative = other.isNegative
        }
        var carry: UInt8 = 0
        for index in stride(from: width - 1, through: 0, by: -1) {
            if sameSign {
                let sum = larger[index] + smaller[index] + carry
                larger[index] = sum % 10
                carry = sum / 10
            } else {
                let subtrahend = smaller[index] + carry
                if larger[index] >= subtrahend {
                    larger[index] -= subtrahend
                    carry = 0
                } else {
                    larger[index] = larger[index] + 10 - subtrahend
                    carry = 1
                }
            }
        }

        guard let first = larger.firstIndex(where: { $0 != 0 }),
            let last = larger.lastIndex(where: { $0 != 0 })
        else { return .zero }
        let leading = highest - first
        guard leading <= Self.maximumLeadingExponent else { throw Self.overflow }
        guard leading >= Self.minimumLeadingExponent else { throw Self.underflow }
        guard last - first < Self.maximumDigits else { throw Self.overflow }
        var result: UInt128 = 0
        for index in first...last { result = result * 10 + UInt128(larger[index]) }
        return DecimalNumber(unchecked: negative, coefficient: result, exponent: highest - last)
    }

    /// Compares `|a|` with `|b|`: negative, zero or positive.
    private static func compareMagnitudes(_ a: DecimalNumber, _ b: DecimalNumber) -> Int {
        if a.coefficient == 0 || b.coefficient == 0 {
            return (a.coefficient == 0 ? 0 : 1) - (b.coefficient == 0 ? 0 : 1)
        }
        let leadingA = a.exponent + digitCount(a.coefficient)
        let leadingB = b.exponent + digitCount(b.coefficient)
        if leadingA != leadingB { return leadingA < leadingB ? -1 : 1 }
        // Same leading place and at most 38 digits each: the scale gap is under 38.
        var alignedA = a.coefficient
        var alignedB = b.coefficient
        if a.exponent > b.exponent {
            alignedA *= powersOfTen[a.exponent - b.exponent]
        } else if b.exponent > a.exponent {
            alignedB *= powersOfTen[b.exponent - a.exponent]
        }
        return alignedA == alignedB ? 0 : (alignedA < alignedB ? -1 : 1)
    }

    /// Numeric order, as DynamoDB sorts Number sort keys.
    ///
    /// ```swift
    /// try DecimalNumber("-10") < DecimalNumber("-9.5") // true
    /// ```
    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let order = compareMagnitudes(lhs, rhs)
        return lhs.isNegative ? order > 0 : order < 0
    }
}

extension DecimalNumber {
    /// Whether plain JSON (``JSONWriter/plainItem(_:)``) writes a number of `significantDigits` digits scaled
    /// by `10^exponent` as a JSON number: when it is an integer of at most 18 digits (exact in a signed 64-bit
    /// integer, Elasticsearch's `long`) or, not an integer, has at most 15 significant digits (so the nearest
    /// `Double` prints back as the same decimal). Any other number is written as a string of its text, so that
    /// no reader rounds it.
    package static func isExactPlainJSONNumber(significantDigits: Int, exponent: Int) -> Bool {
        if exponent >= 0 { return significantDigits + exponent <= 18 }
        return significantDigits <= 15
    }

    /// Whether plain JSON writes this number as a JSON number (see ``isExactPlainJSONNumber(significantDigits:exponent:)``).
    package var isExactPlainJSONNumber: Bool {
        isZero || Self.isExactPlainJSONNumber(significantDigits: significantDigitCount, exponent: exponent)
    }
}
