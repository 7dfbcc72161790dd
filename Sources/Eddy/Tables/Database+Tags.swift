import EddyStorage

extension Database {
    /// Adds tags to a table, or changes the values of keys it has (DynamoDB's `TagResource`). The tags are
    /// kept with the table's definition: they survive restarts and go with the table when it is deleted.
    ///
    /// ```swift
    /// let arn = try await db.describeTable(tableName: "Orders").tableArn
    /// try await db.tagResource(TagResourceInput(resourceArn: arn, tags: [Tag(key: "team", value: "payments")]))
    /// ```
    ///
    /// - Throws: `ValidationException` for an ARN that is not a table's in this database's Region, no tags,
    ///   an invalid key or value, a key starting with `aws:`, a key given twice, or more than
    ///   ``Limits/tagsPerResourceMax`` tags on the table after the change (nothing changes then);
    ///   `AccessDeniedException` for another account's ARN; `ResourceNotFoundException` if there is no
    ///   such table.
    @discardableResult
    public func tagResource(_ input: TagResourceInput) async throws(EddyError) -> TagResourceOutput {
        try requireOpen()
        let name = try TableResourceArn.tableName(
            of: input.resourceArn, region: configuration.region, accountId: configuration.accountId, operation: "TagResource")
        guard !input.tags.isEmpty else { throw .validation("Atleast one Tag needs to be provided as Input.") }
        let tags = try TagValidation.validated(input.tags)
        try await changeTags(ofTable: name, arn: input.resourceArn) { current throws(EddyError) in
            try TagValidation.merging(tags, into: current)
        }
        return TagResourceOutput()
    }

    /// Removes tags from a table by key (DynamoDB's `UntagResource`); a key the table does not have is no
    /// error.
    ///
    /// - Throws: `ValidationException` for an ARN that is not a table's in this database's Region, no keys,
    ///   an invalid key, or more than ``Limits/tagsPerResourceMax`` keys; `AccessDeniedException` for another
    ///   account's ARN; `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func untagResource(_ input: UntagResourceInput) async throws(EddyError) -> UntagResourceOutput {
        try requireOpen()
        let name = try TableResourceArn.tableName(
            of: input.resourceArn, region: configuration.region, accountId: configuration.accountId, operation: "UntagResource")
        guard !input.tagKeys.isEmpty else { throw .validation("Atleast one Tag Key needs to be provided as Input.") }
        try TagValidation.checkCount(input.tagKeys.count)
        for key in input.tagKeys { try TagValidation.validateKey(key) }
        let removed = Set(input.tagKeys)
        try await changeTags(ofTable: name, arn: input.resourceArn) { current in
            current.filter { !removed.contains($0.key) }
        }
        return UntagResourceOutput()
    }

    /// A table's tags in the order of their keys, ``Limits/listTagsPageLimitMax`` a page (DynamoDB's
    /// `ListTagsOfResource`).
    ///
    /// ```swift
    /// var page = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn))
    /// while let token = page.nextToken {
    ///     page = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn, nextToken: token))
    /// }
    /// ```
    ///
    /// - Throws: `ValidationException` for an ARN that is not a table's in this database's Region;
    ///   `AccessDeniedException` for another account's ARN; `ResourceNotFoundException` if there is no such
    ///   table.
    public func listTagsOfResource(_ input: ListTagsOfResourceInput) async throws(EddyError) -> ListTagsOfResourceOutput {
        try requireOpen()
        let name = try TableResourceArn.tableName(
            of: input.resourceArn, region: configuration.region, accountId: configuration.accountId, operation: "ListTagsOfResource")
        guard let table = catalog.table(named: name) else { throw TableResourceArn.notFound(input.resourceArn) }
        // The token is the last key of the previous page: the page goes on after it even if it was removed.
        let remaining = (table.definition.tags ?? []).filter { tag in input.nextToken.map { tag.key > $0 } ?? true }
        let page = Array(remaining.prefix(Limits.listTagsPageLimitMax))
        return ListTagsOfResourceOutput(tags: page, nextToken: remaining.count > page.count ? page.last?.key : nil)
    }

    /// Replaces the tags of table `name` by `change(current tags)`, under the catalog lock, in one write of
    /// its definition.
    private func changeTags(
        ofTable name: String, arn: String, _ change: ([Tag]) throws(EddyError) -> [Tag]
    ) async throws(EddyError) {
        try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) in
            guard let table = catalog.table(named: name) else { throw TableResourceArn.notFound(arn) }
            var definition = table.definition
            let tags = try change(definition.tags ?? [])
            definition.tags = tags.isEmpty ? nil : tags
            guard definition != table.definition else { return }
            var batch = StorageBatch()
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch, tables: [TableStamp(table)]))
            catalog.didStore(definition)
        }
    }
}
