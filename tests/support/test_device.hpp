#pragma once
// The device the tests run their models and chains on: $CEBM_TEST_DEVICE (cpu, cuda, cuda:1, …),
// else the CMake setting CEBM_TEST_DEVICE that the test programs are built with, else cpu. One
// place, so the same suite runs on a GPU when one is there.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#ifndef CEBM_TEST_DEVICE_DEFAULT
#define CEBM_TEST_DEVICE_DEFAULT "cpu"
#endif

namespace cebm_test {

inline at::Device test_device() {
  static const at::Device device = [] {
    const char* env = std::getenv("CEBM_TEST_DEVICE");
    const std::string name = env && *env ? env : CEBM_TEST_DEVICE_DEFAULT;
    at::Device d = at::kCPU;
    try {
      d = at::Device(name);
    } catch (const std::exception&) {
      throw std::invalid_argument("CEBM_TEST_DEVICE: '" + name + "' is not a device (expected cpu, cuda or cuda:N)");
    }
    if (d.is_cuda() && !at::hasCUDA())
      throw std::invalid_argument("CEBM_TEST_DEVICE: " + name + ", but this libtorch has no CUDA or no GPU is visible");
    return d;
  }();
  return device;
}

}  // namespace cebm_test
