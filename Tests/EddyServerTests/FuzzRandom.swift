/// A seeded random number generator (SplitMix64), so that a fuzz run is replayed exactly from its seed.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    /// A uniformly chosen element of `elements`, which must not be empty.
    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[Int.random(in: elements.indices, using: &self)]
    }

    /// An integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// A string of `count` characters drawn from `alphabet`, which must be ASCII.
    mutating func text(_ count: Int, from alphabet: String = "abcdefghijklmnopqrstuvwxyz0123456789") -> String {
        let characters = Array(alphabet.utf8)
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices {
            bytes[index] = characters[Int(next() % UInt64(characters.count))]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A short string mixing ASCII, accented letters, CJK and emoji: valid UTF-8 of 1 to 4 bytes a character.
    mutating func unicodeText(_ count: Int) -> String {
        String((0..<count).map { _ in pick(Self.unicodeCharacters) })
    }

    private static let unicodeCharacters = Array("abcXYZ 09-_.#:éßΩжあ漢🙂\u{0}\n\"\\")
}
