#pragma once
/// @file
/// `autocast_scope`: for its lifetime, libtorch's autocast on one device type with one dtype, or
/// TF32 multiplication on CUDA, and the previous state restored at its end.
///
/// Autocast casts the inputs of the operations that gain from a lower precision (convolutions,
/// linear layers, matrix products) to `dtype` as they are dispatched, and keeps those that lose
/// accuracy (reductions such as softmax and the losses on its list) in float32. The casts of
/// parameters are cached while a scope is open; the outermost scope empties the cache when it
/// ends, so that no cast outlives an optimiser step (what `torch.autocast.__exit__` does).
///
/// The gradients are not taken inside a scope: a backward pass runs each operation in the dtype
/// its forward ran in, which autocast recorded.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "cebm/torch/precision/precision_mode.hpp"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define CEBM_AUTOCAST_BY_DEVICE_TYPE 1  // at::autocast::{is,set}_autocast_{enabled,dtype}(device_type)
#else
#define CEBM_AUTOCAST_BY_DEVICE_TYPE 0  // libtorch 1.x-2.3: per-device functions (set_cpu_enabled, ...)
#endif

namespace cebm {

namespace detail {
inline bool autocast_enabled(at::DeviceType t) {
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(t);
#else
  return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
inline void set_autocast_enabled(at::DeviceType t, bool on) {
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(t, on);
#else
  t == at::kCUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
#endif
}
inline at::ScalarType autocast_dtype(at::DeviceType t) {
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(t);
#else
  return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
inline void set_autocast_dtype(at::DeviceType t, at::ScalarType dtype) {
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(t, dtype);
#else
  t == at::kCUDA ? at::autocast::set_autocast_gpu_dtype(dtype) : at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}
}  // namespace detail

/// Whether autocast is on for CPU operations in this thread, and with which dtype: what a kernel
/// that bypasses the dispatcher (the direct oneDNN trunk) must ask before it runs float32.
inline bool cpu_autocast_enabled() { return detail::autocast_enabled(at::kCPU); }

class autocast_scope {
 public:
  /// `mode` bf16 or fp16: autocast on `device`'s type; tf32 on CUDA: TF32 in cuBLAS and cuDNN;
  /// otherwise nothing. Devices other than the CPU and CUDA are refused (std::invalid_argument).
  autocast_scope(precision_mode mode, at::Device device) : type_(device.type()) {
    if (mode == precision_mode::bf16 || mode == precision_mode::fp16) {
      if (type_ != at::kCPU && type_ != at::kCUDA)
        throw std::invalid_argument(std::string("cebm::autocast_scope: precision ") + to_string(mode) +
                                    " runs on the CPU or CUDA, not on " + device.str());
      was_enabled_ = detail::autocast_enabled(type_);
      was_dtype_ = detail::autocast_dtype(type_);
      detail::set_autocast_enabled(type_, true);
      detail::set_autocast_dtype(type_, mode == precision_mode::bf16 ? at::kBFloat16 : at::kHalf);
      at::autocast::increment_nesting();
      autocasting_ = true;
    } else if (mode == precision_mode::tf32 && type_ == at::kCUDA) {
      auto& ctx = at::globalContext();
      was_tf32_cublas_ = ctx.allowTF32CuBLAS();
      was_tf32_cudnn_ = ctx.allowTF32CuDNN();
      ctx.setAllowTF32CuBLAS(true);
      ctx.setAllowTF32CuDNN(true);
      tf32_ = true;
    }
  }
  ~autocast_scope() {
    if (autocasting_) {
      if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
      detail::set_autocast_enabled(type_, was_enabled_);
      detail::set_autocast_dtype(type_, was_dtype_);
    }
    if (tf32_) {
      auto& ctx = at::globalContext();
      ctx.setAllowTF32CuBLAS(was_tf32_cublas_);
      ctx.setAllowTF32CuDNN(was_tf32_cudnn_);
    }
  }
  autocast_scope(const autocast_scope&) = delete;
  autocast_scope& operator=(const autocast_scope&) = delete;

 private:
  at::DeviceType type_;
  bool autocasting_ = false, was_enabled_ = false, tf32_ = false, was_tf32_cublas_ = false, was_tf32_cudnn_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace cebm
