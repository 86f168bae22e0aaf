#pragma once
/// @file
/// 1-nearest-neighbour classification in representation space (squared L2), as the CEBM paper's
/// similarity analysis: each query takes the label of its closest reference. Returns the accuracy
/// and the confusion matrix (rows: true class, normalised to sum 1), computed in chunks so memory
/// stays at chunk × references.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <Eigen/Core>

#include "cebm/config.hpp"

namespace cebm::eval {

namespace detail {
/// a · bᵀ for float matrices. On CPU through Eigen's GEMM: Debian's libtorch multiplies through the
/// reference BLAS, 9× slower on a 2000×784 by 784×10000 product (23 s against 2.6 s, 2 cores).
CEBM_INLINE at::Tensor matmul_nt(const at::Tensor& a, const at::Tensor& b);
}  // namespace detail

struct nearest_neighbor_result {
  double accuracy = 0;
  at::Tensor confusion;  ///< [classes, classes], row-normalised
  at::Tensor predicted;  ///< [queries]
};

CEBM_INLINE nearest_neighbor_result nearest_neighbor(const at::Tensor& reference, const at::Tensor& reference_labels,
                                                const at::Tensor& query, const at::Tensor& query_labels,
                                                std::int64_t classes, std::int64_t chunk = 2000);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/metrics/nearest_neighbor_impl.hpp"
#endif
