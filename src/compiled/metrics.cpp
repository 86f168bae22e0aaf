// Compiled once for cebm::compiled: 1-NN, detection metrics and PCA.
#include "cebm/torch/metrics/nearest_neighbor_impl.hpp"
#include "cebm/torch/metrics/ood_detection_impl.hpp"
#include "cebm/torch/metrics/pca_impl.hpp"
