// Compiled once for cebm::compiled: the dataset registry and every file format's reader it names
// (IDX, the MNIST digits' CSV and JSON, CIFAR-10's binary batches, SVHN's MAT files, image folders).
#include "cebm/torch/data/datasets_impl.hpp"
