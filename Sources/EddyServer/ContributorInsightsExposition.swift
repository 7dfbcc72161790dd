import Eddy
import Foundation

/// The top keys of every table and global index with Contributor Insights enabled, in Prometheus's text
/// format, written at each scrape of `/metrics` (CloudWatch's part in AWS):
///
/// ```
/// eddy_contributor_insights_key_value{table="Users",index="",rule="PKC",partition_key="u1",sort_key=""} 42
/// ```
///
/// `rule` is DynamoDB's (`PKC`, `SKC`: capacity units consumed; `PKT`, `SKT`: throttled requests), the value
/// covers the minute in progress and the one before. Written from the tracker at each scrape rather than kept
/// as gauges, so keys that leave the top leave the exposition too, and it never holds more than
/// ``Limits/contributorInsightsKeysReported`` keys per rule.
enum ContributorInsightsExposition {
    static let metricName = "eddy_contributor_insights_key_value"

    /// The exposition of `database`'s top keys; empty when no table has Contributor Insights enabled.
    static func text(_ database: Database) -> String {
        var lines: [String] = []
        for resource in database.contributorInsightsResources() {
            guard let report = try? database.contributorInsightsReport(tableName: resource.tableName, indexName: resource.indexName) else {
                continue
            }
            for rule in report.rules {
                for contributor in rule.contributors {
                    let labels = [
                        ("table", report.tableName), ("index", report.indexName ?? ""), ("rule", rule.rule.rawValue),
                        ("partition_key", label(contributor.partitionKey)), ("sort_key", contributor.sortKey.map(label) ?? ""),
                    ]
                    let rendered = labels.map { "\($0.0)=\"\(escaped($0.1))\"" }.joined(separator: ",")
                    lines.append("\(metricName){\(rendered)} \(contributor.value)")
                }
            }
        }
        guard !lines.isEmpty else { return "" }
        let header = [
            "# HELP \(metricName) Contributor Insights: the top keys of each rule over the last minute (units consumed, or requests throttled)",
            "# TYPE \(metricName) gauge",
        ]
        return (header + lines).joined(separator: "\n") + "\n"
    }

    /// A key value as text: a String as is, a Number's digits, a Binary in base64.
    static func label(_ value: AttributeValue) -> String {
        switch value {
        case .s(let string): string
        case .n(let number): number.description
        case .b(let bytes): Data(bytes).base64EncodedString()
        default: ""
        }
    }

    /// `value` escaped for a Prometheus label: backslash, double quote and line feed.
    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
