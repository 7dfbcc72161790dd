// Eddy's Kafka trigger sink (EddyKafka, issue 7): how fast a mapping drains a stream into Kafka, against
// librdkafka's C API sending the same messages, and how soon a committed change reaches a Kafka consumer. See
// ../../README.md ("Kafka") for the command that runs them and prints the figures.
//
//     KafkaDrain.SinkAndRawProducer   a 1,000,000-record stream written beforehand, drained by a new mapping
//                                     (BatchSize 1000) to a local broker, then the same messages sent by a raw
//                                     librdkafka producer, then the stream drained again as Debezium change
//                                     events; records per second of each
//     KafkaDelivery.PutItem           putItem return → KafkaConsumer receipt, 5,000 writes at 1,000 a second
//
// KafkaDrain.swift and KafkaDelivery.swift hold the two; LocalBroker.swift starts and stops the noida-db
// brokers; RawKafka.swift is the raw producer (librdkafka's C API through `CRdKafkaBench`) and the
// high-watermark reader.
import Benchmark

let benchmarks: @Sendable () -> Void = {
    registerKafkaDeliveryBenchmark()
    registerKafkaDrainBenchmark()
}
