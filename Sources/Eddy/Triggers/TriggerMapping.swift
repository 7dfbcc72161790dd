/// Where a registered trigger mapping is in its life, with the names of Lambda's event source mapping states.
/// The transitional states (Creating, Enabling, Disabling, Updating, Deleting) last while the runtime
/// starts the mapping or lets its batch in flight finish.
public enum TriggerMappingState: String, Codable, Sendable, CaseIterable {
    case creating = "Creating"
    case enabling = "Enabling"
    case enabled = "Enabled"
    case disabling = "Disabling"
    case disabled = "Disabled"
    case updating = "Updating"
    case deleting = "Deleting"
}

/// A trigger mapping: its identity, settings and state.
public struct TriggerMapping: Sendable, Equatable {
    /// Identifies the mapping, as Lambda's event source mapping UUID does; kept across restarts.
    public let uuid: String
    public let name: String
    public let configuration: TriggerMappingConfiguration
    public let state: TriggerMappingState
    /// When the settings last changed, in milliseconds since 1970.
    public let lastModifiedMilliseconds: Int64
}
