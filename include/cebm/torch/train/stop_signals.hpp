#pragma once
/// @file
/// Stopping a run cleanly on SIGINT or SIGTERM. A program calls `install_stop_signals()`; the
/// first signal only sets a flag, which the trainers' run loop reads after each iteration: it
/// writes `last.pt` and throws `interrupted_error` (the program's exit status is then 128 + the
/// signal, as a shell reports a process killed by it). A second signal ends the process at once.
#include <signal.h>

#include <atomic>
#include <stdexcept>
#include <string>

namespace cebm::train {

/// The signal that asked the run to stop (0: none).
inline std::atomic<int>& stop_signal() {
  static std::atomic<int> signal{0};
  return signal;
}

/// A run stopped by `stop_signal()`: `last.pt` holds its state.
struct interrupted_error : std::runtime_error {
  interrupted_error(const std::string& what, int signal) : std::runtime_error(what), signal(signal) {}
  int signal;
};

namespace detail {
inline void on_stop_signal(int sig) {
  if (stop_signal().exchange(sig) != 0) {  // the second: the default action, now
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}
}  // namespace detail

/// SIGINT and SIGTERM set `stop_signal()` (the first time) instead of ending the process.
inline void install_stop_signals() {
  stop_signal();  // constructed before any handler can read it
  struct sigaction action {};
  action.sa_handler = detail::on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace cebm::train
