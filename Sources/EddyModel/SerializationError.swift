/// A request DynamoDB cannot deserialize into its members, with DynamoDB's message: the wire protocol answers
/// it with a `SerializationException`, where a value that deserializes but breaks a rule is a
/// `ValidationException` (``EddyError/validation(_:)``).
public struct SerializationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "SerializationException: \(message)" }
}
