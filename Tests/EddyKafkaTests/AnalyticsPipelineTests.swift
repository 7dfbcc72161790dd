import ChildProcessSupport
import Foundation
import Testing

/// The AnalyticsPipeline example (Examples/AnalyticsPipeline) run as its own process against a real broker:
/// its consumer's per-page, per-minute counts equal a recount from the table, on a new topic and again on one
/// holding an earlier run's messages.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AnalyticsPipelineTests {
    @Test func theConsumersCountsEqualTheTables() async throws {
        try await KafkaBroker.with { broker in
            for views in [600, 250] {
                let run = try await offThePool {
                    try runChild("AnalyticsPipeline", arguments: ["--bootstrap-servers", broker.bootstrapServers, "--views", String(views)], waitingAtMost: 120)
                }
                #expect(run.exitStatus == 0, "\(run.lines.suffix(10)); stderr: \(run.errorOutput.suffix(2_000))")
                #expect(run.output.contains("The consumer counted all \(views) page views of this run, as the table has them."))
                #expect(!run.output.contains("DIFFERS"))
            }
        }
    }
}
