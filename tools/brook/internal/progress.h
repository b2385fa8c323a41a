// Progress: reports how far a long operation got, on stderr. On a terminal
// it redraws one bar ("[=====>     ] 12/40 stores"); otherwise (a log file,
// a pipe) it prints a plain line at most every `interval`, so logs stay
// readable.
// Threading model: owned by one thread.
#ifndef BROOK_TOOLS_BROOK_INTERNAL_PROGRESS_H_
#define BROOK_TOOLS_BROOK_INTERNAL_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"

namespace brook::tool {

class Progress {
 public:
  // `unit` names what is counted ("stores", "partitions"). The bar is drawn
  // only if `stream` is a terminal.
  Progress(FILE* stream, int64_t total, std::string unit,
           absl::Duration interval = absl::Seconds(5));
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Finishes the bar's line, if one was drawn.
  ~Progress();

  void Advance(int64_t n = 1);

 private:
  void Draw(bool force);

  FILE* const stream_;
  const int64_t total_;
  const std::string unit_;
  const absl::Duration interval_;
  const bool tty_;
  int64_t done_ = 0;
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
};

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_INTERNAL_PROGRESS_H_
