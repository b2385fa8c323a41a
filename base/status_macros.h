// Status propagation macros. Abseil 20220623 ships Status and StatusOr but
// not the macros Google uses with them, so Brook defines its own.
//
//   BROOK_RETURN_IF_ERROR(store->Put(k, v));
//   BROOK_ASSIGN_OR_RETURN(auto count, admin->PartitionCount(topic));
//
// Both evaluate their argument once. They work in any function that returns
// absl::Status or absl::StatusOr<T>.
#ifndef BROOK_BASE_STATUS_MACROS_H_
#define BROOK_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BROOK_RETURN_IF_ERROR(expr)                \
  do {                                             \
    const absl::Status brook_status_ = (expr);     \
    if (!brook_status_.ok()) return brook_status_; \
  } while (false)

#define BROOK_STATUS_CONCAT_INNER_(a, b) a##b
#define BROOK_STATUS_CONCAT_(a, b) BROOK_STATUS_CONCAT_INNER_(a, b)

#define BROOK_ASSIGN_OR_RETURN(lhs, expr) \
  BROOK_ASSIGN_OR_RETURN_IMPL_(           \
      BROOK_STATUS_CONCAT_(brook_statusor_, __LINE__), lhs, expr)

#define BROOK_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // BROOK_BASE_STATUS_MACROS_H_
