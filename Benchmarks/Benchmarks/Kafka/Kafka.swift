// Eddy's Kafka trigger sink (EddyKafka, issue 7): how fast a mapping drains a stream into Kafka, against
// librdkafka's C API sending the same messages, how soon a committed change reaches a Kafka consumer, and what
// an initial snapshot costs live writes. See ../../README.md ("Kafka") for the command that runs them and
// prints the figures.
//
//     KafkaDrain.SinkAndRawProducer   a 1,000,000-record stream written beforehand, drained by a new mapping
//                                     (BatchSize 1000) to a local broker, then the same messages sent by a raw
//                                     librdkafka producer, then the stream drained again as Debezium change
//                                     events, then the table's 1,000,000 items sent by a new mapping's initial
//                                     snapshot; records per second of each
//     KafkaDelivery.PutItem           putItem return → KafkaConsumer receipt, 5,000 writes at 1,000 a second
//     KafkaSnapshot.PutItem           PutItem latency of one writer at 1,000 a second, alone and while a
//                                     1,000,000-item snapshot runs into a local broker
//
// KafkaDrain.swift, KafkaDelivery.swift and KafkaSnapshotWrites.swift hold the three; LocalBroker.swift starts
// and stops the noida-db brokers; RawKafka.swift is the raw producer (librdkafka's C API through
// `CRdKafkaBench`), the high-watermark reader and the consumer that reads topics back.
import Benchmark

let benchmarks: @Sendable () -> Void = {
    registerKafkaDeliveryBenchmark()
    registerKafkaDrainBenchmark()
    registerKafkaSnapshotWritesBenchmark()
}
