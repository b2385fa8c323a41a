// FixedKeyProcessor: runs the user processor of KStream::ProcessValues and
// holds it to its promise not to change the key (Kafka Streams enforces
// the same with FixedKeyRecord). A record forwarded from Process() must
// carry the key of the record being processed; a record forwarded from
// anywhere else (a punctuator) is refused, since no input key is there to
// keep. A broken promise is a kFailedPrecondition error from Forward() that
// names the node, which fails the task like any processing error.
// Threading model: one instance per task, used on its stream thread.
#ifndef BROOK_OPERATORS_INTERNAL_FIXED_KEY_H_
#define BROOK_OPERATORS_INTERNAL_FIXED_KEY_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "brook/runtime/processor.h"

namespace brook::internal {

template <typename K, typename V, typename VOut>
class FixedKeyProcessor final : public Processor<K, V, K, VOut> {
 public:
  FixedKeyProcessor(std::string name,
                    std::unique_ptr<Processor<K, V, K, VOut>> inner)
      : inner_(std::move(inner)), context_(std::move(name)) {}

  absl::Status Init(ProcessorContext<K, VOut>& context) override {
    context_.outer = &context;
    return inner_->Init(context_);
  }

  absl::Status Process(const Record<K, V>& record) override {
    context_.key = &record.key;
    absl::Status s = inner_->Process(record);
    context_.key = nullptr;
    return s;
  }

  void Close() override { inner_->Close(); }

 private:
  // Passes everything to the node's context, checking the key of forwards.
  struct Context final : ProcessorContext<K, VOut> {
    explicit Context(std::string name) : name(std::move(name)) {}

    absl::Status Check(const Record<K, VOut>& record) const {
      if (key == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ProcessValues '", name,
            "' forwarded a record outside Process(); a key-preserving "
            "processor may only forward while processing a record"));
      }
      if (!(record.key == *key)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ProcessValues '", name,
            "' forwarded a record with another key than its input's; use "
            "Process() to change keys"));
      }
      return absl::OkStatus();
    }
    absl::Status Forward(const Record<K, VOut>& record) override {
      if (absl::Status s = Check(record); !s.ok()) return s;
      return outer->Forward(record);
    }
    absl::Status Forward(const Record<K, VOut>& record,
                         absl::string_view child) override {
      if (absl::Status s = Check(record); !s.ok()) return s;
      return outer->Forward(record, child);
    }
    absl::StatusOr<Cancellable> Schedule(absl::Duration interval,
                                         PunctuationType type,
                                         Punctuator punctuator) override {
      return outer->Schedule(interval, type, std::move(punctuator));
    }
    absl::StatusOr<StateStore*> GetStateStore(
        absl::string_view store) override {
      return outer->GetStateStore(store);
    }
    const std::optional<RecordMetadata>& record_metadata() const override {
      return outer->record_metadata();
    }
    const TaskId& task_id() const override { return outer->task_id(); }
    const std::string& application_id() const override {
      return outer->application_id();
    }
    int64_t current_stream_time_ms() const override {
      return outer->current_stream_time_ms();
    }
    int64_t current_system_time_ms() const override {
      return outer->current_system_time_ms();
    }
    void RequestCommit() override { outer->RequestCommit(); }
    void RegisterCommitHook(std::function<absl::Status()> hook) override {
      outer->RegisterCommitHook(std::move(hook));
    }
    void RegisterBackgroundWork(BackgroundWork work) override {
      outer->RegisterBackgroundWork(std::move(work));
    }
    int64_t cache_max_bytes() const override {
      return outer->cache_max_bytes();
    }
    void RecordDropped(DroppedRecordReason reason) override {
      outer->RecordDropped(reason);
    }

    const std::string name;
    ProcessorContext<K, VOut>* outer = nullptr;
    // The key of the record being processed; nullptr outside Process().
    const std::optional<K>* key = nullptr;
  };

  const std::unique_ptr<Processor<K, V, K, VOut>> inner_;
  Context context_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_FIXED_KEY_H_
