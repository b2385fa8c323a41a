// Change<V>: what a KTable's node forwards inside the DSL: the key's new
// value and the value it replaces (nullopt: none, or deleted), so that a
// downstream table operation can undo the old value (Kafka Streams'
// Change). KTable::ToStream turns it back into plain new values.
// Threading model: a plain value.
#ifndef BROOK_OPERATORS_INTERNAL_CHANGE_H_
#define BROOK_OPERATORS_INTERNAL_CHANGE_H_

#include <optional>

namespace brook::internal {

template <typename V>
struct Change {
  std::optional<V> new_value;
  std::optional<V> old_value;

  friend bool operator==(const Change&, const Change&) = default;
};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_CHANGE_H_
