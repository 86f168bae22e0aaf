#pragma once
/// @file
/// Section 8 of `evaluate`: PCA of the test representations coloured by class
/// (`embedding_pca.png`) with the explained variance. Report: `embedding`.
#include <vector>

#include "cebm/torch/io/png.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/metrics/pca.hpp"

namespace cebm::eval {

inline void embedding_section(evaluation_run& r) {
  r.announce("PCA embedding of test representations");
  const pca_result p = pca(r.f_test, 2);
  data::write_png((r.dir / "embedding_pca.png").string(), scatter(p.projection, r.test.labels));
  const at::Tensor variance = p.explained_variance.to(at::kCPU, at::kDouble).contiguous();
  r.report["embedding"] = {{"method", "pca"},
                           {"image", "embedding_pca.png"},
                           {"explained_variance", std::vector<double>(variance.data_ptr<double>(),
                                                                      variance.data_ptr<double>() + variance.numel())}};
  r.timed("embedding");
}

}  // namespace cebm::eval
