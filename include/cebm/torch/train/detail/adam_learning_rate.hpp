#pragma once
/// @file
/// The learning rate of an Adam optimiser's first parameter group, and scaling every group's
/// (a rollback after divergence), shared by the trainers that step with Adam.
#include <torch/optim/adam.h>

namespace cebm::train::detail {

inline double adam_learning_rate(const torch::optim::Adam& optimizer) {
  return static_cast<const torch::optim::AdamOptions&>(optimizer.param_groups()[0].options()).lr();
}

inline void scale_adam_learning_rate(torch::optim::Adam& optimizer, double factor) {
  for (auto& group : optimizer.param_groups()) {
    auto& opts = static_cast<torch::optim::AdamOptions&>(group.options());
    opts.lr(opts.lr() * factor);
  }
}

}  // namespace cebm::train::detail
