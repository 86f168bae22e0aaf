// The convolution stack of this translation unit is built without the direct oneDNN path even when
// the rest of the test program has it: its code then lives in the other inline namespace of
// config.hpp, so both versions link into one program side by side (test_conv_encoder.cpp).
// The unit is header-only (CEBM_COMPILED 0), so it compiles that version itself: cebm::compiled
// holds the one its own CEBM_WITH_ONEDNN gives.
#undef CEBM_WITH_ONEDNN
#define CEBM_WITH_ONEDNN 0
#undef CEBM_COMPILED
#define CEBM_COMPILED 0
#include "cebm/torch/nn/detail/conv_swish_stack.hpp"

namespace cebm_test {

at::Tensor conv_swish_stack_without_onednn(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                           const std::vector<std::int64_t>& strides,
                                           const std::vector<std::int64_t>& paddings) {
  static_assert(!CEBM_WITH_ONEDNN, "this translation unit is the one without oneDNN");
  return cebm::nn::detail::without_onednn::conv_swish_stack(x, weights, biases, strides, paddings);
}

}  // namespace cebm_test
