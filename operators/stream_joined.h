// StreamJoined<K, V, VO>: the serdes and store names of a KStream-KStream
// join, as in Kafka Streams. Unset serdes are the streams' own. The join
// keeps three stores, named from store_name (else the join's node name):
// "<base>-this-join-store" and "<base>-other-join-store" (each side's
// records, window stores) and, for left and outer joins,
// "<base>-outer-shared-join-store" (records not joined yet). All three are
// changelogged unless logging_enabled is false.
//
//   left.Join(right, joiner, JoinWindows::OfTimeDifferenceWithNoGrace(d),
//             StreamJoined<std::string, Order, Payment>::With(
//                 Serdes::String(), order_serde, payment_serde)
//                 .WithStoreName("orders-payments"));
//
// Threading model: plain values.
#ifndef BROOK_OPERATORS_STREAM_JOINED_H_
#define BROOK_OPERATORS_STREAM_JOINED_H_

#include <string>
#include <utility>

#include "brook/runtime/serde.h"

namespace brook {

template <typename K, typename V, typename VO>
struct StreamJoined {
  SerdePtr<K> key_serde;
  SerdePtr<V> value_serde;         // this (left) stream's values
  SerdePtr<VO> other_value_serde;  // the other (right) stream's values
  std::string store_name;          // empty: the join's node name
  std::string name;                // the join's node name; empty: generated
  bool logging_enabled = true;

  static StreamJoined With(SerdePtr<K> key_serde, SerdePtr<V> value_serde,
                           SerdePtr<VO> other_value_serde) {
    StreamJoined s;
    s.key_serde = std::move(key_serde);
    s.value_serde = std::move(value_serde);
    s.other_value_serde = std::move(other_value_serde);
    return s;
  }
  StreamJoined WithStoreName(std::string store) const {
    StreamJoined s = *this;
    s.store_name = std::move(store);
    return s;
  }
  StreamJoined WithName(std::string node_name) const {
    StreamJoined s = *this;
    s.name = std::move(node_name);
    return s;
  }
  StreamJoined WithLoggingDisabled() const {
    StreamJoined s = *this;
    s.logging_enabled = false;
    return s;
  }
};

}  // namespace brook

#endif  // BROOK_OPERATORS_STREAM_JOINED_H_
