#pragma once
// What several benchmark programs share: the sizes and random inputs of the family benchmarks, the
// bundled programs' allocator settings, resident memory, the FLOP count of the CEBM encoder, the
// multiply-accumulates of any forward (counted from its convolutions and linear maps), and a clock
// for the phases of an iteration.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <Eigen/Core>

#include "cebm/torch/nn/conv_encoder.hpp"

namespace cebm_bench {

// Batch and latent sizes of the family and energy benchmarks (the published CEBM: 128 x 128), and
// the seed of their inputs.
inline constexpr std::uint64_t seed = 20210718;
inline const std::vector<std::int64_t> batch_sizes{16, 128, 1024};
inline const std::vector<std::int64_t> latent_sizes{16, 128, 512};

// A [rows, cols] array of U(lo, hi) doubles.
inline Eigen::ArrayXXd uniform(std::int64_t rows, std::int64_t cols, double lo, double hi, std::mt19937_64& gen) {
  std::uniform_real_distribution<double> draw(lo, hi);
  Eigen::ArrayXXd out(rows, cols);
  for (Eigen::Index i = 0; i < out.size(); ++i) out.data()[i] = draw(gen);
  return out;
}

// The allocator settings of the bundled programs (examples/train_cebm): large activation blocks
// stay mapped instead of being returned to the OS and page-faulted back every step.
inline void program_allocator_settings() {
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)once;
}

inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Resident memory now (from /proc/self/statm), for growth over many iterations.
inline double current_rss_mb() {
  long pages_total = 0, pages_resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Multiply-accumulates of one forward of the CEBM encoder (split heads) on one image.
inline double encoder_forward_macs(const cebm::nn::conv_encoder_options& o) {
  double macs = 0;
  std::int64_t in = o.in_channels(), size = o.image_size();
  const std::int64_t kernels[4] = {3, 4, 4, 4}, strides[4] = {1, 2, 2, 2};
  for (int i = 0; i < 4; ++i) {
    size = (size + 2 - kernels[i]) / strides[i] + 1;
    macs += static_cast<double>(size * size * o.channels()[i] * in * kernels[i] * kernels[i]);
    in = o.channels()[i];
  }
  const double flat = static_cast<double>(in * size * size);
  return macs + 2 * (flat * static_cast<double>(o.hidden()) + static_cast<double>(o.hidden() * o.latent_dim()));
}

// Multiply-accumulates of what `forward` runs, counted from the shapes of its convolutions
// (`aten::convolution`) and linear maps (`aten::linear`), as ../shared/bench/benchutil.py's
// `count_forward_macs` counts nn.Conv2d and nn.Linear; activations, pooling, normalisation and the
// spectral norm's power iteration are left out, as there. Run it on one image.
inline double forward_macs(const std::function<void()>& forward) {
  static thread_local double macs = 0;
  macs = 0;
  auto count = [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
    const std::string name = fn.name();
    const auto in = fn.inputs();
    if (name == "aten::convolution" && in.size() >= 9 && in[0].isTensor() && in[1].isTensor()) {
      const at::Tensor &x = in[0].toTensor(), &w = in[1].toTensor();
      const auto stride = in[3].toIntVector(), padding = in[4].toIntVector(), dilation = in[5].toIntVector();
      double out = static_cast<double>(x.size(0) * w.size(0));
      for (std::size_t d = 0; d < 2; ++d) {
        const std::int64_t k = w.size(2 + d);
        out *= static_cast<double>((x.size(2 + d) + 2 * padding[d] - dilation[d] * (k - 1) - 1) / stride[d] + 1);
      }
      macs += out * static_cast<double>(w.size(1) * w.size(2) * w.size(3));
    } else if (name == "aten::linear" && in.size() >= 2 && in[0].isTensor() && in[1].isTensor()) {
      macs += static_cast<double>(in[0].toTensor().numel() * in[1].toTensor().size(0));
    }
    return nullptr;
  };
  const auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(count).needsInputs(true));
  forward();
  at::removeCallback(handle);
  return macs;
}

// Milliseconds per named phase, summed over laps: `lap(name)` charges the time since the previous
// lap (or `start`) to `name`.
class phase_clock {
 public:
  void start() { t_ = std::chrono::steady_clock::now(); }
  void lap(const std::string& name) {
    const auto now = std::chrono::steady_clock::now();
    ms_[name] += std::chrono::duration<double, std::milli>(now - t_).count();
    t_ = now;
  }
  const std::map<std::string, double>& ms() const { return ms_; }

 private:
  std::chrono::steady_clock::time_point t_;
  std::map<std::string, double> ms_;
};

}  // namespace cebm_bench
