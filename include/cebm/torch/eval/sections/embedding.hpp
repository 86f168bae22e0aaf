#pragma once
/// @file
/// Section 8 of `evaluate`: PCA of the test representations coloured by class, named in the legend
/// (`embedding_pca.png`, each axis with its share of the variance), and the explained variance.
/// Report: `embedding`.
#include <string>
#include <vector>

#include "cebm/torch/io/png.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/metrics/pca.hpp"

namespace cebm::eval {

inline void embedding_section(evaluation_run& r) {
  r.announce("PCA embedding of test representations");
  const pca_result p = pca(r.f_test, 2);
  const at::Tensor variance = p.explained_variance.to(at::kCPU, at::kDouble).contiguous();
  // Each component's share of the total variance (the trace of the covariance, divisor N − 1 as PCA's).
  const double total = r.f_test.to(at::kDouble).var(0, /*unbiased=*/true).sum().template item<double>();
  auto axis = [&](int k) {
    return "PC " + std::to_string(k + 1) +
           (total > 0 ? " (" + detail::percent_fixed(variance[k].template item<double>() / total) + " of the variance)" : std::string());
  };
  data::write_png((r.dir / "embedding_pca.png").string(),
                  scatter(p.projection, r.test.labels,
                          scatter_options{}
                              .classes(r.classes)
                              .class_names(r.class_names)
                              .legend(r.classes <= 20)  // more would not fit beside the plot
                              .title("PCA of the test representations (" + std::to_string(r.test.size()) + " images)")
                              .x_title(axis(0))
                              .y_title(axis(1))));
  r.report["embedding"] = {{"method", "pca"},
                           {"image", "embedding_pca.png"},
                           {"explained_variance", std::vector<double>(variance.data_ptr<double>(),
                                                                      variance.data_ptr<double>() + variance.numel())}};
  r.timed("embedding");
}

}  // namespace cebm::eval
