// librdkafka's C API (Debian's librdkafka-dev, 2.0.2), for the Kafka benchmark's raw producer baseline.
#include <librdkafka/rdkafka.h>
