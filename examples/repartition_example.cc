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
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "operators/streams_builder.h"
#include "runtime/kafka_streams.h"

ABSL_FLAG(std::string, bootstrap_servers, "",
          "bootstrap.servers (default: $BROOK_BOOTSTRAP_SERVERS)");
ABSL_FLAG(std::string, application_id, "brook-repartition-example",
          "application.id");
ABSL_FLAG(std::string, input_topic, "",
          "topic of orders (key: order id, value: \"product,quantity\"); "
          "empty: create <application_id>-orders and write demo orders");
ABSL_FLAG(std::string, output_topic, "",
          "topic of total quantity per product; empty: "
          "<application_id>-totals");
ABSL_FLAG(std::string, state_dir, "/tmp/brook-repartition-example",
          "state.dir");
ABSL_FLAG(int32_t, threads, 1, "num.stream.threads");
ABSL_FLAG(int32_t, partitions, 3, "partitions of topics this program creates");
ABSL_FLAG(int64_t, demo_orders, 1000,
          "demo orders to write without --input_topic");
ABSL_FLAG(int64_t, session_timeout_ms, 45000,
          "session.timeout.ms: how long a crashed instance keeps its tasks");

namespace brook {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

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

absl::Status EnsureTopic(Admin& admin, const S& topic, int32_t partitions) {
  absl::Status s = admin.CreateTopic({topic, partitions}, absl::Seconds(30));
  if (s.ok())
    std::cerr << "repartition_example: created topic " << topic << "\n";
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
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

absl::Status Run() {
  S bootstrap = absl::GetFlag(FLAGS_bootstrap_servers);
  if (bootstrap.empty() && std::getenv("BROOK_BOOTSTRAP_SERVERS") != nullptr) {
    bootstrap = std::getenv("BROOK_BOOTSTRAP_SERVERS");
  }
  if (bootstrap.empty()) {
    return absl::InvalidArgumentError(
        "no broker: pass --bootstrap_servers or set BROOK_BOOTSTRAP_SERVERS");
  }
  const S app = absl::GetFlag(FLAGS_application_id);
  S input = absl::GetFlag(FLAGS_input_topic);
  S output = absl::GetFlag(FLAGS_output_topic);
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(client));
  int32_t partitions = absl::GetFlag(FLAGS_partitions);
  if (input.empty()) {
    input = app + "-orders";
    BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, input, partitions));
    BROOK_RETURN_IF_ERROR(
        WriteDemoOrders(client, input, absl::GetFlag(FLAGS_demo_orders)));
  } else {
    BROOK_ASSIGN_OR_RETURN(partitions,
                           admin->PartitionCount(input, absl::Seconds(30)));
  }
  if (output.empty()) output = app + "-totals";
  BROOK_RETURN_IF_ERROR(EnsureTopic(*admin, output, partitions));

  BROOK_ASSIGN_OR_RETURN(Topology topology, TotalsTopology(input, output));
  std::cerr << topology.Describe();

  StreamsConfig config;
  config.application_id = app;
  config.bootstrap_servers = bootstrap;
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  config.num_stream_threads = absl::GetFlag(FLAGS_threads);
  const int64_t session_ms = absl::GetFlag(FLAGS_session_timeout_ms);
  config.session_timeout = absl::Milliseconds(session_ms);
  config.consumer_config["heartbeat.interval.ms"] =
      absl::StrCat(std::min<int64_t>(3000, session_ms / 3));
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, config));
  BROOK_RETURN_IF_ERROR(streams->Start());
  std::cerr << "repartition_example: totalling " << input << " into " << output
            << "; stop with Ctrl-C\n";
  while (!g_stop.load() && streams->state() != KafkaStreams::State::kError) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::Status closed = streams->Close(absl::Seconds(30));
  if (streams->state() == KafkaStreams::State::kError) return streams->error();
  return closed;
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sums order quantities per product, exactly once, with Brook's DSL; "
      "orders are keyed by order id, so they are repartitioned by product.\n"
      "With no --input_topic it creates one and writes demo orders.");
  absl::ParseCommandLine(argc, argv);
  brook::InitLogging(argv[0]);
  std::signal(SIGTERM, brook::OnSignal);
  std::signal(SIGINT, brook::OnSignal);
  if (absl::Status s = brook::Run(); !s.ok()) {
    std::cerr << "repartition_example: " << s << "\n";
    return 1;
  }
  return 0;
}
