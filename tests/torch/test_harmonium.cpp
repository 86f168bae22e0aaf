// The exponential-family harmonium / RBM as a CEBM (paper appendix A): its conditionals, its
// marginal energy and its block Gibbs sampler against brute-force enumeration of tiny models and
// closed forms; training by Gibbs-sampled contrastive divergence; the Langevin trainer accepts it.
#include <cmath>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cebm/families/bernoulli.hpp>
#include <cebm/families/gaussian.hpp>
#include <cebm/torch/models/harmonium.hpp>
#include <cebm/torch/train/ebm_trainer.hpp>

namespace {
using Rbm = cebm::models::Harmonium<cebm::bernoulli, cebm::bernoulli>;
using GaussRbm = cebm::models::Harmonium<cebm::gaussian, cebm::bernoulli>;

/// Every binary vector of length n, [2^n, n] (double).
at::Tensor all_binary(std::int64_t n) {
  at::Tensor out = at::zeros({std::int64_t(1) << n, n}, at::kDouble);
  for (std::int64_t i = 0; i < out.size(0); ++i)
    for (std::int64_t j = 0; j < n; ++j) out[i][j] = double((i >> j) & 1);
  return out;
}

/// E(x, z) of an RBM written out from eq. (29): −xᵀWz − θ_x·x − θ_z·z, [X, Z].
at::Tensor rbm_joint(const at::Tensor& W, const at::Tensor& bx, const at::Tensor& bz, const at::Tensor& xs, const at::Tensor& zs) {
  return -(at::matmul(at::matmul(xs, W), zs.t()) + at::matmul(xs, bx).unsqueeze(1) + at::matmul(zs, bz).unsqueeze(0));
}

template <class M>
void randomise(M& m, double scale, std::uint64_t seed) {
  torch::NoGradGuard g;
  auto gen = at::detail::createCPUGenerator(seed);
  m->to(at::kDouble);
  m->W.copy_(at::randn(m->W.sizes(), gen, at::kDouble) * scale);
  m->theta_x[0].copy_(at::randn(m->theta_x[0].sizes(), gen, at::kDouble) * scale);
  m->theta_z[0].copy_(at::randn(m->theta_z[0].sizes(), gen, at::kDouble) * scale);
}

/// Exact p(x) of an RBM by enumeration, [2^D].
at::Tensor rbm_marginal(const Rbm& m) {
  const at::Tensor xs = all_binary(m->options().visible()), zs = all_binary(m->options().hidden());
  const at::Tensor logp = (-rbm_joint(m->W, m->theta_x[0], m->theta_z[0], xs, zs)).logsumexp(1);
  return (logp - logp.logsumexp(0)).exp();
}
}  // namespace

TEST_CASE("harmonium: an RBM's two conditionals, the CEBM posterior and E(x) equal brute-force enumeration", "[harmonium]") {
  Rbm m(cebm::models::harmonium_options{}.visible(3).hidden(2));
  randomise(m, 1.5, 3);
  torch::NoGradGuard g;
  const at::Tensor xs = all_binary(3), zs = all_binary(2);
  const at::Tensor E = rbm_joint(m->W, m->theta_x[0], m->theta_z[0], xs, zs);  // [8, 4]
  const at::Tensor pzx = at::softmax(-E, 1), pxz = at::softmax(-E, 0);
  // p(z_k = 1 | x) and p(x_d = 1 | z) by summing the enumerated joint
  const at::Tensor pz1 = at::matmul(pzx, zs), px1 = at::matmul(pxz.t(), xs);
  CHECK(at::allclose(at::sigmoid(m->posterior(xs)[0]), pz1, 1e-12, 1e-12));
  CHECK(at::allclose(m->representation(xs), pz1, 1e-12, 1e-12));
  CHECK(at::allclose(at::sigmoid(m->likelihood(zs)[0]), px1, 1e-12, 1e-12));
  // The CEBM marginal energy: −log Σ_z exp(−E(x, z)) up to one constant
  const at::Tensor free_energy = -(-E).logsumexp(1), ours = m->energy(xs);
  CHECK(at::allclose(ours - ours[0], free_energy - free_energy[0], 1e-12, 1e-12));
  // E(x, z) − E(x) = −log p(z | x)
  for (std::int64_t j = 0; j < zs.size(0); ++j) {
    const at::Tensor z = zs[j].expand({xs.size(0), 2});
    CHECK(at::allclose(m->joint_energy(xs, z) - ours, -pzx.select(1, j).log(), 1e-12, 1e-12));
  }
}

TEST_CASE("harmonium: block Gibbs sampling reaches the enumerated p(x) of an RBM", "[harmonium]") {
  Rbm m(cebm::models::harmonium_options{}.visible(4).hidden(3));
  randomise(m, 1.0, 5);
  auto gen = at::detail::createCPUGenerator(9);
  const at::Tensor start = (at::rand({40000, 4}, gen, at::kDouble) < 0.5).to(at::kDouble);
  const auto state = m->gibbs(start, 30, gen);
  const at::Tensor code = at::matmul(state.x, at::tensor({1.0, 2.0, 4.0, 8.0}, at::kDouble)).to(at::kLong);
  const at::Tensor empirical = at::bincount(code, {}, 16).to(at::kDouble) / double(start.size(0));
  const double tv = 0.5 * (empirical - rbm_marginal(m)).abs().sum().item<double>();
  INFO("total variation " << tv);
  CHECK(tv < 0.02);  // sampling error alone is about 0.01 at 40,000 chains over 16 states
  // The start was uniform: far from p(x), so the check can fail.
  const at::Tensor start_code = at::matmul(start, at::tensor({1.0, 2.0, 4.0, 8.0}, at::kDouble)).to(at::kLong);
  const at::Tensor initial = at::bincount(start_code, {}, 16).to(at::kDouble) / double(start.size(0));
  CHECK(0.5 * (initial - rbm_marginal(m)).abs().sum().item<double>() > 0.1);
}

TEST_CASE("harmonium: Gaussian visible units give the closed-form conditionals and mixture marginal", "[harmonium]") {
  GaussRbm m(cebm::models::harmonium_options{}.visible(1).hidden(2), std::vector<double>{0.0, -0.5});
  randomise(m, 1.0, 11);
  torch::NoGradGuard g;
  const at::Tensor zs = all_binary(2);
  const double b = m->theta_x[0].item<double>();
  const at::Tensor w = m->W[0];  // [2]
  // p(x | z) = N(b + wᵀz, 1)
  const auto lik = m->likelihood(zs);
  const auto mean = cebm::gaussian::mean_params(lik);
  CHECK(at::allclose(mean[0].squeeze(1), b + at::matmul(zs, w), 1e-12, 1e-12));
  CHECK(at::allclose(mean[1].squeeze(1) - mean[0].squeeze(1).square(), at::ones({4}, at::kDouble), 1e-12, 1e-12));
  // p(x) ∝ Σ_z exp(θ_z·z + ½(b + wᵀz)²) N(x; b + wᵀz, 1): the ratio to exp(−E(x)) is one constant
  const at::Tensor xs = at::linspace(-4, 4, 41, at::kDouble).unsqueeze(1);
  const at::Tensor mu = b + at::matmul(zs, w);                                                    // [4]
  const at::Tensor logw = at::matmul(zs, m->theta_z[0]) + 0.5 * mu.square();                      // [4]
  const at::Tensor logN = -0.5 * (xs - mu.unsqueeze(0)).square() - 0.5 * std::log(2 * M_PI);      // [41, 4]
  const at::Tensor log_mixture = (logN + logw.unsqueeze(0)).logsumexp(1);
  const at::Tensor ratio = log_mixture + m->energy(xs);
  CHECK((ratio - ratio[0]).abs().max().item<double>() < 1e-10);
  // p(z | x) by enumerating z against the CEBM posterior
  const at::Tensor Ez = -(xs * 1.0) * at::matmul(zs, w).unsqueeze(0) - at::matmul(zs, m->theta_z[0]).unsqueeze(0);
  CHECK(at::allclose(at::sigmoid(m->posterior(xs)[0]), at::matmul(at::softmax(-Ez, 1), zs), 1e-12, 1e-12));
}

TEST_CASE("harmonium: Gibbs-sampled contrastive divergence fits an RBM to a teacher's samples", "[harmonium]") {
  Rbm teacher(cebm::models::harmonium_options{}.visible(5).hidden(2));
  randomise(teacher, 2.0, 21);
  auto gen = at::detail::createCPUGenerator(4);
  const at::Tensor p = rbm_marginal(teacher);
  const at::Tensor rows = at::multinomial(p, 4000, true, gen);
  const at::Tensor bits = at::pow(2, at::arange(5, at::kLong));
  const at::Tensor data = at::div(rows.unsqueeze(1), bits, "floor").remainder(2).to(at::kDouble);

  torch::manual_seed(0);
  Rbm student(cebm::models::harmonium_options{}.visible(5).hidden(4).init_std(0.1));
  student->to(at::kDouble);
  auto kl = [&] { torch::NoGradGuard g; return (p * (p.log() - rbm_marginal(student).log())).sum().item<double>(); };
  const double before = kl();
  torch::optim::Adam opt(student->parameters(), torch::optim::AdamOptions(0.03));
  at::Tensor chains = data.index_select(0, at::randint(4000, {200}, gen, at::kLong));  // persistent chains
  for (int it = 0; it < 400; ++it) {
    const at::Tensor batch = data.index_select(0, at::randint(4000, {200}, gen, at::kLong));
    chains = student->gibbs(chains, 1, gen).x;
    const at::Tensor loss = student->energy(batch).mean() - student->energy(chains).mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  const double after = kl();
  INFO("KL(teacher || student) " << before << " -> " << after);
  CHECK(before > 0.3);
  CHECK(after < 0.1 * before);
}

TEST_CASE("harmonium: the Langevin trainer trains a Gaussian-Bernoulli harmonium on images", "[harmonium]") {
  using Model = cebm::models::Harmonium<cebm::gaussian, cebm::bernoulli>;
  cebm::data::image_dataset d;
  auto gen = at::detail::createCPUGenerator(1);
  d.images = at::randint(0, 256, {64, 1, 28, 28}, gen, at::kByte);
  d.labels = at::randint(0, 10, {64}, gen, at::kLong);
  d.source = "synthetic";
  const auto dir = std::filesystem::temp_directory_path() / "cebm_harmonium_langevin";
  std::filesystem::remove_all(dir);
  auto o = cebm::train::ebm_trainer_options::preset("ci", "cebm").out_dir(dir.string()).iterations(2).probe_reference(20).probe_query(10);
  cebm::train::ebm_trainer<Model> t(Model(cebm::models::harmonium_options{}.visible(784).hidden(16), std::vector<double>{0.0, -0.5}), d, o, 0);
  const at::Tensor before = t.model()->W.detach().clone();
  REQUIRE(t.step());
  REQUIRE(t.step());
  CHECK((t.model()->W - before).abs().max().item<double>() > 0);
  CHECK(t.representation(at::zeros({3, 1, 28, 28})).sizes() == at::IntArrayRef({3, 16}));
  CHECK_THROWS_WITH(t.model()->energy(at::zeros({3, 1, 27, 27})), Catch::Contains("784 values per row"));
}
