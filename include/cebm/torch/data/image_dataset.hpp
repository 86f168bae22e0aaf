#pragma once
/// @file
/// `image_dataset`: what every reader returns. Images stay uint8 in memory (60,000 Fashion-MNIST
/// images are 47 MB, not 188 MB as float); `transforms.hpp` turns batches into the model's scale.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::data {

struct image_dataset {
  at::Tensor images;  ///< uint8 [N, C, H, W], values 0…255
  at::Tensor labels;  ///< int64 [N]; −1 where a set has no labels
  std::string source; ///< where it came from (file or description), for messages and reports

  std::int64_t size() const { return images.defined() ? images.size(0) : 0; }
  std::int64_t channels() const { return images.size(1); }
  std::int64_t height() const { return images.size(2); }
  std::int64_t width() const { return images.size(3); }

  /// Throws unless images are uint8 [N, C, H, W] and labels int64 [N], both in host memory
  /// (batches move to the model's device; the readers, loaders and input transforms draw on the CPU).
  void validate() const {
    if ((images.defined() && !images.is_cpu()) || (labels.defined() && !labels.is_cpu()))
      throw std::invalid_argument(source + ": images and labels must be CPU tensors, got " +
                                  (images.defined() ? images.device().str() : std::string("none")) + " and " +
                                  (labels.defined() ? labels.device().str() : std::string("none")));
    if (!images.defined() || images.dim() != 4 || images.scalar_type() != at::kByte)
      throw std::invalid_argument(source + ": images must be uint8 [N, C, H, W]" +
                                  (images.defined() ? ", got " + std::string(c10::str(images.sizes())) + " " +
                                                          std::string(c10::toString(images.scalar_type()))
                                                    : std::string(", got none")));
    if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != at::kLong || labels.size(0) != images.size(0))
      throw std::invalid_argument(source + ": labels must be int64 [" + std::to_string(images.size(0)) + "]" +
                                  (labels.defined() ? ", got " + std::string(c10::str(labels.sizes())) : std::string()));
  }

  /// Rows `index` (int64 [n]) of both tensors.
  image_dataset subset(const at::Tensor& index) const {
    return {images.index_select(0, index), labels.index_select(0, index), source};
  }
};

}  // namespace cebm::data
