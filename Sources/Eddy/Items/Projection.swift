/// Which attributes of an item a read returns: all, or the top-level names of the legacy `AttributesToGet`.
/// The expressions issue adds `ProjectionExpression` here.
struct Projection: Sendable {
    private let names: Set<String>?

    /// All attributes.
    static let all = Projection(names: nil)

    private init(names: Set<String>?) {
        self.names = names
    }

    init(attributesToGet: [String]?) throws(EddyError) {
        guard let attributesToGet else {
            self.init(names: nil)
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
        self.init(names: names)
    }

    var isAll: Bool { names == nil }

    func apply(_ item: Item) -> Item {
        guard let names else { return item }
        return item.filter { names.contains($0.key) }
    }
}
