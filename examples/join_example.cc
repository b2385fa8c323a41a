// join_example: orders joined with their payments within a time window,
// with Brook's DSL, exactly once. Orders come from --input_topic, payments
// from --payments_topic, both keyed by order id with the record timestamp
// as event time. An order joins the payments of its id made from 0 to
// --window_ms after it (KStream::LeftJoin with
// JoinWindows::OfTimeDifferenceAndGrace(window, grace).Before(0)); each
// pair is written to --output_topic as "<order>|<payment>". An order with
// no payment in its window is written as "<order>|unpaid", once the window
// and the grace period (--grace_ms) have passed in stream time, and never
// before (no spurious unpaid result for an order that is paid late within
// grace). Payments that come later than their window + grace are dropped
// and counted (dropped-records, printed when the program stops).
//
// With no --input_topic it creates "<application_id>-orders" and
// "<application_id>-payments" and writes --demo_orders orders, one every
// 200 ms of event time: most paid within the window, every 5th unpaid,
// every 7th paid too late; then one "tick" order per partition far in the
// future, which closes every earlier window. --until_done (generated input
// only) writes the ticks once every paid order is joined, stops once every
// order has its result, reads the output back with read_committed and
// checks it: each paid order joined exactly once, each unpaid one reported
// unpaid exactly once, nothing else.
//
//   build/examples/join_example --bootstrap_servers=127.0.0.1:9092
//       --until_done
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "brook/base/status_macros.h"
#include "brook/kafka/admin.h"
#include "brook/kafka/topic_reader.h"
#include "brook/operators/streams_builder.h"
#include "brook/runtime/kafka_streams.h"
#include "examples/example_app.h"

ABSL_FLAG(std::string, input_topic, "",
          "topic of orders keyed by order id; empty: create "
          "<application_id>-orders and -payments and write demo input");
ABSL_FLAG(std::string, payments_topic, "",
          "topic of payments keyed by order id (with --input_topic)");
ABSL_FLAG(std::string, output_topic, "",
          "topic of joined orders; empty: <application_id>-joined");
ABSL_FLAG(int64_t, window_ms, 300000,
          "how long after an order its payment may come");
ABSL_FLAG(int64_t, grace_ms, 600000,
          "grace period: how late (in stream time) a record may come");
ABSL_FLAG(int64_t, demo_orders, 3000, "orders to write without --input_topic");
ABSL_FLAG(bool, until_done, false,
          "without --input_topic: stop when every order has its result, "
          "verify the output read back with read_committed");

namespace brook {
namespace {

using S = std::string;
constexpr int64_t kDemoStepMs = 200;

absl::StatusOr<Topology> JoinTopology(const S& orders, const S& payments,
                                      const S& output, int64_t window_ms,
                                      int64_t grace_ms) {
  StreamsBuilder builder;
  KStream<S, S> paid = builder.Stream<S, S>(payments);
  builder.Stream<S, S>(orders)
      .LeftJoin(
          paid,
          [](const S& order, const std::optional<S>& payment) {
            return absl::StrCat(order, "|", payment.value_or("unpaid"));
          },
          JoinWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(window_ms),
                                                absl::Milliseconds(grace_ms))
              .Before(absl::ZeroDuration()),
          StreamJoined<S, S, S>{}.WithStoreName("orders-payments"))
      .To(output);
  return builder.Build();
}

// The demo input, and what it should give: order id -> joined value.
struct Demo {
  std::vector<ProducerRecord> orders, payments, ticks;
  std::map<S, S> expected;
  int64_t paid = 0;  // orders joined with a payment
};

// The demo orders and payments (see the file comment). `partitions` tick
// orders, one per partition, close every window.
Demo MakeDemo(int64_t n, int64_t window_ms, int64_t grace_ms,
              int32_t partitions, const S& orders, const S& payments) {
  Demo d;
  const int64_t start_ms = examples::DemoEventTimeStartMs();
  int64_t last = start_ms;
  for (int64_t i = 0; i < n; ++i) {
    const S id = absl::StrCat("order-", i);
    const int64_t t = start_ms + i * kDemoStepMs;
    const S order = absl::StrCat("o", i);
    d.orders.push_back(
        {.topic = orders, .key = id, .value = order, .timestamp_ms = t});
    last = std::max(last, t);
    if (i % 5 == 4) {
      d.expected[id] = order + "|unpaid";
      continue;
    }
    // Paid within the window (0 .. window), or every 7th 1 ms too late.
    const int64_t delay =
        i % 7 == 6 ? window_ms + 1 : (i * 7919) % (window_ms + 1);
    const S payment = absl::StrCat("p", i);
    d.payments.push_back({.topic = payments,
                          .key = id,
                          .value = payment,
                          .timestamp_ms = t + delay});
    last = std::max(last, t + delay);
    d.expected[id] =
        delay <= window_ms ? order + "|" + payment : order + "|unpaid";
    if (delay <= window_ms) ++d.paid;
  }
  // Payments in event-time order, as a payment service would write them.
  std::stable_sort(d.payments.begin(), d.payments.end(),
                   [](const ProducerRecord& a, const ProducerRecord& b) {
                     return a.timestamp_ms < b.timestamp_ms;
                   });
  for (int32_t p = 0; p < partitions; ++p) {
    d.ticks.push_back({.topic = orders,
                       .partition = p,
                       .key = absl::StrCat("tick-", p),
                       .value = "tick",
                       .timestamp_ms = last + window_ms + grace_ms + 1000});
  }
  return d;
}

// --until_done: waits until every paid order is joined, writes the ticks
// (so that no payment is still unread when stream time jumps; a task waits
// for an empty input whose lag is unknown or positive, as Kafka Streams'
// max.task.idle.ms does, but the payments' producer may still be writing),
// waits for one committed result per order, then checks them.
absl::Status Verify(const ClientConfig& client, const S& output,
                    const Demo& demo, const std::atomic<bool>& stop) {
  const std::map<S, S>& expected = demo.expected;
  BROOK_RETURN_IF_ERROR(
      examples::ReadCommittedUntil(
          client, output,
          [&](const std::vector<ConsumerRecord>& records) {
            int64_t joins = 0;
            for (const ConsumerRecord& r : records) {
              if (!absl::EndsWith(r.value.value_or(""), "|unpaid")) ++joins;
            }
            return joins >= demo.paid;
          },
          stop)
          .status());
  BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, demo.ticks));
  BROOK_ASSIGN_OR_RETURN(std::vector<ConsumerRecord> records,
                         examples::ReadCommittedUntil(
                             client, output,
                             [&](const std::vector<ConsumerRecord>& records) {
                               return records.size() >= expected.size();
                             },
                             stop));
  std::map<S, std::vector<S>> got;
  for (const ConsumerRecord& r : records) {
    got[r.key.value_or("null")].push_back(r.value.value_or("null"));
  }
  int64_t problems = 0;
  for (const auto& [id, want] : expected) {
    auto it = got.find(id);
    if (it == got.end() || it->second != std::vector<S>{want}) {
      if (++problems <= 5) {
        std::cerr << "join_example: " << id << " expected " << want << " got "
                  << (it == got.end() ? 0 : it->second.size()) << " results\n";
      }
    }
  }
  if (got.size() != expected.size()) ++problems;
  std::cout << "verified " << records.size() << " join results in " << output
            << " (read_committed): "
            << (problems == 0 ? "each order's result exactly once" : "MISMATCH")
            << "\n";
  if (problems != 0) {
    return absl::DataLossError(absl::StrCat("the results in ", output,
                                            " do not match the input (",
                                            problems, " problems)"));
  }
  return absl::OkStatus();
}

absl::Status Run() {
  const examples::ExampleFlags flags = examples::ReadExampleFlags(
      "join_example", absl::GetFlag(FLAGS_input_topic),
      absl::GetFlag(FLAGS_output_topic));
  const int64_t window_ms = absl::GetFlag(FLAGS_window_ms);
  const int64_t grace_ms = absl::GetFlag(FLAGS_grace_ms);
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics topics =
        examples::TopicNames(flags, "orders", "joined");
    S payments = absl::GetFlag(FLAGS_payments_topic);
    if (payments.empty()) payments = flags.application_id + "-payments";
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           JoinTopology(topics.input, payments, topics.output,
                                        window_ms, grace_ms));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const bool until_done = absl::GetFlag(FLAGS_until_done);
  S payments = absl::GetFlag(FLAGS_payments_topic);
  if (flags.input_topic.empty() != payments.empty()) {
    return absl::InvalidArgumentError(
        "give both --input_topic and --payments_topic, or neither (demo)");
  }
  if (until_done && !flags.input_topic.empty()) {
    return absl::InvalidArgumentError(
        "--until_done needs generated input: leave --input_topic empty");
  }
  Demo demo;
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics topics,
      examples::PrepareTopics(
          flags, client, "orders", "joined",
          [&](const S& orders) -> absl::Status {
            payments = flags.application_id + "-payments";
            BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin,
                                   Admin::Create(client));
            absl::Status s = admin->CreateTopic({payments, flags.partitions},
                                                absl::Seconds(30));
            if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
            demo = MakeDemo(absl::GetFlag(FLAGS_demo_orders), window_ms,
                            grace_ms, flags.partitions, orders, payments);
            // Without --until_done the ticks go at once (a payment still
            // unread then is dropped as late).
            std::vector<ProducerRecord> all = demo.orders;
            all.insert(all.end(), demo.payments.begin(), demo.payments.end());
            if (!until_done) {
              all.insert(all.end(), demo.ticks.begin(), demo.ticks.end());
            }
            BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, all));
            std::cerr << "join_example: wrote " << demo.orders.size()
                      << " orders and " << demo.payments.size()
                      << " payments to " << orders << " and " << payments
                      << "\n";
            return absl::OkStatus();
          }));
  BROOK_ASSIGN_OR_RETURN(
      Topology topology,
      JoinTopology(topics.input, payments, topics.output, window_ms, grace_ms));
  std::cerr << topology.Describe();
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, examples::ExampleConfig(
                                                            flags, bootstrap)));
  std::cerr << "join_example: joining " << topics.input << " with " << payments
            << " within " << window_ms << " ms into " << topics.output
            << "; stop with Ctrl-C\n";
  if (!until_done) {
    absl::Status ran = examples::RunUntilStopped(*streams);
    examples::PrintDroppedRecords(flags, *streams);
    return ran;
  }
  return examples::RunAndVerify(
      flags, *streams, [&](const std::atomic<bool>& stop) {
        return Verify(client, topics.output, demo, stop);
      });
}

}  // namespace
}  // namespace brook

int main(int argc, char** argv) {
  brook::examples::ParseExampleCommandLine(
      argc, argv,
      "joins orders with their payments within a time window, exactly once, "
      "with Brook's DSL.\nWith no --input_topic it creates the topics and "
      "writes demo orders and payments.");
  return brook::examples::ExampleMain(argv[0], "join_example", brook::Run);
}
