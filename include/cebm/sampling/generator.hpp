#pragma once
/// @file
/// `make_generator(device, seed)`: a random-number generator of its own for draws on `device`.
///
/// ATen draws on a device only from a generator of that device (a CPU generator passed to
/// `at::normal` on CUDA tensors is an error), so chains, noise and augmentations on a GPU need a
/// GPU generator. On CUDA this is a new generator, independent of the device's default one, so
/// two streams seeded differently (the trainer's chains and its sample grids, say) never share
/// state; on other accelerators it is a copy of the device's default generator, reseeded.
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include "cebm/config.hpp"

#if CEBM_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace cebm {

inline at::Generator make_generator(at::Device device, std::uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
#if CEBM_WITH_CUDA
  if (device.is_cuda()) {
    at::Generator g = at::cuda::detail::createCUDAGenerator(device.has_index() ? device.index() : c10::cuda::current_device());
    g.set_current_seed(seed);
    return g;
  }
#endif
  at::Generator shared = at::globalContext().defaultGenerator(device);
  at::Generator g;
  {
    std::lock_guard<std::mutex> lock(shared.mutex());
    g = shared.clone();  // a copy of its own: reseeding it leaves other streams alone
  }
  g.set_current_seed(seed);
  return g;
}

/// Throws std::invalid_argument naming `where` unless `gen` draws on `x`'s device type (ATen's own
/// error for a mismatch names neither the caller nor the fix).
inline void check_generator_device(const at::Generator& gen, const at::Tensor& x, const char* where) {
  if (gen.device().type() != x.device().type())
    throw std::invalid_argument(std::string(where) + ": the generator draws on " + gen.device().str() +
                                " but the tensors are on " + x.device().str() +
                                "; pass a generator of their device (cebm::make_generator(device, seed))");
}

}  // namespace cebm
