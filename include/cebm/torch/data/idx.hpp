#pragma once
/// @file
/// The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed:
///   magic: 0x00 0x00 <type> <rank>, then <rank> big-endian uint32 sizes, then the data.
/// Only unsigned-byte data (type 0x08) occurs in these sets and is read here.
/// `load_fashion_mnist(dir, split)` finds Debian's copy (package dataset-fashion-mnist) by default.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

/// $CEBM_FASHION_MNIST when set (machines where the files live elsewhere), else where Debian's
/// dataset-fashion-mnist package puts them.
inline const char* default_fashion_mnist_dir() {
  const char* env = std::getenv("CEBM_FASHION_MNIST");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

/// An IDX file of unsigned bytes as a uint8 tensor with the file's dimensions.
inline at::Tensor read_idx(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() < 4) throw std::runtime_error(path + ": " + std::to_string(bytes.size()) + " bytes, too short for an IDX header");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw std::runtime_error(path + ": not an IDX file (magic number must start with two zero bytes)");
  if (bytes[2] != 0x08) {
    const char* hex = "0123456789abcdef";
    throw std::runtime_error(path + ": IDX data type 0x" + std::string{hex[bytes[2] >> 4], hex[bytes[2] & 15]} +
                             " is not supported (expected 0x08, unsigned bytes)");
  }
  const std::size_t rank = bytes[3];
  if (rank == 0 || rank > 4) throw std::runtime_error(path + ": IDX rank " + std::to_string(rank) + ", expected 1 to 4");
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) throw std::runtime_error(path + ": truncated IDX header");
  std::vector<std::int64_t> dims(rank);
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint8_t* p = bytes.data() + 4 + 4 * d;
    dims[d] = (std::int64_t(p[0]) << 24) | (std::int64_t(p[1]) << 16) | (std::int64_t(p[2]) << 8) | std::int64_t(p[3]);
  }
  for (std::size_t d = 0; d < rank; ++d) {  // the product, refusing one past what a tensor can hold
    const auto n = static_cast<std::uint64_t>(dims[d]);
    if (n != 0 && count > static_cast<std::uint64_t>(INT64_MAX) / n)
      throw std::runtime_error(path + ": IDX dimensions " + std::string(c10::str(at::IntArrayRef(dims))) +
                               " describe more than 2^63 bytes (a corrupt header?)");
    count *= n;
  }
  if (bytes.size() - header != count)
    throw std::runtime_error(path + ": expected " + std::to_string(count) + " data bytes for dimensions " +
                             std::string(c10::str(at::IntArrayRef(dims))) + ", found " + std::to_string(bytes.size() - header) +
                             (bytes.size() - header < count ? " (truncated file?)" : " (trailing data)"));
  at::Tensor out = at::empty(dims, at::kByte);
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end(), out.data_ptr<std::uint8_t>());
  return out;
}

/// Images [N, 1, H, W] and labels [N] from an IDX image file (rank 3) and label file (rank 1).
inline image_dataset load_idx(const std::string& images_path, const std::string& labels_path) {
  const at::Tensor images = read_idx(images_path);
  if (images.dim() != 3)
    throw std::runtime_error(images_path + ": an image file must have rank 3 [N, H, W], found rank " + std::to_string(images.dim()));
  const at::Tensor labels = read_idx(labels_path);
  if (labels.dim() != 1)
    throw std::runtime_error(labels_path + ": a label file must have rank 1 [N], found rank " + std::to_string(labels.dim()));
  if (labels.size(0) != images.size(0))
    throw std::runtime_error(labels_path + ": " + std::to_string(labels.size(0)) + " labels for " +
                             std::to_string(images.size(0)) + " images in " + images_path);
  image_dataset d{images.unsqueeze(1), labels.to(at::kLong), images_path};
  d.validate();
  return d;
}

/// Fashion-MNIST (or MNIST: same file names) from `dir`, split "train" or "test". Looks for the
/// `.gz` files and then for uncompressed ones.
inline image_dataset load_fashion_mnist(const std::string& dir = default_fashion_mnist_dir(),
                                        const std::string& split = "train") {
  if (split != "train" && split != "test")
    throw std::invalid_argument("cebm::data::load_fashion_mnist: split must be \"train\" or \"test\", got \"" + split + "\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    namespace fs = std::filesystem;
    for (const std::string& name : {stem + ".gz", stem})
      if (fs::exists(fs::path(dir) / name)) return (fs::path(dir) / name).string();
    throw std::runtime_error(dir + ": no " + stem + ".gz or " + stem +
                             " (Fashion-MNIST; on Debian: apt-get install dataset-fashion-mnist)");
  };
  const std::string images = find(prefix + "-images-idx3-ubyte");  // images first: the likelier question
  return load_idx(images, find(prefix + "-labels-idx1-ubyte"));
}

}  // namespace cebm::data
