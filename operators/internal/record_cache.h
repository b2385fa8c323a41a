// CachedStore<K, V>: the record cache in front of a table-producing DSL
// store (Kafka Streams' caching key-value store), and the single way the
// DSL's table processors read, write and forward their updates.
//
// With a budget of 0 it writes through: Put() writes the store and calls the
// listener (which forwards the Change downstream) at once, one update per
// input record. With a budget, Put() only updates the cache; the store
// write (hence the changelog record) and the listener call happen once per
// key when the cache is written out:
//   - at commit, from the processor's commit hook (Flush()), before the
//     producer flush and the offsets, so both join the commit's
//     transaction;
//   - early, for the least recently used entries, when the cache is over
//     its budget after a Put().
// A written-out key gives one Change: its newest value and the value the
// store held before the first update held back (so a subtractor downstream
// undoes the right value), with the timestamp and headers of the last
// record that updated it. Reads see the cache first (read-your-writes).
// Written-out entries stay cached, clean, to serve later reads, and are
// evicted first-come when over budget.
//
// Nothing is written out on an abort, a rewind or a dirty close: the cache
// belongs to its processor, which the task drops with the rest of its
// uncommitted state.
//
// Size: each entry counts its serialized key, an estimate of its values
// (std::string: its length; other types: sizeof), its headers and a fixed
// overhead for the list and map nodes. Cheaper than serializing every value
// (which Kafka Streams' byte cache does), and exact enough for a budget.
//
// Threading model: owned by one processor, used on its task's thread.
#ifndef BROOK_OPERATORS_INTERNAL_RECORD_CACHE_H_
#define BROOK_OPERATORS_INTERNAL_RECORD_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

#include "brook/base/status_macros.h"
#include "brook/operators/internal/change.h"
#include "brook/runtime/key_value_store.h"
#include "brook/runtime/processor_context.h"
#include "brook/runtime/record.h"

namespace brook::internal {

// Whether a table's store gets a record cache (Materialized's
// WithCachingDisabled); the budget comes from statestore.cache.max.bytes.
enum class Caching { kEnabled, kDisabled };

template <typename T>
int64_t ApproximateSize(const std::optional<T>& v) {
  if (!v.has_value()) return 0;
  if constexpr (std::is_same_v<T, std::string>) {
    return static_cast<int64_t>(v->size());
  } else {
    return static_cast<int64_t>(sizeof(T));
  }
}

template <typename K, typename V>
class CachedStore {
 public:
  // Receives each update as it leaves the cache (write-through: each Put).
  using Listener = std::function<absl::Status(const Record<K, Change<V>>&)>;

  // Per entry, besides keys, values and headers: list node, map slot,
  // entry fields.
  static constexpr int64_t kEntryOverhead = 128;

  // REQUIRES: `store` outlives this; max_bytes >= 0 (0: write through).
  CachedStore(KeyValueStore<K, V>* store, int64_t max_bytes, Listener listener)
      : store_(store), max_bytes_(max_bytes), listener_(std::move(listener)) {}

  bool caching() const { return max_bytes_ > 0; }

  absl::StatusOr<std::optional<V>> Get(const K& key) {
    if (!caching()) return store_->Get(key);
    std::string bytes = store_->key_serde()->Serialize(store_->name(), key);
    if (auto it = index_.find(bytes); it != index_.end()) {
      lru_.splice(lru_.end(), lru_, it->second);
      return it->second->value;
    }
    BROOK_ASSIGN_OR_RETURN(std::optional<V> value, store_->Get(key));
    Entry& e = Insert(std::move(bytes), key);
    e.value = value;
    Resize(e);
    return value;
  }

  // Sets `key` to `value` (nullopt: deletes it) as of a record with
  // `timestamp_ms` and `headers`. `old` is the key's value as Get() gave it
  // just before. May write out least recently used entries (this one too,
  // if it alone exceeds the budget).
  absl::Status Put(const K& key, std::optional<V> value,
                   const std::optional<V>& old, int64_t timestamp_ms,
                   const std::vector<Header>& headers) {
    if (!caching()) {
      if (value.has_value()) {
        BROOK_RETURN_IF_ERROR(store_->Put(key, *value));
      } else {
        BROOK_RETURN_IF_ERROR(store_->Delete(key));
      }
      return listener_(Record<K, Change<V>>{
          key, Change<V>{std::move(value), old}, timestamp_ms, headers});
    }
    std::string bytes = store_->key_serde()->Serialize(store_->name(), key);
    Entry* e;
    if (auto it = index_.find(bytes); it != index_.end()) {
      lru_.splice(lru_.end(), lru_, it->second);
      e = &*it->second;
    } else {
      e = &Insert(std::move(bytes), key);
      e->value = old;
    }
    if (!e->dirty) {
      e->oldest = std::move(e->value);
      e->dirty = true;
    }
    e->value = std::move(value);
    e->timestamp_ms = timestamp_ms;
    e->headers = headers;
    Resize(*e);
    return EvictOverBudget();
  }

  // Writes out every dirty entry, least recently used first. The entries
  // stay cached, clean.
  absl::Status Flush() {
    for (Entry& e : lru_) {
      if (e.dirty) BROOK_RETURN_IF_ERROR(WriteOut(e));
    }
    return absl::OkStatus();
  }

  int64_t size_bytes() const { return bytes_; }
  size_t entries() const { return lru_.size(); }

 private:
  struct Entry {
    std::string key_bytes;
    K key;
    std::optional<V> value;  // the newest; nullopt: absent or deleted
    // Dirty entries: the store's value before the first update held back.
    std::optional<V> oldest;
    bool dirty = false;
    int64_t timestamp_ms = 0;
    std::vector<Header> headers;
    int64_t bytes = 0;
  };

  Entry& Insert(std::string bytes, const K& key) {
    lru_.push_back(Entry{.key_bytes = std::move(bytes), .key = key});
    auto it = std::prev(lru_.end());
    index_.emplace(absl::string_view(it->key_bytes), it);
    return *it;
  }

  void Resize(Entry& e) {
    int64_t bytes = kEntryOverhead + static_cast<int64_t>(e.key_bytes.size()) +
                    ApproximateSize(e.value) + ApproximateSize(e.oldest);
    for (const Header& h : e.headers) {
      bytes += static_cast<int64_t>(h.first.size() + h.second.size());
    }
    bytes_ += bytes - e.bytes;
    e.bytes = bytes;
  }

  absl::Status EvictOverBudget() {
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      Entry& e = lru_.front();
      if (e.dirty) BROOK_RETURN_IF_ERROR(WriteOut(e));
      bytes_ -= e.bytes;
      index_.erase(e.key_bytes);
      lru_.pop_front();
    }
    return absl::OkStatus();
  }

  // Writes a dirty entry to the store and calls the listener; then the entry
  // is clean.
  absl::Status WriteOut(Entry& e) {
    e.dirty = false;
    std::optional<V> oldest = std::move(e.oldest);
    e.oldest.reset();
    Resize(e);
    if (!e.value.has_value() && !oldest.has_value()) {
      return absl::OkStatus();  // added and deleted again: nothing to say
    }
    if (e.value.has_value()) {
      BROOK_RETURN_IF_ERROR(store_->Put(e.key, *e.value));
    } else {
      BROOK_RETURN_IF_ERROR(store_->Delete(e.key));
    }
    return listener_(Record<K, Change<V>>{e.key,
                                          Change<V>{e.value, std::move(oldest)},
                                          e.timestamp_ms, e.headers});
  }

  KeyValueStore<K, V>* const store_;
  const int64_t max_bytes_;
  const Listener listener_;
  // Least recently used first.
  std::list<Entry> lru_;
  // Keys view the entries' key_bytes.
  absl::flat_hash_map<absl::string_view, typename std::list<Entry>::iterator>
      index_;
  int64_t bytes_ = 0;
};

// The cached store of a table processor's Init(): the store named
// `store_name`, a budget of context.cache_max_bytes() (0 if `caching` is
// kDisabled), updates forwarded through `context`, and, when caching, a
// commit hook that writes the cache out.
template <typename K, typename V>
absl::StatusOr<std::unique_ptr<CachedStore<K, V>>> OpenCachedStore(
    ProcessorContext<K, Change<V>>& context, const std::string& store_name,
    Caching caching) {
  using Store = KeyValueStore<K, V>;
  BROOK_ASSIGN_OR_RETURN(Store * store,
                         context.template GetStateStore<Store>(store_name));
  const int64_t budget =
      caching == Caching::kEnabled ? context.cache_max_bytes() : 0;
  auto cached = std::make_unique<CachedStore<K, V>>(
      store, budget, [&context](const Record<K, Change<V>>& update) {
        return context.Forward(update);
      });
  if (cached->caching()) {
    context.RegisterCommitHook([c = cached.get()] { return c->Flush(); });
  }
  return cached;
}

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_RECORD_CACHE_H_
