// NodeSpec: how a Topology records one node before it is built: its name,
// parents, types, topics, stores, and a factory that makes a fresh node for
// each task.
// Threading model: immutable once the topology is built; the factory is
// called from stream threads and must be thread-safe.
#ifndef BROOK_RUNTIME_INTERNAL_NODE_SPEC_H_
#define BROOK_RUNTIME_INTERNAL_NODE_SPEC_H_

#include <cxxabi.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "brook/runtime/internal/processor_node.h"
#include "brook/runtime/record.h"
#include "brook/runtime/timestamp_extractor.h"

namespace brook::internal {

// A readable name for a record type, for topology errors and descriptions.
template <typename T>
std::string TypeName() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "string";
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return "int64";
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return "int32";
  } else if constexpr (std::is_same_v<T, NoOutput>) {
    return "none";
  } else {
    int status = 0;
    char* demangled =
        abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status);
    std::string name = status == 0 ? demangled : typeid(T).name();
    std::free(demangled);
    return name;
  }
}

struct RecordTypes {
  std::type_index key = typeid(void);
  std::type_index value = typeid(void);
  std::string name;  // "<string, int64>"

  template <typename K, typename V>
  static RecordTypes Of() {
    return {typeid(K), typeid(V),
            "<" + TypeName<K>() + ", " + TypeName<V>() + ">"};
  }
  bool operator==(const RecordTypes& o) const {
    return key == o.key && value == o.value;
  }
};

struct NodeSpec {
  enum class Kind { kSource, kProcessor, kSink };

  Kind kind = Kind::kProcessor;
  std::string name;
  std::vector<std::string> parents;
  RecordTypes input;   // unused for sources
  RecordTypes output;  // unused for sinks
  // Sources: the topics read, or a regex `pattern`. Sinks: the one topic,
  // or none for a sink that chooses its topic per record.
  std::vector<std::string> topics;
  std::string pattern;
  // Names of the state stores the node may use.
  std::vector<std::string> stores;
  // Sources only; empty means the application's default extractor.
  TimestampExtractor timestamp_extractor;
  std::function<std::unique_ptr<ProcessorNode>()> make;
};

}  // namespace brook::internal

#endif  // BROOK_RUNTIME_INTERNAL_NODE_SPEC_H_
