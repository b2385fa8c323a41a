// Processor<KIn, VIn, KOut, VOut>: a node of a topology, the processor API's
// unit of user code. Each task makes its own instances (through the
// ProcessorSupplier given to Topology::AddProcessor), so a processor needs no
// locking: it runs on one stream thread.
//
//   class Upper : public Processor<std::string, std::string,
//                                  std::string, std::string> {
//    public:
//     absl::Status Init(ProcessorContext<std::string, std::string>& c) override
//     {
//       context_ = &c;
//       return absl::OkStatus();
//     }
//     absl::Status Process(const Record<std::string, std::string>& r) override
//     {
//       std::string v = absl::AsciiStrToUpper(r.value.value_or(""));
//       return context_->Forward(r.WithKeyValue(r.key, std::optional(v)));
//     }
//    private:
//     ProcessorContext<std::string, std::string>* context_ = nullptr;
//   };
//
// An error returned from Init(), Process() or a punctuator fails the task:
// the stream thread stops, its transaction is aborted, and the application's
// uncaught-error handler decides what happens next.
#ifndef BROOK_RUNTIME_PROCESSOR_H_
#define BROOK_RUNTIME_PROCESSOR_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"

#include "brook/runtime/processor_context.h"
#include "brook/runtime/record.h"

namespace brook {

template <typename KIn, typename VIn, typename KOut = NoOutput,
          typename VOut = NoOutput>
class Processor {
 public:
  using KeyIn = KIn;
  using ValueIn = VIn;
  using KeyOut = KOut;
  using ValueOut = VOut;

  virtual ~Processor() = default;

  // Called once before the first record. `context` outlives the processor.
  virtual absl::Status Init(ProcessorContext<KOut, VOut>& context) {
    return absl::OkStatus();
  }

  virtual absl::Status Process(const Record<KIn, VIn>& record) = 0;

  // Called when the task closes, cleanly or not.
  virtual void Close() {}
};

template <typename KIn, typename VIn, typename KOut = NoOutput,
          typename VOut = NoOutput>
using ProcessorSupplier =
    std::function<std::unique_ptr<Processor<KIn, VIn, KOut, VOut>>()>;

}  // namespace brook

#endif  // BROOK_RUNTIME_PROCESSOR_H_
