#include "runtime/copier.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "base/logging.h"
#include "base/status_macros.h"
#include "kafka/errors.h"

namespace brook {
namespace {

constexpr absl::Duration kPollTimeout = absl::Milliseconds(10);
constexpr absl::Duration kRetryBackoff = absl::Milliseconds(100);

// Calls `fn` until it succeeds, fails with a non-retriable error, or
// `timeout` has passed since the first call.
template <typename Fn>
absl::Status RetryWhileRetriable(absl::Duration timeout, Fn fn) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Status s = fn();
    if (!IsRetriable(s) || absl::Now() >= deadline) return s;
    LOG(INFO) << "retrying after: " << s;
    absl::SleepFor(kRetryBackoff);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Copier>> Copier::Create(
    const CopierOptions& options) {
  BROOK_RETURN_IF_ERROR(options.Validate());
  BROOK_ASSIGN_OR_RETURN(
      std::unique_ptr<StateDirectory> state_dir,
      StateDirectory::Open(options.state_dir, options.application_id));
  std::unique_ptr<Copier> copier(new Copier(options, std::move(state_dir)));
  BROOK_RETURN_IF_ERROR(copier->CreateClients());
  return copier;
}

Copier::Copier(CopierOptions options, std::unique_ptr<StateDirectory> state_dir)
    : options_(std::move(options)),
      state_dir_(std::move(state_dir)),
      transactional_id_(absl::StrCat(options_.application_id, "-",
                                     state_dir_->process_id(), "-0")) {}

Copier::~Copier() {
  // The consumer's close runs the revocation callback, which uses producer_.
  consumer_.reset();
  producer_.reset();
}

absl::Status Copier::CreateClients() {
  ClientConfig admin_config = {
      {"bootstrap.servers", options_.bootstrap_servers}};
  BROOK_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin,
                         Admin::Create(admin_config));
  for (const auto& [key, topic] :
       {std::pair{"input.topic", options_.input_topic},
        std::pair{"output.topic", options_.output_topic}}) {
    absl::StatusOr<int32_t> partitions =
        admin->PartitionCount(topic, absl::Seconds(10));
    if (!partitions.ok()) {
      return absl::Status(
          partitions.status().code(),
          absl::StrCat("'", key, "': ", partitions.status().message()));
    }
  }

  // A short client.id that is unique per process (librdkafka #4800, #4689).
  const std::string client_id = absl::StrCat(
      options_.application_id, "-", state_dir_->process_id().substr(0, 8));
  ClientConfig consumer_config = {
      {"bootstrap.servers", options_.bootstrap_servers},
      {"group.id", options_.application_id},
      {"client.id", client_id + "-c0"},
      {"isolation.level", "read_committed"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"socket.nagle.disable", "true"},
  };
  for (const auto& [k, v] : options_.consumer_config) consumer_config[k] = v;
  BROOK_ASSIGN_OR_RETURN(consumer_, Consumer::Create(consumer_config, this));

  ClientConfig producer_config = {
      {"bootstrap.servers", options_.bootstrap_servers},
      {"client.id", client_id + "-p0"},
      {"socket.nagle.disable", "true"},
      {"linger.ms", "5"},
  };
  if (exactly_once()) {
    producer_config["transactional.id"] = transactional_id_;
    producer_config["transaction.timeout.ms"] =
        absl::StrCat(absl::ToInt64Milliseconds(options_.transaction_timeout));
  }
  for (const auto& [k, v] : options_.producer_config) producer_config[k] = v;
  BROOK_ASSIGN_OR_RETURN(producer_, Producer::Create(producer_config));
  return absl::OkStatus();
}

absl::Status Copier::Run(const std::atomic<bool>& stop) {
  if (exactly_once()) {
    // Fences any earlier producer with our transactional.id and aborts the
    // transaction it left open.
    BROOK_RETURN_IF_ERROR(
        RetryWhileRetriable(options_.client_call_timeout, [&] {
          return producer_->InitTransactions(options_.client_call_timeout);
        }));
  }
  BROOK_RETURN_IF_ERROR(consumer_->Subscribe({options_.input_topic}));
  LOG(INFO) << "copier " << transactional_id_ << " copying "
            << options_.input_topic << " -> " << options_.output_topic << " ("
            << ProcessingGuaranteeName(options_.guarantee) << ", commit every "
            << absl::FormatDuration(options_.EffectiveCommitInterval()) << ")";

  const absl::Duration interval = options_.EffectiveCommitInterval();
  while (!stop.load(std::memory_order_relaxed)) {
    BROOK_ASSIGN_OR_RETURN(std::optional<ConsumerRecord> record,
                           consumer_->Poll(kPollTimeout));
    if (!callback_error_.ok())
      return std::exchange(callback_error_, absl::OkStatus());
    if (record.has_value()) BROOK_RETURN_IF_ERROR(Process(*record));
    if (uncommitted_records_ > 0 &&
        (uncommitted_records_ >= options_.commit_max_records ||
         absl::Now() - batch_start_ >= interval)) {
      BROOK_RETURN_IF_ERROR(Commit(/*rewind=*/true));
    }
  }
  BROOK_RETURN_IF_ERROR(Commit(/*rewind=*/false));
  // Leaving the group revokes the (now committed) partitions.
  absl::Status closed = consumer_->Close();
  if (!callback_error_.ok()) return callback_error_;
  return closed;
}

absl::Status Copier::Process(const ConsumerRecord& record) {
  if (uncommitted_records_ == 0) batch_start_ = absl::Now();
  if (exactly_once() && !transaction_open_) {
    BROOK_RETURN_IF_ERROR(producer_->BeginTransaction());
    transaction_open_ = true;
  }
  ProducerRecord out;
  out.topic = options_.output_topic;
  out.key = record.key;
  out.value = record.value;
  out.timestamp_ms = record.timestamp_ms > 0 ? record.timestamp_ms : 0;
  out.headers = record.headers;
  absl::Status sent = producer_->Send(out);
  if (IsTransactionAbortable(sent)) {
    LOG(WARNING) << "aborting after failed send: " << sent;
    BROOK_RETURN_IF_ERROR(Abort());
    return RewindToCommitted();
  }
  BROOK_RETURN_IF_ERROR(sent);
  next_offsets_[TopicPartition{record.topic, record.partition}] =
      record.offset + 1;
  ++uncommitted_records_;
  return absl::OkStatus();
}

absl::Status Copier::Commit(bool rewind) {
  if (uncommitted_records_ == 0 && !transaction_open_) return absl::OkStatus();
  const absl::Time start = absl::Now();
  std::vector<TopicPartitionOffset> offsets;
  offsets.reserve(next_offsets_.size());
  for (const auto& [tp, offset] : next_offsets_)
    offsets.push_back({tp, offset});

  absl::Status status;
  if (exactly_once()) {
    // Fresh group metadata: the generation changes with every rebalance, and
    // the broker fences offsets sent with a stale one (KIP-447).
    BROOK_ASSIGN_OR_RETURN(std::unique_ptr<GroupMetadata> group,
                           consumer_->GetGroupMetadata());
    status = RetryWhileRetriable(options_.client_call_timeout, [&] {
      return producer_->SendOffsetsToTransaction(offsets, *group,
                                                 options_.client_call_timeout);
    });
    if (status.ok()) {
      status = RetryWhileRetriable(options_.client_call_timeout, [&] {
        return producer_->CommitTransaction(options_.client_call_timeout);
      });
    }
    if (IsTransactionAbortable(status)) {
      LOG(WARNING) << "aborting transaction: " << status;
      BROOK_RETURN_IF_ERROR(Abort());
      return rewind ? RewindToCommitted() : absl::OkStatus();
    }
    BROOK_RETURN_IF_ERROR(status);
    transaction_open_ = false;
  } else {
    BROOK_RETURN_IF_ERROR(producer_->Flush(options_.client_call_timeout));
    BROOK_RETURN_IF_ERROR(
        RetryWhileRetriable(options_.client_call_timeout,
                            [&] { return consumer_->CommitSync(offsets); }));
  }
  stats_.records_copied.fetch_add(uncommitted_records_,
                                  std::memory_order_relaxed);
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
  stats_.commit_micros_total.fetch_add(
      absl::ToInt64Microseconds(absl::Now() - start),
      std::memory_order_relaxed);
  uncommitted_records_ = 0;
  next_offsets_.clear();
  return absl::OkStatus();
}

absl::Status Copier::Abort() {
  stats_.aborts.fetch_add(1, std::memory_order_relaxed);
  uncommitted_records_ = 0;
  next_offsets_.clear();
  if (!transaction_open_) return absl::OkStatus();
  transaction_open_ = false;
  return RetryWhileRetriable(options_.client_call_timeout, [&] {
    return producer_->AbortTransaction(options_.client_call_timeout);
  });
}

absl::Status Copier::RewindToCommitted() {
  std::vector<TopicPartition> assigned = consumer_->Assignment();
  if (assigned.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed;
  BROOK_RETURN_IF_ERROR(RetryWhileRetriable(options_.client_call_timeout, [&] {
    committed = consumer_->Committed(assigned, options_.client_call_timeout);
    return committed.status();
  }));
  for (TopicPartitionOffset& p : *committed) {
    // No committed offset yet: start over, as auto.offset.reset=earliest.
    if (p.offset < 0) p.offset = kOffsetBeginning;
  }
  LOG(INFO) << "rewound " << committed->size()
            << " partitions to their committed offsets";
  return consumer_->Seek(*committed);
}

void Copier::OnPartitionsRevoked(absl::Span<const TopicPartition> partitions,
                                 RevocationKind kind) {
  absl::Status status;
  if (kind == RevocationKind::kLost) {
    LOG(WARNING) << "assignment lost; aborting the open transaction";
    status = exactly_once() ? Abort() : absl::OkStatus();
    uncommitted_records_ = 0;
    next_offsets_.clear();
  } else {
    status = Commit(/*rewind=*/false);
  }
  LOG(INFO) << "revoked " << partitions.size() << " partitions";
  if (!status.ok() && callback_error_.ok()) callback_error_ = status;
}

void Copier::OnPartitionsAssigned(absl::Span<const TopicPartition> partitions) {
  stats_.rebalances.fetch_add(1, std::memory_order_relaxed);
  std::string names;
  for (const TopicPartition& tp : partitions)
    absl::StrAppend(&names, " ", tp.ToString());
  LOG(INFO) << "assigned" << (names.empty() ? " nothing" : names);
}

}  // namespace brook
