#pragma once
/// @file
/// The exit statuses of a program built on cebm (the bundled ones use them):
///   0 done, 1 bad flags (whatever CLI11's own code for the refusal), 2 bad input or data, 3 training diverged, 4 a distributed failure,
///   128 + the signal when SIGINT or SIGTERM stopped the run (130, 143; stop_signals.hpp).
/// `guarded(body, report)` runs a program's body and turns an escaping exception into one line for
/// `report` ("error: …") and its status.
#include <exception>
#include <functional>
#include <string>

#include "cebm/torch/distributed/process_group.hpp"
#include "cebm/torch/train/divergence_policy.hpp"
#include "cebm/torch/train/stop_signals.hpp"

namespace cebm::programs {

inline int exit_status_of(const std::exception& e) {
  if (const auto* stopped = dynamic_cast<const train::interrupted_error*>(&e)) return 128 + stopped->signal;
  if (dynamic_cast<const train::distributed_error*>(&e)) return 4;
  if (dynamic_cast<const train::divergence_error*>(&e)) return 3;
  return 2;
}

inline int guarded(const std::function<int()>& body, const std::function<void(const std::string&)>& report) {
  try {
    return body();
  } catch (const std::exception& e) {
    report(std::string("error: ") + e.what());
    return exit_status_of(e);
  }
}

}  // namespace cebm::programs
