#pragma once
/// @file
/// A progress display: on a terminal one line redrawn in place (iteration, rate, ETA, the given
/// values); otherwise (CI, log files) a plain line every `every` calls. A disabled display (the
/// ranks other than 0 of a data-parallel run) only keeps the rate.
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
        tty_(enabled && isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}

  /// `done` iterations finished, `since` of them in this process; `values` is shown as is.
  void update(std::int64_t done, std::int64_t since, const std::string& values) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    rate_ = since > 0 && secs > 0 ? since / secs : 0;
    const double eta = rate_ > 0 ? (total_ - done) / rate_ : 0;
    if (!enabled_) return;
    if (tty_) {
      std::fprintf(stderr, "\r[%s %lld/%lld] %.2f it/s, ETA %.0fs | %s\033[K", label_.c_str(), (long long)done,
                   (long long)total_, rate_, eta, values.c_str());
      if (done >= total_) std::fprintf(stderr, "\n");
    } else if (done % every_ == 0 || done >= total_) {
      std::fprintf(stderr, "[%s %lld/%lld] %.2f it/s, ETA %.0fs | %s\n", label_.c_str(), (long long)done,
                   (long long)total_, rate_, eta, values.c_str());
    }
    std::fflush(stderr);
  }
  double rate() const { return rate_; }

 private:
  std::int64_t total_, every_;
  std::string label_;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point start_;
  double rate_ = 0;
};

}  // namespace cebm::train
