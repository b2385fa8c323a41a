// slow_enrichment: the answer to "my handler is slow". Each order (keyed by
// customer, value "order-<n>") needs a call to a slow service, here a fraud
// score that takes --service_ms (20 ms by default, a stand-in for an HTTP
// call). Run inline on the stream thread, a 500-record poll would take 10 s
// and 50 records a second is the ceiling. KStream::MapValuesAsync runs the
// call on --parallelism workers instead: records of one customer one at a
// time and in order, different customers at once, while the stream thread
// keeps polling and stays in its group. The call also counts each
// customer's orders in a store through KeyState ("orders-per-customer"),
// and the output "order-<n> score=<s> nth=<k>" says which order of its
// customer it was. All of it exactly once: a commit waits for the records
// in flight, so it holds the outputs, the store changes and the offsets of
// the same records.
//
// With no --input_topic it creates "<application_id>-orders" and writes
// --demo_orders orders; with no --output_topic it writes to
// "<application_id>-scored-orders". --until_done (generated input only)
// reads the output back, checks that every order is there once with its
// customer's orders numbered 1, 2, 3... in input order, prints the
// throughput and stops.
//
//   build/examples/slow_enrichment --bootstrap_servers=127.0.0.1:9092
//       --parallelism=16 --until_done
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/metrics/metrics_server.h"
#include "brook/operators/key_state.h"
#include "brook/operators/kstream.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "brook/runtime/serdes.h"
#include "brook/runtime/stores.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of orders: customer -> \"order-<n>\"; empty: create "
          "<application_id>-orders and write demo orders");
ABSL_FLAG(std::string, output_topic, "",
          "topic of scored orders; empty: <application_id>-scored-orders");
ABSL_FLAG(int64_t, service_ms, 20, "how long one call of the service takes");
ABSL_FLAG(int32_t, parallelism, 16,
          "AsyncOptions.parallelism: workers calling the service");
ABSL_FLAG(int32_t, max_in_flight, 64,
          "AsyncOptions.max_in_flight: records one task may hold");
ABSL_FLAG(int64_t, demo_orders, 2000, "orders to write without --input_topic");
ABSL_FLAG(int32_t, demo_customers, 100, "customers of the demo orders");
ABSL_FLAG(bool, until_done, false,
          "with generated input: stop once every order is scored and checked");
ABSL_FLAG(int32_t, metrics_port, -1,
          "metrics.http.port: serve /metrics (Prometheus), /healthz and "
          "/topology on 127.0.0.1; 0 picks a free port, -1 (default) none");

namespace brook {
namespace {

using S = std::string;

// The slow service: a score from 0 to 99 after `latency`. Thread-safe.
int64_t FraudScore(const S& order, absl::Duration latency) {
  absl::SleepFor(latency);
  return static_cast<int64_t>(std::hash<S>()(order) % 100);
}

absl::StatusOr<Topology> ScoredOrdersTopology(const S& input, const S& output) {
  const absl::Duration latency =
      absl::Milliseconds(absl::GetFlag(FLAGS_service_ms));
  StreamsBuilder builder;
  builder.AddStateStore(Stores::KeyValueStoreBuilder<S, int64_t>(
      "orders-per-customer", Serdes::String(), Serdes::Int64()));
  builder.Stream<S, S>(input)
      .MapValuesAsync<int64_t>(
          [latency](const S& customer, const S& order,
                    KeyState<int64_t>& orders) -> absl::StatusOr<S> {
            const int64_t score = FraudScore(order, latency);
            const int64_t nth = orders.Get().value_or(0) + 1;
            orders.Put(nth);
            return absl::StrCat(order, " score=", score, " nth=", nth);
          },
          "orders-per-customer",
          AsyncOptions{.parallelism = absl::GetFlag(FLAGS_parallelism),
                       .max_in_flight = absl::GetFlag(FLAGS_max_in_flight)},
          Named{"fraud-score"})
      .To(output);
  return builder.Build();
}

absl::Status WriteDemoOrders(const ClientConfig& client, const S& topic) {
  const int64_t n = absl::GetFlag(FLAGS_demo_orders);
  const int32_t customers = absl::GetFlag(FLAGS_demo_customers);
  std::vector<ProducerRecord> records;
  records.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    records.push_back({.topic = topic,
                       .key = absl::StrCat("customer-", i % customers),
                       .value = absl::StrFormat("order-%07d", i)});
  }
  BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, records));
  std::cerr << "slow_enrichment: wrote " << n << " demo orders for "
            << customers << " customers to " << topic << "\n";
  return absl::OkStatus();
}

// --until_done: every demo order once, each customer's orders numbered 1,
// 2, 3... in their input order.
absl::Status VerifyScoredOrders(const ClientConfig& client, const S& topic,
                                const std::atomic<bool>& stop) {
  const int64_t n = absl::GetFlag(FLAGS_demo_orders);
  const absl::Time start = absl::Now();
  BROOK_ASSIGN_OR_RETURN(std::vector<ConsumerRecord> out,
                         examples::ReadCommittedUntil(
                             client, topic,
                             [n](const std::vector<ConsumerRecord>& r) {
                               return static_cast<int64_t>(r.size()) >= n;
                             },
                             stop));
  const absl::Duration took = absl::Now() - start;
  std::vector<int> seen(static_cast<size_t>(n), 0);
  std::map<S, int64_t> last_order, last_nth;
  for (const ConsumerRecord& r : out) {
    // "order-0000012 score=37 nth=5"
    const std::vector<S> parts = absl::StrSplit(r.value.value_or(""), ' ');
    int64_t order = -1, nth = -1;
    if (parts.size() != 3 || parts[0].size() < 7 ||
        !absl::SimpleAtoi(parts[0].substr(6), &order) ||
        !absl::SimpleAtoi(parts[2].substr(4), &nth) || order < 0 ||
        order >= n) {
      return absl::DataLossError(absl::StrCat(
          "unexpected output \"", r.value.value_or("null"), "\" in ", topic,
          " at partition ", r.partition, " offset ", r.offset));
    }
    if (seen[static_cast<size_t>(order)]++ > 0) {
      return absl::DataLossError(
          absl::StrCat("order ", order, " was scored twice"));
    }
    const S customer = r.key.value_or("");
    if (order <= last_order[customer] && last_nth[customer] > 0) {
      return absl::DataLossError(absl::StrCat(customer, "'s order ", order,
                                              " came after its order ",
                                              last_order[customer]));
    }
    if (nth != ++last_nth[customer]) {
      return absl::DataLossError(
          absl::StrCat(customer, "'s order ", order, " is its nth=", nth,
                       ", expected ", last_nth[customer]));
    }
    last_order[customer] = order;
  }
  std::cerr << "slow_enrichment: verified " << out.size()
            << " scored orders, each once, every customer's in order, in "
            << absl::FormatDuration(took) << " ("
            << static_cast<int64_t>(out.size() / absl::ToDoubleSeconds(took))
            << " orders/s with " << absl::GetFlag(FLAGS_parallelism)
            << " workers and a " << absl::GetFlag(FLAGS_service_ms)
            << " ms service)\n";
  return absl::OkStatus();
}

absl::Status Run() {
  const examples::ExampleFlags flags = examples::ReadExampleFlags(
      "slow_enrichment", absl::GetFlag(FLAGS_input_topic),
      absl::GetFlag(FLAGS_output_topic));
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "orders", "scored-orders");
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           ScoredOrdersTopology(topics.input, topics.output));
    return examples::PrintDescription(topology, format);
  }
  const bool until_done = absl::GetFlag(FLAGS_until_done);
  if (until_done && !flags.input_topic.empty()) {
    return absl::InvalidArgumentError(
        "--until_done needs generated input: leave --input_topic empty");
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics topics,
      examples::PrepareTopics(
          flags, client, "orders", "scored-orders",
          [&](const S& topic) { return WriteDemoOrders(client, topic); }));
  BROOK_ASSIGN_OR_RETURN(Topology topology,
                         ScoredOrdersTopology(topics.input, topics.output));
  std::cerr << topology.Describe();
  StreamsConfig config = examples::ExampleConfig(flags, bootstrap);
  config.metrics_http_port = absl::GetFlag(FLAGS_metrics_port);
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, config));
  std::unique_ptr<MetricsServer> metrics;
  if (config.metrics_http_port >= 0) {
    BROOK_ASSIGN_OR_RETURN(metrics, MetricsServer::Start(streams.get()));
    std::cerr << "slow_enrichment: metrics at http://" << metrics->address()
              << ":" << metrics->port() << "/metrics\n";
  }
  std::cerr << "slow_enrichment: scoring " << topics.input << " into "
            << topics.output << " with " << absl::GetFlag(FLAGS_parallelism)
            << " workers; stop with Ctrl-C\n";
  if (!until_done) return examples::RunUntilStopped(*streams);
  return examples::RunAndVerify(
      flags, *streams, [&](const std::atomic<bool>& stop) {
        return VerifyScoredOrders(client, topics.output, stop);
      });
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "scores orders with a slow service on a pool of workers "
      "(KStream::MapValuesAsync), exactly once, keeping each customer's "
      "order and a per-customer count in a store.\nWith no --input_topic "
      "it creates one and writes demo orders.");
  return brook::examples::ExampleMain(argv[0], "slow_enrichment", brook::Run);
}
