/// The request of ``Database/describeContinuousBackups(_:)``.
public struct DescribeContinuousBackupsInput: Codable, Sendable {
    public var tableName: String

    public init(tableName: String) {
        self.tableName = tableName
    }

    enum CodingKeys: String, CodingKey { case tableName = "TableName" }
}

/// The request of ``Database/updateContinuousBackups(_:)``.
public struct UpdateContinuousBackupsInput: Codable, Sendable {
    public var tableName: String
    public var pointInTimeRecoverySpecification: PointInTimeRecoverySpecification

    public init(tableName: String, pointInTimeRecoverySpecification: PointInTimeRecoverySpecification) {
        self.tableName = tableName
        self.pointInTimeRecoverySpecification = pointInTimeRecoverySpecification
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", pointInTimeRecoverySpecification = "PointInTimeRecoverySpecification"
    }
}

/// Whether point-in-time recovery is asked for.
public struct PointInTimeRecoverySpecification: Codable, Sendable {
    public var pointInTimeRecoveryEnabled: Bool

    public init(pointInTimeRecoveryEnabled: Bool) {
        self.pointInTimeRecoveryEnabled = pointInTimeRecoveryEnabled
    }

    enum CodingKeys: String, CodingKey { case pointInTimeRecoveryEnabled = "PointInTimeRecoveryEnabled" }
}

/// The answer of ``Database/describeContinuousBackups(_:)`` and ``Database/updateContinuousBackups(_:)``.
public struct ContinuousBackupsOutput: Codable, Sendable, Equatable {
    public var continuousBackupsDescription: ContinuousBackupsDescription

    public init(continuousBackupsDescription: ContinuousBackupsDescription) {
        self.continuousBackupsDescription = continuousBackupsDescription
    }

    enum CodingKeys: String, CodingKey { case continuousBackupsDescription = "ContinuousBackupsDescription" }
}

/// A table's continuous backups, as DynamoDB describes them.
public struct ContinuousBackupsDescription: Codable, Sendable, Equatable {
    /// `ENABLED` for every table, as in DynamoDB.
    public var continuousBackupsStatus: String
    public var pointInTimeRecoveryDescription: PointInTimeRecoveryDescription

    /// A table without point-in-time recovery: continuous backups `ENABLED`, point-in-time recovery
    /// `DISABLED`, which is every Eddy table.
    public static let withoutPointInTimeRecovery = ContinuousBackupsDescription(
        continuousBackupsStatus: "ENABLED",
        pointInTimeRecoveryDescription: PointInTimeRecoveryDescription(pointInTimeRecoveryStatus: "DISABLED"))

    enum CodingKeys: String, CodingKey {
        case continuousBackupsStatus = "ContinuousBackupsStatus"
        case pointInTimeRecoveryDescription = "PointInTimeRecoveryDescription"
    }
}

/// Whether point-in-time recovery is on.
public struct PointInTimeRecoveryDescription: Codable, Sendable, Equatable {
    /// `ENABLED` or `DISABLED`.
    public var pointInTimeRecoveryStatus: String

    enum CodingKeys: String, CodingKey { case pointInTimeRecoveryStatus = "PointInTimeRecoveryStatus" }
}

extension Database {
    /// A table's continuous backups (DynamoDB's `DescribeContinuousBackups`): Eddy keeps no point-in-time
    /// recovery, so every table answers as a DynamoDB table without it does.
    ///
    /// - Throws: `TableNotFoundException` if there is no such table.
    public func describeContinuousBackups(_ input: DescribeContinuousBackupsInput) async throws(EddyError) -> ContinuousBackupsOutput {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        guard catalog.table(named: input.tableName) != nil else { throw .tableNotFound("Table not found: \(input.tableName)") }
        return ContinuousBackupsOutput(continuousBackupsDescription: .withoutPointInTimeRecovery)
    }

    /// Turns point-in-time recovery on or off (DynamoDB's `UpdateContinuousBackups`). Eddy has no
    /// point-in-time recovery: turning it off answers the description unchanged, turning it on is refused.
    ///
    /// - Throws: `ValidationException` when point-in-time recovery is asked for; `TableNotFoundException`
    ///   if there is no such table.
    public func updateContinuousBackups(_ input: UpdateContinuousBackupsInput) async throws(EddyError) -> ContinuousBackupsOutput {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        guard catalog.table(named: input.tableName) != nil else { throw .tableNotFound("Table not found: \(input.tableName)") }
        guard !input.pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled else {
            throw .validation("Eddy does not support point-in-time recovery: PointInTimeRecoveryEnabled cannot be true")
        }
        return ContinuousBackupsOutput(continuousBackupsDescription: .withoutPointInTimeRecovery)
    }
}
