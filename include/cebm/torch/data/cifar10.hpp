#pragma once
/// @file
/// CIFAR-10 in its binary distribution (`cifar-10-binary.tar.gz` → `cifar-10-batches-bin/`):
/// `data_batch_1.bin` … `data_batch_5.bin` (50,000 training images) and `test_batch.bin` (10,000).
/// A batch is a plain sequence of 3073-byte records, no header:
///
///   byte 0          label 0…9
///   bytes 1…1024    red   plane, 32 rows of 32, row-major
///   bytes 1025…2048 green plane
///   bytes 2049…3072 blue  plane
///
/// so a record is already channel-major and becomes one [3, 32, 32] image without reordering.
/// Reference: Krizhevsky, "Learning multiple layers of features from tiny images" (2009), and
/// https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

namespace detail {

inline constexpr std::size_t cifar10_image_bytes = 3 * 32 * 32;
inline constexpr std::size_t cifar10_record_bytes = 1 + cifar10_image_bytes;

/// Decodes the bytes of one batch; `source` names the file in messages.
inline image_dataset parse_cifar10_batch(const std::uint8_t* bytes, std::size_t size, const std::string& source) {
  if (size == 0) throw std::runtime_error(source + ": empty file, expected 3073-byte CIFAR-10 records");
  if (size % cifar10_record_bytes != 0) {
    std::string hint = size % (cifar10_record_bytes + 1) == 0
                           ? " (it is a multiple of 3074: this looks like CIFAR-100, which has two label bytes)"
                           : " (truncated, or not a CIFAR-10 binary batch)";
    throw std::runtime_error(source + ": size " + std::to_string(size) +
                             " bytes is not a multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixel bytes)" +
                             hint);
  }
  const auto n = static_cast<std::int64_t>(size / cifar10_record_bytes);
  at::Tensor images = at::empty({n, 3, 32, 32}, at::kByte);
  at::Tensor labels = at::empty({n}, at::kLong);
  auto* img = images.data_ptr<std::uint8_t>();
  auto* lab = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* record = bytes + static_cast<std::size_t>(i) * cifar10_record_bytes;
    if (record[0] > 9)
      throw std::runtime_error(source + ": record " + std::to_string(i) + " (byte offset " +
                               std::to_string(static_cast<std::size_t>(i) * cifar10_record_bytes) + ") has label " +
                               std::to_string(record[0]) + ", expected 0…9; not a CIFAR-10 binary batch?");
    lab[i] = record[0];
    std::memcpy(img + static_cast<std::size_t>(i) * cifar10_image_bytes, record + 1, cifar10_image_bytes);
  }
  return {images, labels, source};
}

}  // namespace detail

/// One batch file (gzip-compressed files are read transparently) as uint8 [N, 3, 32, 32] with
/// labels 0…9. Throws std::runtime_error naming the file when it cannot be read, its size is not a
/// whole number of records, or a label is out of range.
inline image_dataset read_cifar10_batch(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  return detail::parse_cifar10_batch(bytes.data(), bytes.size(), path);
}

/// The training split (`split = "train"`: the five data batches in order, 50,000 images) or the
/// test split (`"test"`: `test_batch.bin`) of the CIFAR-10 binary version. `dir` is the extracted
/// `cifar-10-batches-bin` folder, or the folder that contains it.
inline image_dataset load_cifar10(const std::string& dir, const std::string& split = "train") {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  if (split == "train") {
    for (int b = 1; b <= 5; ++b) names.push_back("data_batch_" + std::to_string(b) + ".bin");
  } else if (split == "test") {
    names.push_back("test_batch.bin");
  } else {
    throw std::invalid_argument("load_cifar10: split must be \"train\" or \"test\", got \"" + split + "\"");
  }
  fs::path root(dir);
  if (!fs::exists(root / names.front()) && fs::exists(root / "cifar-10-batches-bin" / names.front()))
    root /= "cifar-10-batches-bin";

  std::vector<at::Tensor> images, labels;
  for (const auto& name : names) {
    const fs::path file = root / name;
    if (!fs::is_regular_file(file))
      throw std::runtime_error("load_cifar10: " + file.string() + " not found; the " + split +
                               " split needs " + (split == "train" ? "data_batch_1.bin … data_batch_5.bin" : "test_batch.bin") +
                               " in " + dir + " (the binary version, cifar-10-binary.tar.gz, from "
                               "https://www.cs.toronto.edu/~kriz/cifar.html)");
    image_dataset part = read_cifar10_batch(file.string());
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  image_dataset out{images.size() == 1 ? images.front() : at::cat(images, 0),
                    labels.size() == 1 ? labels.front() : at::cat(labels, 0), root.string() + " (CIFAR-10 " + split + ")"};
  out.validate();
  return out;
}

}  // namespace cebm::data
