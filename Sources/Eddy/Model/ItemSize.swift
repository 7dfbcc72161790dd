/// Item sizes as DynamoDB counts them (Developer Guide, "Item sizes and formats").
///
/// Strings and attribute names count their UTF-8 bytes, binaries their bytes, numbers one byte per two
/// significant digits plus one, booleans and nulls one byte, lists and maps three bytes plus one per element
/// on top of their elements, sets the sum of their members.
public enum ItemSize {
    /// The size of `item`: each attribute's name plus its value.
    public static func of(_ item: Item) -> Int {
        var total = 0
        for (name, value) in item {
            total += name.utf8.count + of(value)
        }
        return total
    }

    /// The size of one value (without an attribute name).
    public static func of(_ value: AttributeValue) -> Int {
        switch value {
        case .s(let string): string.utf8.count
        case .n(let number): numberSize(number)
        case .b(let bytes): bytes.count
        case .bool, .null: 1
        case .m(let map): 3 + map.count + of(map)
        case .l(let list): 3 + list.count + list.reduce(0) { $0 + of($1) }
        case .ss(let strings): strings.reduce(0) { $0 + $1.utf8.count }
        case .ns(let numbers): numbers.reduce(0) { $0 + numberSize($1) }
        case .bs(let binaries): binaries.reduce(0) { $0 + $1.count }
        }
    }

    private static func numberSize(_ number: DecimalNumber) -> Int {
        (number.significantDigitCount + 1) / 2 + 1
    }
}
