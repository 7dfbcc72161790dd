// librdkafka's C API (Debian's librdkafka-dev, 2.0.2), for EddyKafka.
#include <librdkafka/rdkafka.h>
