#include "tools/brook/internal/progress.h"

#include <unistd.h>

#include <algorithm>

#include "absl/time/clock.h"

namespace brook::tool {

namespace {
constexpr int kBarWidth = 30;
}  // namespace

Progress::Progress(FILE* stream, int64_t total, std::string unit,
                   absl::Duration interval)
    : stream_(stream),
      total_(total),
      unit_(std::move(unit)),
      interval_(interval),
      tty_(isatty(fileno(stream)) == 1) {}

Progress::~Progress() {
  if (total_ > 0 && done_ < total_) return;  // the caller gave up
  Draw(/*force=*/true);
  if (tty_ && drawn_) std::fputc('\n', stream_);
}

void Progress::Advance(int64_t n) {
  done_ += n;
  Draw(/*force=*/false);
}

void Progress::Draw(bool force) {
  const absl::Time now = absl::Now();
  // A terminal redraws often; a log gets a line every interval_.
  const absl::Duration every = tty_ ? absl::Milliseconds(100) : interval_;
  if (!force && now - last_draw_ < every) return;
  last_draw_ = now;
  drawn_ = true;
  const int64_t total = std::max<int64_t>(total_, 1);
  if (tty_) {
    const int filled =
        static_cast<int>(kBarWidth * std::min(done_, total) / total);
    std::string bar(filled, '=');
    if (filled < kBarWidth) bar += '>';
    bar.resize(kBarWidth, ' ');
    std::fprintf(stream_, "\r[%s] %lld/%lld %s", bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_),
                 unit_.c_str());
  } else {
    std::fprintf(stream_, "progress: %lld/%lld %s\n",
                 static_cast<long long>(done_), static_cast<long long>(total_),
                 unit_.c_str());
  }
  std::fflush(stream_);
}

}  // namespace brook::tool
