/// The checks of the secondary indexes of CreateTable and UpdateTable, with DynamoDB's messages.
enum IndexValidation {
    /// Checks CreateTable's indexes: names, key schemas, projections, throughput and counts.
    static func validateCreate(_ input: CreateTableInput) throws(EddyError) {
        let globals = input.globalSecondaryIndexes ?? []
        let locals = input.localSecondaryIndexes ?? []
        if input.globalSecondaryIndexes?.isEmpty == true {
            throw .validation("One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty")
        }
        if input.localSecondaryIndexes?.isEmpty == true {
            throw .validation("One or more parameter values were invalid: List of LocalSecondaryIndexes is empty")
        }
        guard globals.count <= Limits.globalSecondaryIndexesMax else {
            throw .validation(
                "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of \(Limits.globalSecondaryIndexesMax)")
        }
        guard locals.count <= Limits.localSecondaryIndexesMax else {
            throw .validation(
                "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of \(Limits.localSecondaryIndexesMax)")
        }
        let billing = input.billingMode ?? .provisioned
        for (position, index) in globals.enumerated() {
            try validateGlobal(index, field: "globalSecondaryIndexes.\(position + 1).member", billing: billing)
        }
        for (position, index) in locals.enumerated() {
            let field = "localSecondaryIndexes.\(position + 1).member"
            try validateName(index.indexName, field: "\(field).indexName")
            try TableValidation.validateKeySchema(index.keySchema, field: "\(field).keySchema")
            try validateProjection(index.projection)
            guard input.keySchema.count == 2 else {
                throw .validation(
                    "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
            }
            guard index.keySchema[0].attributeName == input.keySchema[0].attributeName else {
                throw .validation(
                    "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: \(index.indexName). index hash key: \(index.keySchema[0].attributeName), table hash key: \(input.keySchema[0].attributeName)"
                )
            }
            guard index.keySchema.count == 2 else {
                throw .validation(
                    "One or more parameter values were invalid: Index KeySchema does not have a range key for index: \(index.indexName)")
            }
        }
        var names = Set<String>()
        for name in globals.map(\.indexName) + locals.map(\.indexName) where !names.insert(name).inserted {
            throw .validation("One or more parameter values were invalid: Duplicate index name: \(name)")
        }
        try validateProjectedCount(globals.map(\.projection) + locals.map(\.projection))
    }

    /// Checks one global index, of CreateTable or of an UpdateTable `Create`.
    static func validateGlobal(_ index: GlobalSecondaryIndex, field: String, billing: BillingMode) throws(EddyError) {
        try validateName(index.indexName, field: "\(field).indexName")
        try TableValidation.validateKeySchema(index.keySchema, field: "\(field).keySchema")
        try validateProjection(index.projection)
        try validateThroughput(index.provisionedThroughput, of: index.indexName, billing: billing)
    }

    /// Checks an index's throughput against its table's billing mode.
    static func validateThroughput(_ throughput: ProvisionedThroughput?, of name: String, billing: BillingMode) throws(EddyError) {
        switch (billing, throughput) {
        case (.provisioned, nil):
            throw .validation("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: \(name)")
        case (.provisioned, let throughput?):
            try TableValidation.validateThroughput(throughput)
        case (.payPerRequest, nil):
            return
        case (.payPerRequest, _?):
            throw .validation(
                "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: \(name) when BillingMode is PAY_PER_REQUEST")
        }
    }

    /// Checks that the `INCLUDE` projections of a table's indexes name at most 100 attributes in all.
    static func validateProjectedCount(_ projections: [Projection]) throws(EddyError) {
        let count = projections.reduce(0) { $0 + ($1.nonKeyAttributes?.count ?? 0) }
        guard count <= Limits.projectedNonKeyAttributesMax else {
            throw .validation(
                "One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of \(Limits.projectedNonKeyAttributesMax), number of projected attributes: \(count)"
            )
        }
    }

    private static func validateName(_ name: String, field: String) throws(EddyError) {
        try TableValidation.validateTableName(name, field: field)
    }

    private static func validateProjection(_ projection: Projection) throws(EddyError) {
        guard let type = projection.projectionType else {
            throw .validation("One or more parameter values were invalid: Unknown ProjectionType: null")
        }
        switch (type, projection.nonKeyAttributes) {
        case (.include, nil):
            throw .validation("One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
        case (.include, let attributes?):
            guard !attributes.isEmpty else {
                throw .validation("One or more parameter values were invalid: NonKeyAttributes must not be empty")
            }
            guard Set(attributes).count == attributes.count else {
                throw .validation("One or more parameter values were invalid: Duplicate attributes in NonKeyAttributes")
            }
            for (position, name) in attributes.enumerated() {
                try TableValidation.validateAttributeName(name, field: "projection.nonKeyAttributes.\(position + 1).member")
            }
        case (.all, _?), (.keysOnly, _?):
            throw .validation(
                "One or more parameter values were invalid: ProjectionType is \(type.rawValue), but NonKeyAttributes is specified")
        case (.all, nil), (.keysOnly, nil):
            return
        }
    }
}
