#pragma once
// Grids for numerical quadrature over 1-D and 2-D latents (the independent oracle for posteriors).
#include <Eigen/Core>

namespace cebm_test {

// Simpson weights on n+1 equally spaced points of [lo, hi] (n even).
inline Eigen::ArrayXd simpson_weights(double lo, double hi, int n) {
  Eigen::ArrayXd w(n + 1);
  const double h = (hi - lo) / n;
  for (int i = 0; i <= n; ++i) w(i) = h / 3 * ((i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2));
  return w;
}

// The points z (one row each, `dims` columns) of a tensor-product grid and their weights.
struct grid {
  Eigen::ArrayXXd points;
  Eigen::ArrayXd weights;
};

inline grid tensor_grid(double lo, double hi, int n, int dims) {
  const Eigen::ArrayXd w = simpson_weights(lo, hi, n);
  const int m = n + 1;
  const int count = dims == 1 ? m : m * m;
  grid g{Eigen::ArrayXXd(count, dims), Eigen::ArrayXd(count)};
  for (int i = 0; i < count; ++i) {
    const int a = i % m, b = i / m;
    g.points(i, 0) = lo + (hi - lo) * a / n;
    g.weights(i) = w(a);
    if (dims == 2) {
      g.points(i, 1) = lo + (hi - lo) * b / n;
      g.weights(i) *= w(b);
    }
  }
  return g;
}

}  // namespace cebm_test
