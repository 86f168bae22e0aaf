#pragma once
/// @file
/// A progress display: on a terminal one line redrawn in place (iteration, rate, ETA, the given
/// values); otherwise (CI, log files) a plain line every `every` calls. A disabled display (the
/// ranks other than 0 of a data-parallel run) only keeps the rate.
///
/// The rate is measured from the first update on: (since − since at the first update) / (seconds
/// since the first update), since a display may be created just as its first item ends (an
/// evaluation stage's first batch) or long before it (a trainer's start-up). Until a second update
/// it is unknown: 0, shown as "--".
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cebm::train {

class progress {
 public:
  progress(std::int64_t total, std::int64_t every, std::string label = "train", bool enabled = true)
      : total_(total), every_(every > 0 ? every : 1), label_(std::move(label)), enabled_(enabled),
        tty_(enabled && isatty(fileno(stderr)) != 0) {}

  /// `done` iterations finished, `since` of them in this process; `values` is shown as is.
  void update(std::int64_t done, std::int64_t since, const std::string& values) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      first_ = now;
      first_since_ = since;
    }
    const double secs = std::chrono::duration<double>(now - first_).count();
    rate_ = since > first_since_ && secs > 0 ? (since - first_since_) / secs : 0;
    if (!enabled_) return;
    char speed[64] = "-- it/s, ETA --";
    if (rate_ > 0) std::snprintf(speed, sizeof speed, "%.2f it/s, ETA %.0fs", rate_, (total_ - done) / rate_);
    if (tty_) {
      std::fprintf(stderr, "\r[%s %lld/%lld] %s | %s\033[K", label_.c_str(), (long long)done, (long long)total_, speed,
                   values.c_str());
      if (done >= total_) std::fprintf(stderr, "\n");
    } else if (done % every_ == 0 || done >= total_) {
      std::fprintf(stderr, "[%s %lld/%lld] %s | %s\n", label_.c_str(), (long long)done, (long long)total_, speed,
                   values.c_str());
    }
    std::fflush(stderr);
  }
  /// Iterations per second since the first update; 0 until a second one.
  double rate() const { return rate_; }

 private:
  std::int64_t total_, every_;
  std::string label_;
  bool enabled_, tty_;
  bool started_ = false;
  std::chrono::steady_clock::time_point first_;
  std::int64_t first_since_ = 0;
  double rate_ = 0;
};

}  // namespace cebm::train
