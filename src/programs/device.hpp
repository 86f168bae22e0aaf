#pragma once
// `--device` for every program: the device named, or an error that says what was expected (instead
// of c10's parse error with its stack trace) or that this libtorch cannot reach it.
#include <stdexcept>
#include <string>

#include <torch/cuda.h>
#include <torch/types.h>

namespace cebm::programs::cli {

inline torch::Device parse_device(const std::string& name) {
  torch::Device device = torch::kCPU;
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    throw std::invalid_argument("--device " + name + ": not a device (expected cpu, cuda or cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument("--device " + name + ": this libtorch has no CUDA device available");
  if (device.is_cuda() && device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw std::invalid_argument("--device " + name + ": only " + std::to_string(torch::cuda::device_count()) +
                                " CUDA device(s) visible");
  return device;
}

}  // namespace cebm::programs::cli
