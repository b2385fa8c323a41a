// repartition_example: totals per product from orders keyed by order id. The
// grouping field (the product) is in the value, not the key, so the orders
// must move to the task that owns the product: the program re-keys them by
// product and sends them through the repartition topic
// "<application_id>-orders-by-product-repartition" (KStream::Repartition),
// then sums the quantities per product exactly once and writes
// "<product>" -> total quantity (an 8-byte big-endian int64, Kafka's
// LongSerializer format) to --output_topic on every update, until SIGTERM or
// SIGINT.
//
// Input: key "order-17", value "<product>,<quantity>" (e.g. "apple,3"); a
// value that does not parse is skipped. With no --input_topic it creates
// "<application_id>-orders" and writes --demo_orders demo orders; with no
// --output_topic it writes to "<application_id>-totals". A missing output
// topic is created with the input's partition count.
//
//   build/examples/repartition_example --bootstrap_servers=127.0.0.1:9092
//   kafka-console-consumer.sh --topic brook-repartition-example-totals
//       --from-beginning --property print.key=true --value-deserializer
//       org.apache.kafka.common.serialization.LongDeserializer
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/producer.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of orders (key: order id, value: \"product,quantity\"); "
          "empty: create <application_id>-orders and write demo orders");
ABSL_FLAG(std::string, output_topic, "",
          "topic of total quantity per product; empty: "
          "<application_id>-totals");
ABSL_FLAG(int64_t, demo_orders, 1000,
          "demo orders to write without --input_topic");

namespace brook {
namespace {

using S = std::string;

// "apple,3" -> ("apple", 3); nullopt if it does not parse.
std::optional<std::pair<S, int64_t>> ParseOrder(const S& value) {
  const size_t comma = value.find(',');
  int64_t quantity = 0;
  if (comma == S::npos || comma == 0 ||
      !absl::SimpleAtoi(value.substr(comma + 1), &quantity)) {
    return std::nullopt;
  }
  return std::pair(value.substr(0, comma), quantity);
}

absl::StatusOr<Topology> TotalsTopology(const S& input, const S& output) {
  StreamsBuilder builder;
  builder
      .Stream<S, S>(input)
      // The product becomes the key; orders that do not parse get a null
      // key and the aggregation drops them.
      .SelectKey([](const S&, const S& value) -> std::optional<S> {
        auto order = ParseOrder(value);
        if (!order) return std::nullopt;
        return order->first;
      })
      .Repartition(Repartitioned<S, S>::As("orders-by-product"))
      .MapValues([](const S& value) -> std::optional<int64_t> {
        auto order = ParseOrder(value);
        if (!order) return std::nullopt;
        return order->second;
      })
      // Keyed by product since the repartition: no second repartition.
      .GroupByKey()
      .Reduce([](int64_t total, int64_t quantity) { return total + quantity; },
              Materialized<S, int64_t>::As("totals"))
      .ToStream()
      .To(output);
  return builder.Build();
}

absl::Status WriteDemoOrders(const ClientConfig& config, const S& topic,
                             int64_t n) {
  static const char* const kProducts[] = {"apple", "pear", "plum", "fig",
                                          "kiwi"};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer,
                         Producer::Create(config));
  for (int64_t i = 0; i < n; ++i) {
    BROOK_RETURN_IF_ERROR(producer->Send(
        {.topic = topic,
         .key = absl::StrCat("order-", i),
         .value = absl::StrCat(kProducts[i % std::size(kProducts)], ",",
                               1 + i % 7)}));
  }
  BROOK_RETURN_IF_ERROR(producer->Flush(absl::Seconds(60)));
  std::cerr << "repartition_example: wrote " << n << " demo orders to " << topic
            << "\n";
  return absl::OkStatus();
}

examples::ExampleFlags Flags() {
  return examples::ReadExampleFlags("repartition_example",
                                    absl::GetFlag(FLAGS_input_topic),
                                    absl::GetFlag(FLAGS_output_topic));
}

absl::Status Run() {
  const examples::ExampleFlags flags = Flags();
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "orders", "totals");
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           TotalsTopology(topics.input, topics.output));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics topics,
      examples::PrepareTopics(
          flags, client, "orders", "totals", [&](const S& topic) {
            return WriteDemoOrders(client, topic,
                                   absl::GetFlag(FLAGS_demo_orders));
          }));
  BROOK_ASSIGN_OR_RETURN(Topology topology,
                         TotalsTopology(topics.input, topics.output));
  std::cerr << topology.Describe();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, examples::ExampleConfig(
                                                            flags, bootstrap)));
  std::cerr << "repartition_example: totalling " << topics.input << " into "
            << topics.output << "; stop with Ctrl-C\n";
  return examples::RunUntilStopped(*streams);
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "sums order quantities per product, exactly once, with Brook's DSL; "
      "orders are keyed by order id, so they are repartitioned by product.\n"
      "With no --input_topic it creates one and writes demo orders.");
  return brook::examples::ExampleMain(argv[0], "repartition_example",
                                      brook::Run);
}
