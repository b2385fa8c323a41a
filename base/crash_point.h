// Named crash points, after RocksDB's kill points: a test sets
// BROOK_CRASH_POINT=<name> in a child process's environment, and the process
// dies with SIGKILL (as kill -9 would kill it) the n-th time it reaches that
// point, n = BROOK_CRASH_POINT_HITS (default 1). With
// BROOK_CRASH_POINT_ARM_FILE=<path>, passes before <path> exists do not count:
// a test lets the process reach a known state, creates the file, and the next
// pass kills it (no guessing how many passes the first phase takes). Before
// dying the process logs "crash point <name> reached", its last words, which
// tests assert. In production the variable is unset and a crash point costs
// one string comparison with an empty name.
//
// With BROOK_CRASH_POINT_ACTION=stop the process freezes at the point
// instead of dying: it logs "crash point <name> reached: stopping the
// process" and raises SIGSTOP, which stops every thread (librdkafka's
// heartbeats too), as a long GC pause or a suspended VM would. The test
// sends SIGCONT, and the process goes on from that exact step: this is how
// a zombie is made that resumes in the middle of a commit.
//
// The commit protocol's points, in the order a commit reaches them:
//   commit.after_produce        outputs and changelog records sent, offsets not
//                               (runtime/internal/task_manager.cc)
//   commit.after_send_offsets   offsets sent to the transaction, not committed
//                               (runtime/internal/streams_producer.cc)
//   commit.inside               CommitTransaction()'s EndTxn(commit) response
//                               has arrived from the transaction coordinator
//                               and librdkafka has not parsed it yet: the
//                               broker committed, the process never learns it
//                               (kafka/internal/rdkafka_producer.cc hooks it
//                               with an on_response_received interceptor)
//   commit.before_store_write   Kafka transaction committed, stores not written
//                               (runtime/internal/task_manager.cc)
// At the first two the task manager flushes the open transaction first
// (only when a test arms one of them), so that its records are in the log
// and the broker has something to abort.
// Threading model: thread-safe.
#ifndef BROOK_BASE_CRASH_POINT_H_
#define BROOK_BASE_CRASH_POINT_H_

#include "absl/strings/string_view.h"

namespace brook {

// Dies with SIGKILL (or stops, see BROOK_CRASH_POINT_ACTION) if `name` is
// the armed crash point and its hit count is reached.
void CrashPoint(absl::string_view name);

// As above; `where` is added to the last words (the exact step, for a point
// reached inside a library's thread).
void CrashPoint(absl::string_view name, absl::string_view where);

// True if BROOK_CRASH_POINT names `name`, armed or not yet: code that needs
// a hook installed to reach a point (a librdkafka interceptor) installs it
// only then.
bool CrashPointSet(absl::string_view name);

}  // namespace brook

#endif  // BROOK_BASE_CRASH_POINT_H_
