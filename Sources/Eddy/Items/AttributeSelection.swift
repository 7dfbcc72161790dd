/// Which parts of an item a read returns: everything, or the document paths of a ProjectionExpression (the
/// legacy `AttributesToGet` compiles to top-level paths).
struct AttributeSelection: Sendable {
    private let paths: [[ResolvedPathElement]]?

    init(paths: [[ResolvedPathElement]]?) {
        self.paths = paths
    }

    init(attributesToGet: [String]?) throws(EddyError) {
        guard let attributesToGet else {
            self.init(paths: nil)
            return
        }
        guard !attributesToGet.isEmpty else {
            throw TableValidation.constraint(value: "[]", field: "attributesToGet", "Member must have length greater than or equal to 1")
        }
        var names = Set<String>()
        for name in attributesToGet {
            guard names.insert(name).inserted else {
                throw .validation("One or more parameter values were invalid: Duplicate value in attribute name: \(name)")
            }
        }
        self.init(paths: attributesToGet.map { [.name($0)] })
    }

    func apply(_ item: Item) -> Item {
        guard let paths else { return item }
        return DocumentPathAccess.project(item, paths: paths)
    }
}
