/// The checks of CreateTable, UpdateTable and every table name, with DynamoDB's messages.
enum TableValidation {
    static func validateTableName(_ name: String, field: String = "tableName") throws(EddyError) {
        // A valid name is ASCII, so its UTF-8 length is its length; a non-ASCII name fails the pattern below.
        let length = name.utf8.count
        if length < Limits.tableNameLengthRange.lowerBound {
            throw constraint(value: name, field: field, "Member must have length greater than or equal to \(Limits.tableNameLengthRange.lowerBound)")
        }
        if length > Limits.tableNameLengthRange.upperBound {
            throw constraint(value: name, field: field, "Member must have length less than or equal to \(Limits.tableNameLengthRange.upperBound)")
        }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F || byte == 0x2E || byte == 0x2D
        }
        guard allowed else {
            throw constraint(value: name, field: field, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
    }

    /// DynamoDB's wording for a request field that breaks a declared constraint.
    static func constraint(value: String, field: String, _ rule: String) -> EddyError {
        .validation("1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(rule)")
    }

    static func validateCreate(_ input: CreateTableInput) throws(EddyError) {
        try validateTableName(input.tableName)
        try validateKeySchema(input.keySchema, field: "keySchema")
        for (index, definition) in input.attributeDefinitions.enumerated() {
            try validateAttributeName(definition.attributeName, field: "attributeDefinitions.\(index + 1).member.attributeName")
        }
        try IndexValidation.validateCreate(input)
        let indexKeys = (input.globalSecondaryIndexes ?? []).map(\.keySchema) + (input.localSecondaryIndexes ?? []).map(\.keySchema)
        try validateDefinitions(input.attributeDefinitions, keySchemas: [input.keySchema] + indexKeys)
        try validateBilling(mode: input.billingMode ?? .provisioned, throughput: input.provisionedThroughput)
        try validateOnDemandThroughput(input.onDemandThroughput, mode: input.billingMode ?? .provisioned, allowsRemoval: false)
        if let stream = input.streamSpecification {
            if stream.streamEnabled, stream.streamViewType == nil {
                throw .validation("One or more parameter values were invalid: StreamViewType is required when the stream is enabled")
            }
            if !stream.streamEnabled, stream.streamViewType != nil {
                throw .validation(
                    "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified")
            }
        }
    }

    /// Checks a table's or an index's key schema: a HASH element, then optionally a RANGE element.
    static func validateKeySchema(_ keySchema: [KeySchemaElement], field: String) throws(EddyError) {
        let rendered = "[" + keySchema.map { "KeySchemaElement(attributeName=\($0.attributeName), keyType=\($0.keyType.rawValue))" }.joined(separator: ", ") + "]"
        if keySchema.isEmpty {
            throw constraint(value: rendered, field: field, "Member must have length greater than or equal to 1")
        }
        if keySchema.count > 2 {
            throw constraint(value: rendered, field: field, "Member must have length less than or equal to 2")
        }
        for (index, element) in keySchema.enumerated() {
            try validateAttributeName(element.attributeName, field: "\(field).\(index + 1).member.attributeName")
        }
        guard keySchema[0].keyType == .hash else {
            throw .validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        }
        if keySchema.count == 2 {
            guard keySchema[1].keyType == .range else {
                throw .validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
            }
            guard keySchema[0].attributeName != keySchema[1].attributeName else {
                throw .validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
            }
        }
    }

    /// Checks that `definitions` define exactly the attributes of `keySchemas` (the table's and its
    /// indexes'), each once. A definition no key uses is refused, as DynamoDB refuses it: with indexes,
    /// the message lists the definitions and the key attributes used.
    static func validateDefinitions(_ definitions: [AttributeDefinition], keySchemas: [[KeySchemaElement]]) throws(EddyError) {
        let definedNames = definitions.map(\.attributeName)
        var seen: Set<String> = []
        for name in definedNames where !seen.insert(name).inserted {
            throw .validation("Attribute Name is duplicated: \(name)")
        }
        for keySchema in keySchemas {
            let keyNames = keySchema.map(\.attributeName)
            guard keyNames.allSatisfy(definedNames.contains) else {
                throw .validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [\(keyNames.joined(separator: ", "))], AttributeDefinitions: [\(definedNames.joined(separator: ", "))]"
                )
            }
        }
        var usedNames: [String] = []
        for name in keySchemas.flatMap({ $0.map(\.attributeName) }) where !usedNames.contains(name) {
            usedNames.append(name)
        }
        guard definedNames.count == usedNames.count else {
            guard keySchemas.count > 1 else {
                throw .validation(
                    "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
                )
            }
            throw .validation(
                "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [\(definedNames.joined(separator: ", "))], keys used: [\(usedNames.joined(separator: ", "))]"
            )
        }
    }

    static func validateAttributeName(_ name: String, field: String) throws(EddyError) {
        let length = name.utf8.count
        if length < Limits.keyAttributeNameLengthRange.lowerBound {
            throw constraint(value: name, field: field, "Member must have length greater than or equal to \(Limits.keyAttributeNameLengthRange.lowerBound)")
        }
        if length > Limits.keyAttributeNameLengthRange.upperBound {
            throw constraint(value: name, field: field, "Member must have length less than or equal to \(Limits.keyAttributeNameLengthRange.upperBound)")
        }
    }

    static func validateBilling(mode: BillingMode, throughput: ProvisionedThroughput?) throws(EddyError) {
        switch mode {
        case .provisioned:
            guard let throughput else {
                throw .validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
                )
            }
            try validateThroughput(throughput)
        case .payPerRequest:
            guard throughput == nil else {
                throw .validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
                )
            }
        }
    }

    static func validateThroughput(_ throughput: ProvisionedThroughput) throws(EddyError) {
        if throughput.readCapacityUnits < 1 {
            throw constraint(value: "\(throughput.readCapacityUnits)", field: "provisionedThroughput.readCapacityUnits", "Member must have value greater than or equal to 1")
        }
        if throughput.writeCapacityUnits < 1 {
            throw constraint(value: "\(throughput.writeCapacityUnits)", field: "provisionedThroughput.writeCapacityUnits", "Member must have value greater than or equal to 1")
        }
    }

    /// Checks the maximums of `OnDemandThroughput` for a table of billing `mode`: only `PAY_PER_REQUEST`
    /// takes them, each at least 1, or -1 (UpdateTable's `allowsRemoval`) to remove one.
    static func validateOnDemandThroughput(_ throughput: OnDemandThroughput?, mode: BillingMode, allowsRemoval: Bool) throws(EddyError) {
        guard let throughput else { return }
        let members = [("MaxReadRequestUnits", throughput.maxReadRequestUnits), ("MaxWriteRequestUnits", throughput.maxWriteRequestUnits)]
        if mode == .provisioned, let (name, _) = members.first(where: { $0.1 != nil }) {
            throw .validation(
                "One or more parameter values were invalid: \(name) for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED")
        }
        for case let (name, value?) in members where value < 1 && !(allowsRemoval && value == -1) {
            throw .validation("One or more parameter values were invalid: Requested \(name) for OnDemandThroughput for table is outside of valid range")
        }
    }
}
