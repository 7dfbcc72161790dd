/// A mutable slot shared by a benchmark's setup, body and teardown (they run one after another).
public final class Box<Value>: @unchecked Sendable {
    /// What the setup left for the body and the teardown.
    public var value: Value?

    /// An empty slot.
    public init() {}

    /// Empties the slot and returns what it held.
    public func take() -> Value? {
        defer { value = nil }
        return value
    }
}
