#pragma once
/// @file
/// `channel_options<Self>`: the in → out channel pair that the residual blocks' options start with
/// (`basic_block_options`, `res_block_options`), both required positive. Setters return `Self&`, so
/// they chain with the block's own options in any order.
#include <cstdint>
#include <string>

#include "cebm/core/arg.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

template <class Self>
struct channel_options {
  channel_options(std::int64_t in_channels, std::int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  CEBM_SELF_ARG(std::int64_t, in_channels);
  CEBM_SELF_ARG(std::int64_t, out_channels);

 public:
  /// Throws, naming `where`, when a channel count is below 1.
  void check_channels(const std::string& where) const {
    cebm::detail::require_positive(where, {{"in_channels", in_channels_}, {"out_channels", out_channels_}});
  }
};

}  // namespace cebm::nn
