// Cost of the exponential-family operations themselves, across batch sizes 16, 128, 1024 and
// latent sizes 16, 128, 512 (the published CEBM is batch 128, 128 latents):
//   gaussian_log_normalizer            Σ_k B(λ_k), one value per row
//   gaussian_mean_params               ∇B(λ) = (E z, E z²), two [batch, latent] arrays
//   gaussian_bregman_divergence        Σ_k D_B(λ₁_k, λ₂_k) between two batches of parameters
//   gaussian_posterior_params          λ + t(x), a bias row broadcast over the batch (CEBM's update)
//   von_mises_fisher_log_normalizer    B(θ) for θ ∈ ℝ^latent (log I_ν through Debye + recurrence)
//   von_mises_fisher_mean_params       ∇B(θ) = A_d(κ) θ/κ
//   von_mises_fisher_bregman_divergence
// each in three variants, registered size by size so that they sit on adjacent lines:
//   <op>/eigen_generic     the generic template on Eigen::ArrayXXd, as a cebm::core user calls it
//   <op>/eigen_hand_loop   a plain loop over the same column-major doubles computing the same
//                          formula into buffers allocated once: the yardstick. The target is
//                          eigen_generic within 2× of it. Before timing, both variants compute
//                          the op once and the program aborts unless they agree, so a pair can
//                          never time different work.
//   <op>/torch             the generic template on float32 CPU tensors (one intra-op thread)
// Inputs are drawn once from a fixed seed (printed in the context block).
//   build/benchmarks/cebm_bench_families --benchmark_filter='gaussian_log_normalizer/' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cebm/torch.hpp"
#include "support.hpp"

namespace {

using A = Eigen::ArrayXXd;
using T = torch::Tensor;

using cebm_bench::batch_sizes;
using cebm_bench::latent_sizes;
using cebm_bench::seed;
using cebm_bench::uniform;

// --- inputs -------------------------------------------------------------------------------------


/// The same values as an array of type Arr: the Eigen array itself, or a float32 tensor of its
/// shape (a [1, K] row becomes a [K] tensor, the shape CEBM's bias has on the torch side).
template <class Arr>
Arr as(const A& a);
template <>
A as<A>(const A& a) {
  return a;
}
template <>
T as<T>(const A& a) {
  // Eigen stores columns contiguously: view the data as [cols, rows] and transpose.
  const T t = torch::from_blob(const_cast<double*>(a.data()), {a.cols(), a.rows()}, torch::kFloat64).t();
  return (a.rows() == 1 ? t.reshape({-1}) : t).to(torch::kFloat32).contiguous();
}

template <class Arr>
cebm::param_pack<Arr, 2> gaussian_params(std::int64_t rows, std::int64_t cols, std::mt19937_64& gen) {
  const A l1 = uniform(rows, cols, -2.0, 2.0, gen);
  const A l2 = uniform(rows, cols, -2.0, -0.1, gen);  // λ₂ < 0
  return cebm::make_pack(as<Arr>(l1), as<Arr>(l2));
}

template <class Arr>
cebm::param_pack<Arr, 1> vmf_params(std::int64_t rows, std::int64_t cols, std::mt19937_64& gen) {
  return cebm::make_pack(as<Arr>(uniform(rows, cols, -2.0, 2.0, gen)));
}

// --- the formulas, one double at a time, for the hand loops -------------------------------------

double gaussian_b(double l1, double l2) { return -l1 * l1 / (4.0 * l2) - 0.5 * std::log(-2.0 * l2); }

/// g_N(q) = log I_N(κ) − N log κ by Debye's expansion, as in cebm/detail/log_bessel.hpp.
double debye_scaled_log_bessel(double n, double q) {
  const double root = std::sqrt(1.0 + q / (n * n)), t = 1.0 / root, t2 = t * t;
  const double u1 = t * (3.0 - 5.0 * t2) / 24.0;
  const double u2 = t2 * (81.0 + t2 * (-462.0 + t2 * 385.0)) / 1152.0;
  const double u3 = t * t2 * (30375.0 + t2 * (-369603.0 + t2 * (765765.0 + t2 * -425425.0))) / 414720.0;
  const double u4 =
      t2 * t2 * (4465125.0 + t2 * (-94121676.0 + t2 * (349922430.0 + t2 * (-446185740.0 + t2 * 185910725.0)))) /
      39813120.0;
  const double u5 =
      t * t2 * t2 *
      (1519035525.0 +
       t2 * (-49286948607.0 +
             t2 * (284499769554.0 + t2 * (-614135872350.0 + t2 * (566098157625.0 + t2 * -188699385875.0))))) /
      6688604160.0;
  const double u6 =
      t2 * t2 * t2 *
      (2757049477875.0 +
       t2 * (-127577298354750.0 +
             t2 * (1050760774457901.0 +
                   t2 * (-3369032068261860.0 +
                         t2 * (5104696716244125.0 + t2 * (-3685299006138750.0 + t2 * 1023694168371875.0)))))) /
      4815794995200.0;
  const double series = 1.0 + u1 / n + u2 / (n * n) + u3 / (n * n * n) + u4 / (n * n * n * n) +
                        u5 / (n * n * n * n * n) + u6 / (n * n * n * n * n * n);
  return -0.5 * std::log(2.0 * M_PI * n) - n * std::log(n) + n * (root - std::log(1.0 + root)) - 0.5 * std::log(root) +
         std::log(series);
}

struct scaled_bessel {
  double log_scaled, ratio;
};

/// g_ν(q) and s_ν(q) of cebm/detail/log_bessel.hpp: Debye at order ≥ 50, recurrence down to ν.
scaled_bessel scaled_log_bessel(double nu, double q) {
  const int steps = nu >= 50.0 ? 0 : static_cast<int>(std::ceil(50.0 - nu));
  const double top = nu + steps;
  double g = debye_scaled_log_bessel(top, q);
  double s = std::exp(debye_scaled_log_bessel(top + 1.0, q) - g);
  for (int k = 0; k < steps; ++k) {
    const double d = q * s + 2.0 * (top - k);
    g += std::log(d);
    s = 1.0 / d;
  }
  return {g, s};
}

double vmf_b(double d, double q) { return 0.5 * d * std::log(2.0 * M_PI) + scaled_log_bessel(0.5 * d - 1.0, q).log_scaled; }

/// Σ_k x_ik y_ik for every row i of two column-major [rows, cols] arrays, into out[0, rows).
void row_dots(const double* x, const double* y, std::int64_t rows, std::int64_t cols, double* out) {
  for (std::int64_t i = 0; i < rows; ++i) out[i] = 0.0;
  for (std::int64_t k = 0; k < cols; ++k)
    for (std::int64_t i = 0; i < rows; ++i) out[i] += x[k * rows + i] * y[k * rows + i];
}

// --- the operations -----------------------------------------------------------------------------
// Each op is a class template over the array type holding its inputs, with `generic()` (the
// library call being measured) and, for Eigen, `hand_loop(out)` writing `hand_size()` doubles laid
// out as the generic result is (a pack's statistics one after another, each column-major).

/// The [rows, cols] shape of an op's inputs (batch × latent coordinates).
struct op_shape {
  std::int64_t rows, cols;
};

/// The inputs of a Gaussian op on one pack of natural parameters.
template <class Arr>
struct gaussian_input : op_shape {
  cebm::param_pack<Arr, 2> lambda;
  gaussian_input(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, lambda(gaussian_params<Arr>(b, k, gen)) {}
};

template <class Arr>
struct gaussian_log_normalizer : gaussian_input<Arr> {
  static constexpr const char* name = "gaussian_log_normalizer";
  using gaussian_input<Arr>::gaussian_input, gaussian_input<Arr>::rows, gaussian_input<Arr>::cols, gaussian_input<Arr>::lambda;

  Arr generic() const { return cebm::ops::sum_last(cebm::gaussian::log_normalizer(lambda)); }
  std::int64_t hand_size() const { return rows; }
  void hand_loop(double* out) const {
    const double *l1 = lambda[0].data(), *l2 = lambda[1].data();
    for (std::int64_t i = 0; i < rows; ++i) out[i] = 0.0;
    for (std::int64_t k = 0; k < cols; ++k)
      for (std::int64_t i = 0; i < rows; ++i) out[i] += gaussian_b(l1[k * rows + i], l2[k * rows + i]);
  }
};

template <class Arr>
struct gaussian_mean_params : gaussian_input<Arr> {
  static constexpr const char* name = "gaussian_mean_params";
  using gaussian_input<Arr>::gaussian_input, gaussian_input<Arr>::rows, gaussian_input<Arr>::cols, gaussian_input<Arr>::lambda;

  cebm::param_pack<Arr, 2> generic() const { return cebm::gaussian::mean_params(lambda); }
  std::int64_t hand_size() const { return 2 * rows * cols; }
  void hand_loop(double* out) const {
    const double *l1 = lambda[0].data(), *l2 = lambda[1].data();
    double *m1 = out, *m2 = out + rows * cols;
    for (std::int64_t j = 0; j < rows * cols; ++j) {
      m1[j] = -l1[j] / (2.0 * l2[j]);
      m2[j] = m1[j] * m1[j] - 0.5 / l2[j];
    }
  }
};

template <class Arr>
struct gaussian_bregman_divergence : op_shape {
  static constexpr const char* name = "gaussian_bregman_divergence";
  cebm::param_pack<Arr, 2> lambda1, lambda2;
  gaussian_bregman_divergence(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, lambda1(gaussian_params<Arr>(b, k, gen)), lambda2(gaussian_params<Arr>(b, k, gen)) {}

  Arr generic() const { return cebm::bregman_divergence<cebm::gaussian>(lambda1, lambda2); }
  std::int64_t hand_size() const { return rows; }
  void hand_loop(double* out) const {
    const double *a1 = lambda1[0].data(), *a2 = lambda1[1].data();
    const double *b1 = lambda2[0].data(), *b2 = lambda2[1].data();
    for (std::int64_t i = 0; i < rows; ++i) out[i] = 0.0;
    for (std::int64_t k = 0; k < cols; ++k)
      for (std::int64_t i = 0; i < rows; ++i) {
        const std::int64_t j = k * rows + i;
        const double m1 = -b1[j] / (2.0 * b2[j]), m2 = m1 * m1 - 0.5 / b2[j];
        out[i] += gaussian_b(a1[j], a2[j]) - gaussian_b(b1[j], b2[j]) - ((a1[j] - b1[j]) * m1 + (a2[j] - b2[j]) * m2);
      }
  }
};

template <class Arr>
struct gaussian_posterior_params : op_shape {
  static constexpr const char* name = "gaussian_posterior_params";
  cebm::param_pack<Arr, 2> bias, t;
  gaussian_posterior_params(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, bias(gaussian_params<Arr>(1, k, gen)),
        t(cebm::gaussian_statistics(as<Arr>(uniform(b, k, -2.0, 2.0, gen)), as<Arr>(uniform(b, k, -1.0, 1.0, gen)))) {}

  cebm::param_pack<Arr, 2> generic() const { return cebm::posterior_params<cebm::gaussian>(bias, t); }
  std::int64_t hand_size() const { return 2 * rows * cols; }
  void hand_loop(double* out) const {
    for (std::size_t s = 0; s < 2; ++s) {
      const double *l = bias[s].data(), *ts = t[s].data();
      double* o = out + static_cast<std::int64_t>(s) * rows * cols;
      for (std::int64_t k = 0; k < cols; ++k)
        for (std::int64_t i = 0; i < rows; ++i) o[k * rows + i] = l[k] + ts[k * rows + i];
    }
  }
};

template <class Arr>
struct von_mises_fisher_log_normalizer : op_shape {
  static constexpr const char* name = "von_mises_fisher_log_normalizer";
  cebm::param_pack<Arr, 1> theta;
  von_mises_fisher_log_normalizer(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, theta(vmf_params<Arr>(b, k, gen)) {}

  Arr generic() const { return cebm::von_mises_fisher::log_normalizer(theta); }
  std::int64_t hand_size() const { return rows; }
  void hand_loop(double* out) const {
    row_dots(theta[0].data(), theta[0].data(), rows, cols, out);  // q = κ²
    for (std::int64_t i = 0; i < rows; ++i) out[i] = vmf_b(static_cast<double>(cols), out[i]);
  }
};

template <class Arr>
struct von_mises_fisher_mean_params : op_shape {
  static constexpr const char* name = "von_mises_fisher_mean_params";
  cebm::param_pack<Arr, 1> theta;
  mutable std::vector<double> ratio;  // the hand loop's scratch row, allocated once
  von_mises_fisher_mean_params(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, theta(vmf_params<Arr>(b, k, gen)), ratio(static_cast<std::size_t>(b)) {}

  cebm::param_pack<Arr, 1> generic() const { return cebm::von_mises_fisher::mean_params(theta); }
  std::int64_t hand_size() const { return rows * cols; }
  void hand_loop(double* out) const {
    const double* th = theta[0].data();
    row_dots(th, th, rows, cols, ratio.data());
    const double nu = 0.5 * static_cast<double>(cols) - 1.0;
    for (std::int64_t i = 0; i < rows; ++i) ratio[i] = scaled_log_bessel(nu, ratio[i]).ratio;  // A_d(κ)/κ
    for (std::int64_t k = 0; k < cols; ++k)
      for (std::int64_t i = 0; i < rows; ++i) out[k * rows + i] = ratio[i] * th[k * rows + i];
  }
};

template <class Arr>
struct von_mises_fisher_bregman_divergence : op_shape {
  static constexpr const char* name = "von_mises_fisher_bregman_divergence";
  cebm::param_pack<Arr, 1> theta1, theta2;
  mutable std::vector<double> q1, q2, cross;  // the hand loop's scratch rows, allocated once
  von_mises_fisher_bregman_divergence(std::int64_t b, std::int64_t k, std::mt19937_64& gen)
      : op_shape{b, k}, theta1(vmf_params<Arr>(b, k, gen)), theta2(vmf_params<Arr>(b, k, gen)),
        q1(static_cast<std::size_t>(b)), q2(static_cast<std::size_t>(b)), cross(static_cast<std::size_t>(b)) {}

  Arr generic() const { return cebm::bregman_divergence<cebm::von_mises_fisher>(theta1, theta2); }
  std::int64_t hand_size() const { return rows; }
  void hand_loop(double* out) const {
    const double *x = theta1[0].data(), *y = theta2[0].data();
    for (std::int64_t i = 0; i < rows; ++i) q1[i] = q2[i] = cross[i] = 0.0;
    for (std::int64_t k = 0; k < cols; ++k)
      for (std::int64_t i = 0; i < rows; ++i) {
        const double a = x[k * rows + i], b = y[k * rows + i];
        q1[i] += a * a;
        q2[i] += b * b;
        cross[i] += a * b;
      }
    const double d = static_cast<double>(cols), nu = 0.5 * d - 1.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      // ⟨θ₁ − θ₂, s θ₂⟩ = s (⟨θ₁, θ₂⟩ − ‖θ₂‖²)
      const scaled_bessel at2 = scaled_log_bessel(nu, q2[i]);
      out[i] = vmf_b(d, q1[i]) - (0.5 * d * std::log(2.0 * M_PI) + at2.log_scaled) - at2.ratio * (cross[i] - q2[i]);
    }
  }
};

// --- checks and benchmark bodies ----------------------------------------------------------------

void append(std::vector<double>& flat, const A& a) { flat.insert(flat.end(), a.data(), a.data() + a.size()); }
template <std::size_t S>
void append(std::vector<double>& flat, const cebm::param_pack<A, S>& p) {
  for (std::size_t s = 0; s < S; ++s) append(flat, p[s]);
}

/// Aborts unless the generic template and the hand loop of `op` compute the same numbers: a pair
/// that disagreed would be timing different work.
template <class Op>
void require_agreement(const Op& op) {
  std::vector<double> generic, hand(static_cast<std::size_t>(op.hand_size()));
  append(generic, op.generic());
  op.hand_loop(hand.data());
  if (generic.size() != hand.size()) {
    std::fprintf(stderr, "%s [%lld, %lld]: the generic result has %zu values, the hand loop %zu\n", Op::name,
                 static_cast<long long>(op.rows), static_cast<long long>(op.cols), generic.size(), hand.size());
    std::abort();
  }
  for (std::size_t j = 0; j < hand.size(); ++j)
    if (!(std::abs(generic[j] - hand[j]) <= 1e-8 * (1.0 + std::abs(hand[j])))) {
      std::fprintf(stderr, "%s [%lld, %lld]: generic %.17g and hand loop %.17g disagree at flat index %zu\n", Op::name,
                   static_cast<long long>(op.rows), static_cast<long long>(op.cols), generic[j], hand[j], j);
      std::abort();
    }
}

template <class Op>
Op make_op(const benchmark::State& state) {
  std::mt19937_64 gen(seed);  // the same inputs for every variant of one size
  return Op(state.range(0), state.range(1), gen);
}

void count_coordinates(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));
}

template <template <class> class Op>
void eigen_generic(benchmark::State& state) {
  const auto op = make_op<Op<A>>(state);
  require_agreement(op);
  for (auto _ : state) {
    auto result = op.generic();
    benchmark::DoNotOptimize(result);
  }
  count_coordinates(state);
}

template <template <class> class Op>
void eigen_hand_loop(benchmark::State& state) {
  const auto op = make_op<Op<A>>(state);
  require_agreement(op);
  std::vector<double> out(static_cast<std::size_t>(op.hand_size()));
  for (auto _ : state) {
    op.hand_loop(out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  count_coordinates(state);
}

template <template <class> class Op>
void torch_generic(benchmark::State& state) {
  torch::set_num_threads(1);
  const auto op = make_op<Op<T>>(state);
  for (auto _ : state) {
    auto result = op.generic();
    benchmark::DoNotOptimize(result);
  }
  count_coordinates(state);
}

template <template <class> class Op>
void register_op() {
  const std::string name = Op<A>::name;
  for (const std::int64_t b : batch_sizes)
    for (const std::int64_t k : latent_sizes) {
      benchmark::RegisterBenchmark((name + "/eigen_generic").c_str(), eigen_generic<Op>)->Args({b, k})->ArgNames({"batch", "latent"});
      benchmark::RegisterBenchmark((name + "/eigen_hand_loop").c_str(), eigen_hand_loop<Op>)->Args({b, k})->ArgNames({"batch", "latent"});
      benchmark::RegisterBenchmark((name + "/torch").c_str(), torch_generic<Op>)->Args({b, k})->ArgNames({"batch", "latent"});
    }
}

[[maybe_unused]] const bool registered = [] {
  benchmark::AddCustomContext("seed", std::to_string(seed));
  register_op<gaussian_log_normalizer>();
  register_op<gaussian_mean_params>();
  register_op<gaussian_bregman_divergence>();
  register_op<gaussian_posterior_params>();
  register_op<von_mises_fisher_log_normalizer>();
  register_op<von_mises_fisher_mean_params>();
  register_op<von_mises_fisher_bregman_divergence>();
  return true;
}();

}  // namespace
