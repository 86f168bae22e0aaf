#pragma once
/// @file
/// `class_names(dataset, classes)`: what label k of a shipped dataset (datasets.hpp) stands for, for
/// plots and reports:
///
///   mnist, svhn     "0" … "9" (SVHN's label 10 is read as the digit 0, svhn.hpp)
///   fashion_mnist   T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
///                   Ankle boot (Xiao, Rasul & Vollgraf 2017, zalandoresearch/fashion-mnist)
///   cifar10         airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck
///                   (Krizhevsky 2009, batches.meta.txt of the binary distribution)
///
/// Any other dataset (a `folder` one, a user's registration) gets the label numbers. Kept apart
/// from the registry so that the evaluation names classes without compiling the file readers.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cebm::data {

/// The names of labels 0 … classes − 1 of `dataset`: the shipped names (above) where the dataset
/// has them, the label number ("7") for the others; classes = 0 gives all of a shipped dataset's
/// names (none for an unknown dataset).
inline std::vector<std::string> class_names(const std::string& dataset, std::int64_t classes = 0) {
  if (classes < 0)
    throw std::invalid_argument("cebm::data::class_names: classes must be >= 0, got " + std::to_string(classes));
  std::vector<std::string> known;
  if (dataset == "mnist" || dataset == "svhn")
    known = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  else if (dataset == "fashion_mnist")
    known = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  else if (dataset == "cifar10")
    known = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  if (classes == 0) return known;
  std::vector<std::string> names(static_cast<std::size_t>(classes));
  for (std::int64_t k = 0; k < classes; ++k)
    names[k] = k < static_cast<std::int64_t>(known.size()) ? known[k] : std::to_string(k);
  return names;
}

}  // namespace cebm::data
