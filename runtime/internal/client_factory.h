// KafkaClientFactory: how the runtime makes its Kafka clients. Production
// uses the librdkafka implementations; unit tests substitute fakes.
// Threading model: immutable; the functions must be thread-safe.
#ifndef BROOK_RUNTIME_INTERNAL_CLIENT_FACTORY_H_
#define BROOK_RUNTIME_INTERNAL_CLIENT_FACTORY_H_

#include <functional>
#include <memory>

#include "brook/kafka/admin.h"
#include "brook/kafka/consumer.h"
#include "brook/kafka/producer.h"

namespace brook::internal {

struct KafkaClientFactory {
  std::function<absl::StatusOr<std::unique_ptr<Consumer>>(const ClientConfig&,
                                                          RebalanceListener*)>
      consumer = &Consumer::Create;
  std::function<absl::StatusOr<std::unique_ptr<Producer>>(const ClientConfig&)>
      producer = &Producer::Create;
  std::function<absl::StatusOr<std::unique_ptr<Admin>>(const ClientConfig&)>
      admin = &Admin::Create;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_CLIENT_FACTORY_H_
