import ServiceLifecycle

// EddyKafka's clients are swift-service-lifecycle services: in a `ServiceGroup`, each keeps its handle (and
// the thread that polls it) until the group shuts down gracefully or is cancelled, then closes it. List them
// before the services that use them: a group stops its services in reverse order.

extension KafkaProducer: Service {
    /// Waits for the group's graceful shutdown (or cancellation), then closes the producer, waiting up to 10
    /// seconds for the messages in flight.
    public func run() async {
        try? await gracefulShutdown()
        try? await blocking { self.close() }
    }
}

extension KafkaSink: Service {
    /// Waits for the group's graceful shutdown (or cancellation), then closes the sink's producer, waiting up
    /// to 10 seconds for the messages in flight.
    public func run() async {
        try? await gracefulShutdown()
        try? await blocking { self.close() }
    }
}

extension KafkaConsumer: Service {
    /// Waits for the group's graceful shutdown (or cancellation), then closes the consumer: its messages end,
    /// its stored offsets are committed and it leaves the group.
    public func run() async {
        try? await gracefulShutdown()
        await close()
    }
}
