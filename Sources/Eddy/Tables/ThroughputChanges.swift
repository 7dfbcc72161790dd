import Foundation

/// When a table's (or a global index's) provisioned throughput last went up and down, and how many decreases
/// its UTC day has seen: what DescribeTable reports, and what DynamoDB's limit on decreases is checked against.
///
/// The limit ("Service, account, and table quotas"): on a UTC day, any 4 decreases, then one more per hour
/// since the last one, at most 27 in the day. A table and each of its global indexes are counted apart. Times
/// are seconds since 1970, as DescribeTable carries them.
struct ThroughputChanges: Codable, Sendable, Equatable {
    var lastIncreaseDateTime: Double?
    var lastDecreaseDateTime: Double?
    /// Decreases on the UTC day of ``lastDecreaseDateTime``.
    var decreasesOnLastDecreaseDay = 0

    private static let secondsPerDay: Double = 86_400

    /// The decreases of the UTC day of `now`.
    func decreasesToday(atSeconds now: Double) -> Int {
        guard let last = lastDecreaseDateTime, Self.day(of: last) == Self.day(of: now) else { return 0 }
        return decreasesOnLastDecreaseDay
    }

    /// Records a change from `old` to `new` at `now`: an increase of either unit count moves
    /// ``lastIncreaseDateTime``, a decrease of either moves ``lastDecreaseDateTime`` and counts once.
    ///
    /// - Throws: `LimitExceededException`, with DynamoDB's message, if the decrease is past the day's limit;
    ///   nothing is recorded then.
    mutating func record(from old: ProvisionedThroughput, to new: ProvisionedThroughput, atSeconds now: Double) throws(EddyError) {
        if new.readCapacityUnits < old.readCapacityUnits || new.writeCapacityUnits < old.writeCapacityUnits {
            let today = decreasesToday(atSeconds: now)
            if let next = nextDecreaseAllowed(after: today, atSeconds: now), let last = lastDecreaseDateTime {
                throw .limitExceeded(
                    "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first \(Limits.provisionedDecreasesAnyTimePerDay) decreases, each subsequent decrease in the same UTC day can be performed at most once every \(Int(Limits.provisionedDecreaseIntervalSeconds)) seconds. Number of decreases today: \(today). Last decrease at \(Self.formatted(last)). Next decrease can be made at \(Self.formatted(next))"
                )
            }
            lastDecreaseDateTime = now
            decreasesOnLastDecreaseDay = today + 1
        }
        if new.readCapacityUnits > old.readCapacityUnits || new.writeCapacityUnits > old.writeCapacityUnits {
            lastIncreaseDateTime = now
        }
    }

    /// When the next decrease is allowed, if not at `now` with `today` decreases done: an hour after the last
    /// one, or the next UTC day once the day's decreases are all used.
    private func nextDecreaseAllowed(after today: Int, atSeconds now: Double) -> Double? {
        guard today >= Limits.provisionedDecreasesAnyTimePerDay, let last = lastDecreaseDateTime else { return nil }
        let nextDay = (Self.day(of: now) + 1) * Self.secondsPerDay
        guard today < Limits.provisionedDecreasesPerDayMax else { return nextDay }
        let nextHour = last + Limits.provisionedDecreaseIntervalSeconds
        return now >= nextHour ? nil : min(nextHour, nextDay)
    }

    private static func day(of seconds: Double) -> Double {
        (seconds / secondsPerDay).rounded(.down)
    }

    /// A time as DynamoDB's message prints it: `Friday, October 9, 2026 at 12:21:34 AM Coordinated Universal Time`.
    static func formatted(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEEE, MMMM d, yyyy 'at' h:mm:ss a 'Coordinated Universal Time'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// DynamoDB's limit on switching a table to `PAY_PER_REQUEST`: 4 times in a rolling 24 hours ("Considerations
/// when switching capacity modes"); switching back to `PROVISIONED` is allowed at any time.
enum PayPerRequestSwitches {
    /// The switch times of `previous` still in the window at `now`, then `now`.
    ///
    /// - Throws: `LimitExceededException` if the window holds 4 switches already.
    static func recording(_ previous: [Double], atSeconds now: Double) throws(EddyError) -> [Double] {
        let window = previous.filter { now - $0 < Limits.payPerRequestSwitchWindowSeconds }.sorted()
        guard window.count < Limits.payPerRequestSwitchesPerWindowMax else {
            let days = Int(Limits.payPerRequestSwitchWindowSeconds / 86_400)
            throw .limitExceeded(
                "Subscriber limit exceeded: Update to PayPerRequest mode are limited to \(Limits.payPerRequestSwitchesPerWindowMax) times in \(days) day(s). Last update at \(formatted(window[window.count - 1])). Next update can be made at \(formatted(window[0] + Limits.payPerRequestSwitchWindowSeconds))"
            )
        }
        return window + [now]
    }

    /// A time as this message prints it (Java's `Date.toString` in UTC): `Sat Feb 23 03:07:45 UTC 2019`.
    private static func formatted(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss 'UTC' yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
