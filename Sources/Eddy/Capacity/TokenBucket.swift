/// Capacity units refilled at a steady rate, up to a ceiling: a provisioned table's (or global index's) read or
/// write capacity with its burst, a `PAY_PER_REQUEST` table's maximum throughput, a partition key's share.
///
/// DynamoDB admits a request while the bucket is not empty, then charges what the request actually consumed,
/// which it only knows afterwards (the size of the item read or written). So the balance may go below zero;
/// it must refill past zero before the next request is admitted. Time comes from the caller, in
/// milliseconds of the database clock, so that tests move it instead of sleeping.
struct TokenBucket: Sendable, Equatable {
    /// Units added per second.
    private(set) var unitsPerSecond: Double
    /// How many seconds of unused refill the bucket keeps.
    let burstSeconds: Double
    /// Units available now; negative after a request consumed more than was left.
    private(set) var balance: Double
    /// When ``balance`` was last brought up to date.
    private var refilledAtMilliseconds: Int64

    /// A full bucket: a table just created (or an Eddy just started) has its whole burst.
    init(unitsPerSecond: Double, burstSeconds: Double, nowMilliseconds: Int64) {
        precondition(unitsPerSecond > 0 && burstSeconds > 0, "a bucket refills")
        self.unitsPerSecond = unitsPerSecond
        self.burstSeconds = burstSeconds
        balance = unitsPerSecond * burstSeconds
        refilledAtMilliseconds = nowMilliseconds
    }

    /// The most the bucket holds.
    var capacity: Double { unitsPerSecond * burstSeconds }

    /// Whether a request arriving at `now` is admitted: the bucket is not empty.
    func admits(atMilliseconds now: Int64) -> Bool {
        balance(atMilliseconds: now) > 0
    }

    /// Charges `units` a request consumed at `now`.
    mutating func debit(_ units: Double, atMilliseconds now: Int64) {
        refill(toMilliseconds: now)
        balance -= units
    }

    /// Changes the rate from `now` on (UpdateTable takes effect at once): what was saved stays, up to the new
    /// ceiling.
    mutating func setRate(_ unitsPerSecond: Double, atMilliseconds now: Int64) {
        precondition(unitsPerSecond > 0, "a bucket refills")
        refill(toMilliseconds: now)
        self.unitsPerSecond = unitsPerSecond
        balance = min(balance, capacity)
    }

    /// Whether the bucket is full at `now`: it remembers nothing a new bucket would not.
    func isFull(atMilliseconds now: Int64) -> Bool {
        balance(atMilliseconds: now) >= capacity
    }

    /// The balance at `now`, with what the rate gave since the last refill. A clock that stepped back adds
    /// nothing.
    func balance(atMilliseconds now: Int64) -> Double {
        guard now > refilledAtMilliseconds else { return balance }
        let elapsedSeconds = Double(now - refilledAtMilliseconds) / 1000
        return min(capacity, balance + elapsedSeconds * unitsPerSecond)
    }

    private mutating func refill(toMilliseconds now: Int64) {
        balance = balance(atMilliseconds: now)
        refilledAtMilliseconds = max(refilledAtMilliseconds, now)
    }
}
