#pragma once
/// @file
/// The argument checks the torch modules share, each throwing std::invalid_argument that names
/// the place, the argument and what was expected:
///
///   require_positive(where, {{"hidden", h}, ...})   every size ≥ 1
///   require_images(where, x, C)                     x is [B, C, H, W]
///   require_last_dim(where, x, D, "z")              x is [..., D] (or [N, D] with `rank`)
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::detail {

struct named_size {
  const char* name;
  std::int64_t value;
};

/// Throws "WHERE: NAME must be positive, got VALUE" for the first size below 1.
inline void require_positive(const std::string& where, std::initializer_list<named_size> sizes) {
  for (const named_size& s : sizes)
    if (s.value < 1)
      throw std::invalid_argument(where + ": " + s.name + " must be positive, got " + std::to_string(s.value));
}

/// Throws unless x is a batch of images [B, channels, H, W].
inline void require_images(const char* where, const at::Tensor& x, std::int64_t channels) {
  if (x.dim() != 4 || x.size(1) != channels)
    throw std::invalid_argument(std::string(where) + ": expected input [B, " + std::to_string(channels) + ", H, W], got " +
                                std::string(c10::str(x.sizes())));
}

/// Throws unless x's last dimension is `size` and, for rank > 0, x has exactly `rank` dimensions.
inline void require_last_dim(const char* where, const at::Tensor& x, std::int64_t size, const char* what,
                             std::int64_t rank = 0) {
  if (x.dim() < 1 || x.size(-1) != size || (rank > 0 && x.dim() != rank))
    throw std::invalid_argument(std::string(where) + ": expected " + what + " [" + (rank == 2 ? "N, " : "..., ") +
                                std::to_string(size) + "], got " + std::string(c10::str(x.sizes())));
}

}  // namespace cebm::detail
