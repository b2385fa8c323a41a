// enrich_orders: orders enriched with their customer (a stream-table join)
// and then joined with their payment within 10 minutes (a stream-stream
// join), with Brook's DSL, exactly once.
//
// Inputs, all strings:
//   --customers_topic  customer id -> customer ("Customer 7 (Lisbon)"), read
//                      as a KTable: the latest value per customer wins.
//   --input_topic      orders keyed by customer id, the value
//                      "<order id>,<details>" ("order-12,amount=37").
//   --payments_topic   payments keyed by order id.
// The record timestamp is the event time everywhere.
//
// The topology:
//   1. orders LeftJoin customers (KStream-KTable): each order with the
//      customer's value as the table holds it when the order is processed.
//      Left, not inner: an order whose customer is unknown is not dropped
//      (it is still an order to be paid); it carries "unknown-customer".
//   2. SelectKey(order id): Brook repartitions the enriched orders through
//      "<application_id>-orders-payments-left-repartition" so that they meet
//      the payments of the same order id.
//   3. LeftJoin payments (KStream-KStream) with
//      JoinWindows::OfTimeDifferenceAndGrace(--window_ms, --grace_ms)
//      .Before(0): a payment counts if it comes 0 .. 10 minutes after its
//      order. An order never paid comes out once stream time has passed its
//      window and grace, with "unpaid", and never before.
// Each result, keyed by order id, is "<order>|<customer>|<payment>", each
// side's value as it came (or "unknown-customer", "unpaid").
//
// With no --input_topic it creates "<application_id>-customers", -orders
// and -payments and writes --demo_customers customers (a minute before the
// first order), then --demo_orders orders, one per 200 ms of event time,
// about one in eleven for an unknown customer, and their payments: every
// 5th order unpaid, every 7th paid 1 ms after its window (so: unpaid), the
// rest paid within it. --until_done (generated input only) then waits until
// every paid order is joined, writes one "tick" payment per partition an
// hour and more later (it closes every window, so the unpaid orders come
// out), stops once every order has its result, reads the output back with
// read_committed, checks that every order came out exactly once with the
// right customer and payment, and prints a few.
//
//   build/examples/enrich_orders --bootstrap_servers=127.0.0.1:9092
//       --until_done
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <optional>
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
          "topic of orders keyed by customer id, value \"<order id>,...\"; "
          "empty: create <application_id>-orders, -customers and -payments "
          "and write demo input");
ABSL_FLAG(std::string, customers_topic, "",
          "topic of customers keyed by customer id (with --input_topic)");
ABSL_FLAG(std::string, payments_topic, "",
          "topic of payments keyed by order id (with --input_topic)");
ABSL_FLAG(std::string, output_topic, "",
          "topic of enriched, paid orders; empty: <application_id>-enriched");
ABSL_FLAG(int64_t, window_ms, 600000,
          "how long after an order its payment may come");
ABSL_FLAG(int64_t, grace_ms, 3600000,
          "grace period: how late (in stream time) an order or payment may "
          "come; keep it above the input's event-time span (see README)");
ABSL_FLAG(int64_t, demo_customers, 50,
          "customers to write without --input_topic");
ABSL_FLAG(int64_t, demo_orders, 3000, "orders to write without --input_topic");
ABSL_FLAG(bool, until_done, false,
          "without --input_topic: stop when every order has its result, "
          "verify the output read back with read_committed");

namespace brook {
namespace {

using S = std::string;
constexpr int64_t kDemoStepMs = 200;
constexpr char kUnknownCustomer[] = "unknown-customer";
constexpr char kUnpaid[] = "unpaid";

// The order id of an order's value "<order id>,<details>".
S OrderId(const S& order) { return order.substr(0, order.find(',')); }

absl::StatusOr<Topology> EnrichTopology(const S& orders, const S& customers,
                                        const S& payments, const S& output,
                                        int64_t window_ms, int64_t grace_ms) {
  StreamsBuilder builder;
  KTable<S, S> customer_table = builder.Table<S, S>(
      customers, Consumed<S, S>{}, Materialized<S, S>::As("customers"));
  KStream<S, S> payment_stream = builder.Stream<S, S>(payments);
  builder.Stream<S, S>(orders)
      .LeftJoin(
          customer_table,
          [](const S& order, const std::optional<S>& customer) {
            return absl::StrCat(order, "|",
                                customer.value_or(kUnknownCustomer));
          },
          Named::As("orders-customers"))
      .SelectKey([](const S& /*customer*/, const S& enriched) {
        return OrderId(enriched);
      })
      .LeftJoin(
          payment_stream,
          [](const S& enriched, const std::optional<S>& payment) {
            return absl::StrCat(enriched, "|", payment.value_or(kUnpaid));
          },
          JoinWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(window_ms),
                                                absl::Milliseconds(grace_ms))
              .Before(absl::ZeroDuration()),
          StreamJoined<S, S, S>{}
              .WithName("orders-payments")
              .WithStoreName("orders-payments"))
      .To(output);
  return builder.Build();
}

struct Topics {
  S orders, customers, payments, output;
};

// The demo input, and what it should give: order id -> result.
struct Demo {
  std::vector<ProducerRecord> customers, orders, payments, ticks;
  std::map<S, S> expected;
  int64_t paid = 0;  // orders joined with a payment
};

// The demo (see the file comment). The ticks, one payment per partition of
// the payments topic, close every window in every task of the join.
Demo MakeDemo(int64_t num_customers, int64_t n, int64_t window_ms,
              int64_t grace_ms, int32_t partitions, const Topics& topics) {
  static constexpr const char* kCities[] = {"Lisbon", "Oslo", "Quito", "Hanoi",
                                            "Accra"};
  Demo d;
  const int64_t start_ms = examples::DemoEventTimeStartMs();
  std::map<S, S> customer_of;
  for (int64_t c = 0; c < num_customers; ++c) {
    const S id = absl::StrCat("customer-", c);
    customer_of[id] = absl::StrCat("Customer ", c, " (", kCities[c % 5], ")");
    d.customers.push_back({.topic = topics.customers,
                           .key = id,
                           .value = customer_of[id],
                           .timestamp_ms = start_ms - 60'000});
  }
  int64_t last = start_ms;
  for (int64_t i = 0; i < n; ++i) {
    const S id = absl::StrCat("order-", i);
    // About one order in eleven has a customer the table does not hold.
    const S customer = absl::StrCat(
        "customer-", (i * 7) % (num_customers + num_customers / 10));
    const int64_t t = start_ms + i * kDemoStepMs;
    const S order = absl::StrCat(id, ",amount=", (i * 37) % 500 + 1);
    d.orders.push_back({.topic = topics.orders,
                        .key = customer,
                        .value = order,
                        .timestamp_ms = t});
    last = std::max(last, t);
    auto known = customer_of.find(customer);
    const S enriched = absl::StrCat(
        order, "|",
        known == customer_of.end() ? kUnknownCustomer : known->second);
    if (i % 5 == 4) {
      d.expected[id] = absl::StrCat(enriched, "|", kUnpaid);
      continue;
    }
    // Paid within the window (0 .. window), or every 7th 1 ms too late.
    const int64_t delay =
        i % 7 == 6 ? window_ms + 1 : (i * 7919) % (window_ms + 1);
    const S payment = absl::StrCat("payment-", i, ",card");
    d.payments.push_back({.topic = topics.payments,
                          .key = id,
                          .value = payment,
                          .timestamp_ms = t + delay});
    last = std::max(last, t + delay);
    const bool in_window = delay <= window_ms;
    d.expected[id] =
        absl::StrCat(enriched, "|", in_window ? payment : S(kUnpaid));
    if (in_window) ++d.paid;
  }
  // Payments in event-time order, as a payment service would write them.
  std::stable_sort(d.payments.begin(), d.payments.end(),
                   [](const ProducerRecord& a, const ProducerRecord& b) {
                     return a.timestamp_ms < b.timestamp_ms;
                   });
  for (int32_t p = 0; p < partitions; ++p) {
    d.ticks.push_back({.topic = topics.payments,
                       .partition = p,
                       .key = absl::StrCat("tick-", p),
                       .value = "tick",
                       .timestamp_ms = last + window_ms + grace_ms + 1000});
  }
  return d;
}

int64_t CountPaid(const std::vector<ConsumerRecord>& records) {
  int64_t paid = 0;
  for (const ConsumerRecord& r : records) {
    if (!absl::EndsWith(r.value.value_or(""), absl::StrCat("|", kUnpaid))) {
      ++paid;
    }
  }
  return paid;
}

// --until_done: waits until every paid order is joined, then writes the
// ticks (so that no order is still on its way through the repartition
// topic when stream time jumps: max.task.idle.ms waits for records already
// in an input partition, not for those an upstream task has yet to write
// there), waits for one committed result per order, then checks them and
// prints a few.
absl::Status Verify(const ClientConfig& client, const S& output,
                    const Demo& demo, const std::atomic<bool>& stop) {
  BROOK_RETURN_IF_ERROR(examples::ReadCommittedUntil(
                            client, output,
                            [&](const std::vector<ConsumerRecord>& records) {
                              return CountPaid(records) >= demo.paid;
                            },
                            stop)
                            .status());
  BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, demo.ticks));
  BROOK_ASSIGN_OR_RETURN(std::vector<ConsumerRecord> records,
                         examples::ReadCommittedUntil(
                             client, output,
                             [&](const std::vector<ConsumerRecord>& records) {
                               return records.size() >= demo.expected.size();
                             },
                             stop));
  std::map<S, std::vector<S>> got;
  for (const ConsumerRecord& r : records) {
    got[r.key.value_or("null")].push_back(r.value.value_or("null"));
  }
  int64_t problems = 0;
  for (const auto& [id, want] : demo.expected) {
    auto it = got.find(id);
    if (it == got.end() || it->second != std::vector<S>{want}) {
      if (++problems <= 5) {
        std::cerr << "enrich_orders: " << id << " expected [" << want
                  << "] got " << (it == got.end() ? 0 : it->second.size())
                  << " results"
                  << (it == got.end() ? "" : ", first " + it->second[0])
                  << "\n";
      }
    }
  }
  if (got.size() != demo.expected.size()) ++problems;
  std::cout << "a few results in " << output
            << " (read back with read_committed):\n";
  for (const char* id : {"order-0", "order-4", "order-6", "order-10"}) {
    auto it = got.find(id);
    if (it != got.end())
      std::cout << "  " << id << " " << it->second[0] << "\n";
  }
  std::cout << "verified " << records.size() << " enriched orders in " << output
            << ": "
            << (problems == 0
                    ? "each order exactly once, with its customer and payment"
                    : "MISMATCH")
            << "\n";
  if (problems != 0) {
    return absl::DataLossError(absl::StrCat("the results in ", output,
                                            " do not match the input (",
                                            problems, " problems)"));
  }
  return absl::OkStatus();
}

// Creates the three input topics and writes the demo: customers first (the
// table must hold them before the orders that need them are processed).
absl::StatusOr<Demo> WriteDemo(const examples::ExampleFlags& flags,
                               const ClientConfig& client, Topics& topics,
                               int64_t window_ms, int64_t grace_ms,
                               bool with_ticks) {
  topics.customers = flags.application_id + "-customers";
  topics.payments = flags.application_id + "-payments";
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::Create(client));
  for (const S& topic : {topics.customers, topics.payments}) {
    absl::Status s =
        admin->CreateTopic({topic, flags.partitions}, absl::Seconds(30));
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  Demo demo = MakeDemo(absl::GetFlag(FLAGS_demo_customers),
                       absl::GetFlag(FLAGS_demo_orders), window_ms, grace_ms,
                       flags.partitions, topics);
  BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, demo.customers));
  std::vector<ProducerRecord> rest = demo.orders;
  rest.insert(rest.end(), demo.payments.begin(), demo.payments.end());
  // Without --until_done the ticks go at once (an order still on its way
  // then may come too late and be dropped, counted in dropped-records).
  if (with_ticks) rest.insert(rest.end(), demo.ticks.begin(), demo.ticks.end());
  BROOK_RETURN_IF_ERROR(examples::WriteRecords(client, rest));
  std::cerr << "enrich_orders: wrote " << demo.customers.size()
            << " customers, " << demo.orders.size() << " orders and "
            << demo.payments.size() << " payments to " << topics.customers
            << ", " << topics.orders << " and " << topics.payments << "\n";
  return demo;
}

absl::Status Run() {
  const examples::ExampleFlags flags = examples::ReadExampleFlags(
      "enrich_orders", absl::GetFlag(FLAGS_input_topic),
      absl::GetFlag(FLAGS_output_topic));
  const int64_t window_ms = absl::GetFlag(FLAGS_window_ms);
  const int64_t grace_ms = absl::GetFlag(FLAGS_grace_ms);
  if (const S format = examples::DescribeFormat(); !format.empty()) {
    const examples::ExampleTopics io =
        examples::TopicNames(flags, "orders", "enriched");
    S customers = absl::GetFlag(FLAGS_customers_topic);
    S payments = absl::GetFlag(FLAGS_payments_topic);
    if (customers.empty()) customers = flags.application_id + "-customers";
    if (payments.empty()) payments = flags.application_id + "-payments";
    BROOK_ASSIGN_OR_RETURN(Topology topology,
                           EnrichTopology(io.input, customers, payments,
                                          io.output, window_ms, grace_ms));
    return examples::PrintDescription(topology, format);
  }
  BROOK_ASSIGN_OR_RETURN(const S bootstrap, examples::ResolveBootstrap(flags));
  const ClientConfig client = {{"bootstrap.servers", bootstrap}};
  const bool until_done = absl::GetFlag(FLAGS_until_done);
  Topics topics{.customers = absl::GetFlag(FLAGS_customers_topic),
                .payments = absl::GetFlag(FLAGS_payments_topic)};
  if (flags.input_topic.empty() !=
          (topics.customers.empty() && topics.payments.empty()) ||
      topics.customers.empty() != topics.payments.empty()) {
    return absl::InvalidArgumentError(
        "give --input_topic, --customers_topic and --payments_topic, or none "
        "of them (demo)");
  }
  if (until_done && !flags.input_topic.empty()) {
    return absl::InvalidArgumentError(
        "--until_done needs generated input: leave --input_topic empty");
  }
  Demo demo;
  BROOK_ASSIGN_OR_RETURN(
      examples::ExampleTopics io,
      examples::PrepareTopics(flags, client, "orders", "enriched",
                              [&](const S& orders) -> absl::Status {
                                topics.orders = orders;
                                BROOK_ASSIGN_OR_RETURN(
                                    demo,
                                    WriteDemo(flags, client, topics, window_ms,
                                              grace_ms, !until_done));
                                return absl::OkStatus();
                              }));
  topics.orders = io.input;
  topics.output = io.output;
  BROOK_ASSIGN_OR_RETURN(
      Topology topology,
      EnrichTopology(topics.orders, topics.customers, topics.payments,
                     topics.output, window_ms, grace_ms));
  std::cerr << topology.Describe();
  StreamsConfig config = examples::ExampleConfig(flags, bootstrap);
  // A task reads orders and customers together. It relies on the default
  // max_task_idle_ms (0, as Kafka Streams): it waits for an input whose lag
  // is unknown or positive; with -1, orders fetched before their customers
  // join an empty table ("unknown-customer").
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaStreams> streams,
                         KafkaStreams::Create(topology, config));
  std::cerr << "enrich_orders: enriching " << topics.orders << " with "
            << topics.customers << " and " << topics.payments << " (within "
            << window_ms << " ms) into " << topics.output
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
      "enriches orders with their customer (stream-table join) and joins "
      "them with their payment within 10 minutes (stream-stream join), "
      "exactly once, with Brook's DSL.\nWith no --input_topic it creates the "
      "topics and writes demo customers, orders and payments.");
  return brook::examples::ExampleMain(argv[0], "enrich_orders", brook::Run);
}
