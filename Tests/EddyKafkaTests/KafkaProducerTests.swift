import ChildProcessSupport
import EddyKafka
import Foundation
import Testing

// EddyKafka's producer against a real broker (noida-db, Kafka wire protocol), read back with an independent
// client (Debian's kcat).

@Suite(.serialized, .timeLimit(.minutes(5))) struct KafkaProducerTests {
    @Test func messagesArriveWithTheirKeysValuesAndHeaders() async throws {
        try await KafkaBroker.with { broker in
            let producer = try KafkaProducer(configuration: ["bootstrap.servers": broker.bootstrapServers, "enable.idempotence": "true"])
            var deliveries: [KafkaDelivery] = []
            for index in 0..<20 {
                deliveries.append(try await producer.send(
                    topic: "changes", key: Array("item-\(index % 4)".utf8), value: Array("{\"n\":\(index)}".utf8),
                    headers: [("table", Array("Users".utf8)), ("sequence", Array(String(index).utf8))]))
            }
            producer.close()
            #expect(deliveries.allSatisfy { $0.topic == "changes" && $0.offset >= 0 })
            let consumed = try await offThePool {
                try broker.kcat(["-C", "-t", "changes", "-e", "-f", "%k|%s|%p|%o|%h\\n"])
            }
            let lines = consumed.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false) }
            #expect(lines.count == 20)
            for index in 0..<20 {
                let line = try #require(lines.first { $0.count == 5 && $0[1] == "{\"n\":\(index)}" })
                #expect(line[0] == "item-\(index % 4)")
                #expect(Int32(line[2]) == deliveries[index].partition)
                #expect(Int64(line[3]) == deliveries[index].offset)
                #expect(line[4] == "table=Users,sequence=\(index)")
            }
            // One key, one partition, in the order sent.
            for key in 0..<4 {
                let offsets = deliveries.enumerated().filter { $0.offset % 4 == key }.map(\.element)
                #expect(Set(offsets.map(\.partition)).count == 1)
                #expect(offsets.map(\.offset) == offsets.map(\.offset).sorted())
            }
        }
    }

    @Test func anUnknownPropertyIsRefusedWithLibrdkafkasMessage() {
        #expect {
            _ = try KafkaProducer(configuration: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"])
        } throws: { error in
            (error as? KafkaError)?.message.contains("No such configuration property") == true
        }
    }

    @Test func anUnreachableBrokerFailsTheSendInsteadOfHanging() async throws {
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": "1500"])
        let started = ContinuousClock.now
        await #expect(throws: KafkaError.self) {
            _ = try await producer.send(topic: "nowhere", key: nil, value: Array("x".utf8))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        producer.close()
        // A closed producer refuses messages rather than queueing them on a destroyed handle.
        await #expect {
            _ = try await producer.send(topic: "nowhere", key: nil, value: Array("x".utf8))
        } throws: { error in
            (error as? KafkaError)?.message == "The producer is closed"
        }
    }
}
