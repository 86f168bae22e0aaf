// Compiled once for cebm::compiled: cebm::nn::conv2d with its few-channel input gradient, and the
// convolution-Swish stack of the CEBM and IGEBM trunks with its direct oneDNN path (the plan cache,
// the primitives and their autograd function).
#include "cebm/torch/nn/conv_impl.hpp"
#include "cebm/torch/nn/detail/conv_swish_stack_impl.hpp"
