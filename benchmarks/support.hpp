#pragma once
// What several benchmark programs share: the sizes and random inputs of the family benchmarks, the
// bundled programs' allocator settings, resident memory, and the FLOP count of the CEBM encoder.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <cstdint>
#include <random>
#include <vector>

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

}  // namespace cebm_bench
