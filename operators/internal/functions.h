// How the DSL calls user functions. A function may take the key and the
// value plainly (const K&, const V&) or as std::optional, each on its own.
// A function that takes a field plainly is not called for a record where
// that field is null: the operator drops the record instead (Peek and
// Foreach skip the call). Take std::optional to see nulls.
// Threading model: stateless helpers.
#ifndef BROOK_OPERATORS_INTERNAL_FUNCTIONS_H_
#define BROOK_OPERATORS_INTERNAL_FUNCTIONS_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "brook/runtime/record.h"

namespace brook::internal {

template <typename F, typename... Args>
inline constexpr bool kCallable = std::is_invocable_v<F&, Args...>;

// fn(key, value), in any of the four forms.
template <typename K, typename V, typename F>
inline constexpr bool kTakesKeyValue =
    kCallable<F, const std::optional<K>&, const std::optional<V>&> ||
    kCallable<F, const std::optional<K>&, const V&> ||
    kCallable<F, const K&, const std::optional<V>&> ||
    kCallable<F, const K&, const V&>;

// fn(value), in either form.
template <typename V, typename F>
inline constexpr bool kTakesValue =
    kCallable<F, const std::optional<V>&> || kCallable<F, const V&>;

// The same on a key and a value that are not in a Record (a table's
// Change).
template <typename K, typename V, typename F>
bool CanCallKeyValue(const std::optional<K>& key,
                     const std::optional<V>& value) {
  using OK = const std::optional<K>&;
  using OV = const std::optional<V>&;
  if constexpr (kCallable<F, OK, OV>) {
    return true;
  } else if constexpr (kCallable<F, OK, const V&>) {
    return value.has_value();
  } else if constexpr (kCallable<F, const K&, OV>) {
    return key.has_value();
  } else {
    return key.has_value() && value.has_value();
  }
}

template <typename K, typename V, typename F>
decltype(auto) CallKeyValue(F& fn, const std::optional<K>& key,
                            const std::optional<V>& value) {
  using OK = const std::optional<K>&;
  using OV = const std::optional<V>&;
  if constexpr (kCallable<F, OK, OV>) {
    return fn(key, value);
  } else if constexpr (kCallable<F, OK, const V&>) {
    return fn(key, *value);
  } else if constexpr (kCallable<F, const K&, OV>) {
    return fn(*key, value);
  } else {
    return fn(*key, *value);
  }
}

template <typename K, typename V, typename F>
bool CanCallKeyValue(const Record<K, V>& r) {
  using OK = const std::optional<K>&;
  using OV = const std::optional<V>&;
  if constexpr (kCallable<F, OK, OV>) {
    return true;
  } else if constexpr (kCallable<F, OK, const V&>) {
    return r.value.has_value();
  } else if constexpr (kCallable<F, const K&, OV>) {
    return r.key.has_value();
  } else {
    return r.key.has_value() && r.value.has_value();
  }
}

// REQUIRES: CanCallKeyValue<K, V, F>(r).
template <typename K, typename V, typename F>
decltype(auto) CallKeyValue(F& fn, const Record<K, V>& r) {
  using OK = const std::optional<K>&;
  using OV = const std::optional<V>&;
  if constexpr (kCallable<F, OK, OV>) {
    return fn(r.key, r.value);
  } else if constexpr (kCallable<F, OK, const V&>) {
    return fn(r.key, *r.value);
  } else if constexpr (kCallable<F, const K&, OV>) {
    return fn(*r.key, r.value);
  } else {
    return fn(*r.key, *r.value);
  }
}

// fn(key, value, extra) as a two-argument function of the key and value,
// so that the four forms above apply to functions with a third argument
// (KStream::To's topic name extractor).
template <typename F, typename E>
struct BindLast {
  F& fn;
  const E& extra;
  template <typename A, typename B>
  auto operator()(A&& a, B&& b) -> decltype(fn(a, b, extra)) {
    return fn(a, b, extra);
  }
};

// The same with a mutable third argument (MapValuesAsync's KeyState).
template <typename F, typename E>
struct BindLastMutable {
  F& fn;
  E& extra;
  template <typename A, typename B>
  auto operator()(A&& a, B&& b) -> decltype(fn(a, b, extra)) {
    return fn(a, b, extra);
  }
};

template <typename K, typename V, typename F>
using KeyValueResult = decltype(CallKeyValue<K, V>(
    std::declval<F&>(), std::declval<const Record<K, V>&>()));

template <typename K, typename V, typename F>
bool CanCallValue(const Record<K, V>& r) {
  return kCallable<F, const std::optional<V>&> || r.value.has_value();
}

// REQUIRES: CanCallValue<K, V, F>(r).
template <typename K, typename V, typename F>
decltype(auto) CallValue(F& fn, const Record<K, V>& r) {
  if constexpr (kCallable<F, const std::optional<V>&>) {
    return fn(r.value);
  } else {
    return fn(*r.value);
  }
}

template <typename V, typename F>
using ValueResult = decltype(CallValue<int, V>(
    std::declval<F&>(), std::declval<const Record<int, V>&>()));

// fn(value) if it takes only the value, else fn(key, value).
template <typename K, typename V, typename F>
bool CanCallValueOrKeyValue(const Record<K, V>& r) {
  if constexpr (kTakesValue<V, F>) {
    return CanCallValue<K, V, F>(r);
  } else {
    return CanCallKeyValue<K, V, F>(r);
  }
}

template <typename K, typename V, typename F>
decltype(auto) CallValueOrKeyValue(F& fn, const Record<K, V>& r) {
  if constexpr (kTakesValue<V, F>) {
    return CallValue<K, V>(fn, r);
  } else {
    return CallKeyValue<K, V>(fn, r);
  }
}

template <typename K, typename V, typename F>
using ValueOrKeyValueResult = decltype(CallValueOrKeyValue<K, V>(
    std::declval<F&>(), std::declval<const Record<K, V>&>()));

// T, or the U of std::optional<U>: a function may return an optional to
// produce a null key or value.
template <typename T>
struct Unwrap {
  using type = T;
};
template <typename T>
struct Unwrap<std::optional<T>> {
  using type = T;
};
template <typename T>
using UnwrapT = typename Unwrap<std::decay_t<T>>::type;

template <typename T>
std::optional<UnwrapT<T>> ToOptional(T&& v) {
  return std::optional<UnwrapT<T>>(std::forward<T>(v));
}

template <typename T>
struct IsPair : std::false_type {};
template <typename A, typename B>
struct IsPair<std::pair<A, B>> : std::true_type {};

}  // namespace brook::internal

#endif  // BROOK_OPERATORS_INTERNAL_FUNCTIONS_H_
