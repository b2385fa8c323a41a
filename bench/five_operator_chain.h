// The chain fusion_bench and dsl_bench measure: five cheap stateless
// operators (filter, mapValues, filter, mapValues, peek) written with the
// DSL, and the same logic hand-written as one processor.
// Threading model: the peek adds to a global without synchronization; the
// benchmarks run one stream thread.
#ifndef BROOK_BENCH_FIVE_OPERATOR_CHAIN_H_
#define BROOK_BENCH_FIVE_OPERATOR_CHAIN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "brook/operators/streams_builder.h"

namespace brook::bench {

// What the peeks saw, so that the compiler keeps them.
inline int64_t g_peeked = 0;

// input -> filter(non-empty) -> mapValues(size) -> filter(size % 7 != 0)
// -> mapValues(* 2) -> peek -> output (int64 values).
inline absl::StatusOr<Topology> FiveOperatorChain(const std::string& input,
                                                  const std::string& output,
                                                  bool fuse) {
  using S = std::string;
  StreamsBuilder b({.fuse_stateless = fuse});
  b.Stream<S, S>(input)
      .Filter([](const S&, const S& v) { return !v.empty(); })
      .MapValues([](const S& v) { return static_cast<int64_t>(v.size()); })
      .Filter([](const S&, int64_t n) { return n % 7 != 0; })
      .MapValues([](int64_t n) { return n * 2; })
      .Peek([](const S&, int64_t n) { g_peeked += n; })
      .To(output);
  return b.Build();
}

class HandWrittenChain final
    : public Processor<std::string, std::string, std::string, int64_t> {
 public:
  absl::Status Init(ProcessorContext<std::string, int64_t>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, std::string>& r) override {
    if (!r.key || !r.value || r.value->empty()) return absl::OkStatus();
    const int64_t n = static_cast<int64_t>(r.value->size());
    if (n % 7 == 0) return absl::OkStatus();
    Record<std::string, int64_t> out{r.key, n * 2, r.timestamp_ms, r.headers};
    g_peeked += *out.value;
    return context_->Forward(out);
  }

 private:
  ProcessorContext<std::string, int64_t>* context_ = nullptr;
};

// The same chain as one processor node between a source and a sink.
inline Topology HandWrittenChainTopology(const std::string& input,
                                         const std::string& output) {
  using S = std::string;
  Topology t;
  t.AddSource<S, S>("in", {input}, Serdes::String(), Serdes::String())
      .AddProcessor<S, S, S, int64_t>(
          "hand", [] { return std::make_unique<HandWrittenChain>(); }, {"in"})
      .AddSink<S, int64_t>("out", output, Serdes::String(), Serdes::Int64(),
                           {"hand"});
  return t;
}

}  // namespace brook::bench

#endif  // BROOK_BENCH_FIVE_OPERATOR_CHAIN_H_
