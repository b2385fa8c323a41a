// WindowedFold: what TimeWindowedKStream and SessionWindowedKStream share:
// naming, serdes, retention and the store of a windowed aggregation, and
// adding its processor node. The window kind brings the processor, the
// store builder and the windowed key serde.
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_INTERNAL_WINDOWED_FOLD_H_
#define BROOK_OPERATORS_INTERNAL_WINDOWED_FOLD_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/operators/internal/change.h"
#include "brook/operators/internal/graph.h"
#include "brook/operators/ktable.h"
#include "brook/operators/options.h"
#include "brook/runtime/processor.h"
#include "brook/runtime/stores.h"
#include "brook/runtime/windowed.h"

namespace brook::internal {

template <typename K, typename V>
class WindowedFold {
 public:
  // Adds the repartition before the aggregation if the grouping needs one
  // (named after `store` unless Grouped named it); returns the node the
  // aggregation reads.
  using InputFn = std::function<int(const std::string& store)>;

  WindowedFold(std::shared_ptr<DslGraph> graph, InputFn input,
               SerdePtr<K> key_serde, SerdePtr<V> value_serde)
      : graph_(std::move(graph)),
        input_(std::move(input)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  template <typename VR>
  struct Spec {
    std::string prefix;  // KSTREAM-AGGREGATE- or KSTREAM-REDUCE-
    Materialized<K, VR> materialized;
    Named named;
    absl::Status windows_valid;  // the window spec's Validate()
    int64_t min_retention_ms = 0;
    // After a window's end, when it closes: grace, + 1 ms if the end is
    // inclusive (sessions, sliding windows). For Suppress.
    int64_t close_delay_ms = 0;
    std::function<SerdePtr<Windowed<K>>(SerdePtr<K>)> windowed_serde;
    std::function<std::shared_ptr<const StoreBuilder>(
        std::string, int64_t, SerdePtr<K>, SerdePtr<VR>, StoreOptions)>
        store_builder;
    // Makes one task's processor reading `store`.
    std::function<std::unique_ptr<Processor<K, V, Windowed<K>, Change<VR>>>(
        const std::string& store)>
        processor;
  };

  template <typename VR>
  KTable<Windowed<K>, VR> Fold(Spec<VR> spec) const {
    const std::string name = graph_->NameOr(spec.named.name, spec.prefix);
    Materialized<K, VR>& m = spec.materialized;
    const std::string store =
        graph_->NameOr(m.name, spec.prefix + "STATE-STORE-");
    if (!spec.windows_valid.ok()) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          "aggregation '", name, "': ", spec.windows_valid.message())));
    }
    const int64_t retention =
        m.retention_ms > 0 ? m.retention_ms : spec.min_retention_ms;
    if (retention < spec.min_retention_ms) {
      graph_->AddError(absl::InvalidArgumentError(absl::StrCat(
          "aggregation '", name, "': Materialized retention ", retention,
          " ms is shorter than the window size + grace, ",
          spec.min_retention_ms, " ms")));
    }
    SerdePtr<K> ks = m.key_serde ? m.key_serde : key_serde_;
    SerdePtr<VR> vs =
        m.value_serde ? m.value_serde : SameOrDefault<VR, V>(value_serde_);
    CheckSerdes<K, VR>(*graph_, ks, vs,
                       absl::StrCat("aggregation '", name, "'"),
                       "Materialized");
    DslNode node;
    node.kind = DslNode::Kind::kProcessor;
    node.name = name;
    node.parents = {input_(store)};
    node.input = RecordTypes::Of<K, V>();
    node.output = RecordTypes::Of<Windowed<K>, Change<VR>>();
    node.add = [store, make = spec.processor](
                   Topology& t, const std::string& name,
                   std::vector<std::string> parents) {
      t.AddProcessor<K, V, Windowed<K>, Change<VR>>(
          name, [store, make] { return make(store); }, std::move(parents));
    };
    SerdePtr<Windowed<K>> windowed_serde;
    if (ks && vs) {
      node.stores.push_back(spec.store_builder(
          store, retention, ks, vs,
          StoreOptions{.persistent = m.store_type == StoreType::kRocksDB,
                       .logging_enabled = m.logging_enabled}));
      windowed_serde = spec.windowed_serde(ks);
    }
    const int id = graph_->Add(std::move(node));
    KTable<Windowed<K>, VR> table(graph_, id, std::move(windowed_serde),
                                  std::move(vs), store);
    table.window_close_delay_ms_ = spec.close_delay_ms;
    return table;
  }

  const SerdePtr<V>& value_serde() const { return value_serde_; }

 private:
  std::shared_ptr<DslGraph> graph_;
  InputFn input_;
  SerdePtr<K> key_serde_;
  SerdePtr<V> value_serde_;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_WINDOWED_FOLD_H_
