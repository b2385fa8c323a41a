// BranchedKStream<K, V>: KStream::Split(), Kafka Streams' split/branch. Each
// record goes to the first branch whose predicate holds, or to the default
// branch, or nowhere.
//
//   std::map<std::string, KStream<S, S>> branches =
//       stream.Split(Named::As("kind-"))
//           .Branch([](const S&, const S& v) { return v == "a"; },
//                   Branched::As("a"))
//           .Branch([](const S&, const S& v) { return v == "b"; })
//           .DefaultBranch();
//   // keys: "kind-a", "kind-2" (unnamed: the prefix and the branch's
//   // position from 1), "kind-0" (the default branch, unnamed)
//
// Each branch is a stateless node (named by its key) that evaluates the
// predicates before its own again, so a record costs up to one call per
// branch and predicate before it; predicates must be free of side effects.
//
// Threading model: build on one thread.
#ifndef BROOK_OPERATORS_BRANCHED_KSTREAM_H_
#define BROOK_OPERATORS_BRANCHED_KSTREAM_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/operators/internal/functions.h"
#include "brook/operators/internal/fused_node.h"
#include "brook/operators/options.h"
#include "brook/runtime/record.h"

namespace brook {

template <typename K, typename V>
class KStream;

// The name of a branch: the map key is the Split() prefix and this name.
struct Branched {
  std::string name;
  static Branched As(std::string name) { return Branched{std::move(name)}; }
};

template <typename K, typename V>
class BranchedKStream {
 public:
  template <typename P>
  BranchedKStream& Branch(P predicate, const Branched& branched = {}) {
    static_assert(internal::kTakesKeyValue<K, V, P>,
                  "Branch: the predicate must be callable as "
                  "bool(const K&, const V&) (either may be std::optional)");
    Test test = [predicate](const Record<K, V>& r) mutable {
      return internal::CanCallKeyValue<K, V, P>(r) &&
             static_cast<bool>(internal::CallKeyValue<K, V>(predicate, r));
    };
    const std::string name =
        prefix_ + (branched.name.empty() ? absl::StrCat(tests_.size() + 1)
                                         : branched.name);
    tests_.push_back(test);
    AddBranch(name, /*own=*/true);
    return *this;
  }

  // The records no branch took, under prefix + (name or "0"); ends the
  // split.
  std::map<std::string, KStream<K, V>> DefaultBranch(
      const Branched& branched = {}) {
    AddBranch(prefix_ + (branched.name.empty() ? "0" : branched.name),
              /*own=*/false);
    return std::move(branches_);
  }

  // Ends the split without a default branch.
  std::map<std::string, KStream<K, V>> NoDefaultBranch() {
    return std::move(branches_);
  }

 private:
  template <typename, typename>
  friend class KStream;
  using Test = std::function<bool(const Record<K, V>&)>;

  BranchedKStream(const KStream<K, V>& stream, std::string prefix)
      : stream_(stream), prefix_(std::move(prefix)) {}

  // A branch that takes what every earlier test rejects and, if `own`, what
  // the last test accepts.
  void AddBranch(const std::string& name, bool own) {
    std::vector<Test> earlier = tests_;
    Test mine;
    if (own) {
      mine = earlier.back();
      earlier.pop_back();
    }
    internal::Step step = [earlier, mine](const void* in,
                                          const internal::Next& next) mutable {
      const auto& r = *static_cast<const Record<K, V>*>(in);
      for (Test& t : earlier) {
        if (t(r)) return absl::OkStatus();
      }
      if (mine && !mine(r)) return absl::OkStatus();
      return next(in);
    };
    branches_.emplace(
        name, stream_.template Then<K, V>(name, std::move(step),
                                          KStream<K, V>::KeyChange::kKeeps));
  }

  KStream<K, V> stream_;
  const std::string prefix_;
  std::vector<Test> tests_;
  std::map<std::string, KStream<K, V>> branches_;
};

}  // namespace brook

#endif  // BROOK_OPERATORS_BRANCHED_KSTREAM_H_
