#pragma once
// Randomized corruption of a valid file's bytes, for the readers' fuzz tests: bit flips, byte
// writes, extreme 32-bit words, truncations, insertions, deletions and duplications, a fixed seed.
// CEBM_FORMATS_FUZZ_ITERATIONS overrides each test's number of inputs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace cebm_test {

inline std::size_t fuzz_iterations(std::size_t fallback) {
  if (const char* s = std::getenv("CEBM_FORMATS_FUZZ_ITERATIONS")) return static_cast<std::size_t>(std::strtoull(s, nullptr, 10));
  return fallback;
}

inline void mutate(std::vector<std::uint8_t>& b, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t(0) : static_cast<std::size_t>(rng() % n); };
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < ops; ++k) {
    switch (rng() % 7) {
      case 0:  // flip one bit
        if (!b.empty()) b[pick(b.size())] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!b.empty()) b[pick(b.size())] = static_cast<std::uint8_t>(rng());
        break;
      case 2: {  // write an extreme 32-bit value (sizes, types, dimensions live in such words)
        static const std::uint32_t extremes[] = {0, 1, 4, 7, 8, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff};
        if (b.size() >= 4) {
          const std::uint32_t v = extremes[rng() % (sizeof extremes / sizeof extremes[0])];
          std::memcpy(b.data() + pick(b.size() - 3), &v, 4);
        }
        break;
      }
      case 3:  // truncate
        b.resize(pick(b.size() + 1));
        break;
      case 4: {  // insert random bytes
        const std::size_t n = 1 + rng() % 16, at = pick(b.size() + 1);
        std::vector<std::uint8_t> ins(n);
        for (auto& v : ins) v = static_cast<std::uint8_t>(rng());
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 5: {  // delete a range
        if (b.empty()) break;
        const std::size_t at = pick(b.size()), n = std::min<std::size_t>(1 + rng() % 64, b.size() - at);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      default: {  // duplicate a range
        if (b.empty()) break;
        const std::size_t at = pick(b.size()), n = std::min<std::size_t>(1 + rng() % 64, b.size() - at);
        const std::vector<std::uint8_t> copy(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)), copy.begin(), copy.end());
        break;
      }
    }
  }
}

struct fuzz_tally {
  std::size_t parsed = 0, refused = 0;
  /// Every input was either parsed or refused, and the mutations reached both outcomes.
  void check_both_outcomes(std::size_t n) const {
    INFO("parsed " << parsed << ", refused " << refused);
    CHECK(parsed + refused == n);
    CHECK(parsed > 0);
    CHECK(refused > 0);
  }
};

}  // namespace cebm_test
