// ConjugateEbm<F, Map> for every shipped family against closed forms written out here, the kinds
// it stores, options serialised to JSON and back, the dataset registry, and the model registry's
// round trip: train through an entry, evaluate the checkpoint through the same entry.
#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/families/bernoulli.hpp"
#include "cebm/families/categorical.hpp"
#include "cebm/families/gamma.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/families/poisson.hpp"
#include "cebm/families/von_mises_fisher.hpp"
#include "cebm/torch/eval/evaluation.hpp"
#include "cebm/torch/io/checkpoint.hpp"
#include "cebm/torch/models/conjugate_ebm.hpp"
#include "cebm/torch/models/energy_model.hpp"
#include "cebm/torch/programs/checkpoint_contents.hpp"
#include "cebm/torch/programs/shipped_models.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"
#include "cebm/torch/train/options_json.hpp"
#include "support/temp_dir.hpp"
#include "support/test_device.hpp"
#include "support/toy_images.hpp"

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

template <class F>
cebm::models::ConjugateEbm<F> small_model(std::int64_t components = 0) {
  auto o = cebm::models::conjugate_ebm_options{}.components(components);
  o.encoder(cebm::nn::conv_encoder_options(o.encoder()).latent_dim(6).hidden(16));
  cebm::models::ConjugateEbm<F> m(o);
  m->to(torch::kFloat64);
  return m;
}

}  // namespace

TEST_CASE("ConjugateEbm: energies and representations of every shipped family equal closed forms", "[models][registry]") {
  torch::manual_seed(3);
  const auto x = torch::rand({5, 1, 28, 28}, f64) * 2 - 1;
  SECTION("bernoulli: B = softplus, bias 0, t = r") {
    auto m = small_model<cebm::bernoulli>();
    const auto t = m->statistics(x)[0];
    CHECK(torch::allclose(m->energy(x), (std::log(2.0) - torch::softplus(t)).sum(1), 1e-10, 1e-12));
    CHECK(torch::allclose(m->representation(x), torch::sigmoid(t), 1e-10, 1e-12));
  }
  SECTION("poisson: B = exp, t = log 10 (2 sigmoid(r) - 1) within (-log 10, log 10)") {
    auto m = small_model<cebm::poisson>();
    const auto t = m->statistics(x)[0];
    CHECK(t.abs().max().item<double>() < std::log(10.0));
    CHECK(torch::allclose(m->energy(x), (1 - t.exp()).sum(1), 1e-10, 1e-12));
  }
  SECTION("gamma: B = lgamma(a) - a log b, bias shape 1 rate 1") {
    auto m = small_model<cebm::gamma>();
    const auto t = m->statistics(x);
    const auto shape = 1 + t[0], rate = 1 - t[1];
    CHECK((shape.min().item<double>() > 1 - std::log(2.0)));
    CHECK(torch::allclose(m->energy(x), -(torch::lgamma(shape) - shape * rate.log()).sum(1), 1e-10, 1e-12));
    CHECK(torch::allclose(m->representation(x), torch::cat({torch::digamma(shape) - rate.log(), shape / rate}, 1), 1e-10, 1e-12));
  }
  SECTION("categorical<10>: nine heads, B = log(1 + sum exp)") {
    auto m = small_model<cebm::categorical<10>>();
    const auto t = m->statistics(x);
    const auto all = torch::stack(std::vector<torch::Tensor>(t.stats.begin(), t.stats.end()), 2);  // [B, K, 9]
    const auto b = torch::logsumexp(torch::cat({torch::zeros({5, 6, 1}, f64), all}, 2), 2);
    CHECK(torch::allclose(m->energy(x), (std::log(10.0) - b).sum(1), 1e-10, 1e-12));
    CHECK(m->representation(x).sizes() == torch::IntArrayRef({5, 54}));
  }
  SECTION("von Mises-Fisher on S^5: E = B(0) - B(t), B from the Bessel function of order 2") {
    auto m = small_model<cebm::von_mises_fisher>();
    const auto t = m->statistics(x)[0];
    // d = 6: I_2(k) = I_0(k) - (2/k) I_1(k); B(θ) = 3 log 2π + log I_2(κ) − 2 log κ, B(0) = log(2π³/Γ(3)) = log π³.
    const auto k = t.norm(2, 1);
    const auto i2 = torch::special_i0(k) - 2 / k * torch::special_i1(k);
    const auto b = 3 * std::log(2 * M_PI) + i2.log() - 2 * k.log();
    CHECK(torch::allclose(m->energy(x), 3 * std::log(M_PI) - b, 1e-8, 1e-10));
  }
  SECTION("a mixture of Bernoulli biases: log L - logsumexp over components") {
    auto m = small_model<cebm::bernoulli>(3);
    const auto t = m->statistics(x)[0];
    const auto lam = m->named_parameters()["component_1"];  // λ_l = 0 + ρ_l, [L, K]
    const auto per = (torch::softplus(lam.unsqueeze(0) + t.unsqueeze(1)) - torch::softplus(lam).unsqueeze(0)).sum(2);
    CHECK(torch::allclose(m->energy(x), std::log(3.0) - torch::logsumexp(per, 1), 1e-10, 1e-12));
    CHECK(torch::allclose(m->responsibilities(x), torch::softmax(per, 1), 1e-10, 1e-12));
  }
}

TEST_CASE("ConjugateEbm: kinds name family, map and bias", "[models][registry]") {
  using namespace cebm;
  CHECK(models::conjugate_ebm_kind<gaussian, gaussian_map<neg_square>>(false) == "cebm");
  CHECK(models::conjugate_ebm_kind<gaussian, gaussian_map<neg_square>>(true) == "gmm_cebm");
  CHECK(models::conjugate_ebm_kind<gaussian, gaussian_map<neg_softplus>>(false) == "cebm_gaussian_neg_softplus");
  CHECK(models::conjugate_ebm_kind<cebm::gamma, gamma_map>(true) == "mixture_cebm_gamma");
  CHECK(small_model<poisson>()->kind() == "cebm_poisson");
  CHECK_THROWS_WITH(small_model<bernoulli>()->mixture_bias(), Catch::Contains("has a fixed bias"));
  CHECK_THROWS_WITH(small_model<bernoulli>(-1), Catch::Contains("components must be >= 0"));
}

TEST_CASE("options JSON: a preset survives the round trip, a wrong type names the option", "[registry][json]") {
  const auto o = cebm::train::ebm_trainer_options::preset("ci", "gmm_cebm").on_divergence(cebm::train::divergence_policy::rollback);
  const nlohmann::json j = cebm::options_json::to_json(o);
  const auto back = cebm::options_json::from_json(j, cebm::train::ebm_trainer_options{});
  CHECK(cebm::options_json::to_json(back) == j);
  CHECK(back.loss().regularize() == cebm::cd_regularizer::data_only);
  CHECK(back.sgld().steps() == 5);
  CHECK(j["input"]["scale"] == "minus_one_one");
  nlohmann::json bad = j;
  bad["sgld"]["steps"] = "many";
  CHECK_THROWS_WITH(cebm::options_json::from_json(bad, cebm::train::ebm_trainer_options{}), Catch::Contains("option steps"));
  const auto m = cebm::options_json::from_json(nlohmann::json{{"components", 4}, {"encoder", {{"latent_dim", 7}}}},
                                               cebm::models::conjugate_ebm_options{});
  CHECK(m.components() == 4);
  CHECK(m.encoder().latent_dim() == 7);
  CHECK(m.encoder().channels() == std::vector<std::int64_t>{64, 64, 32, 32});  // untouched keys keep the base's
}

TEST_CASE("dataset registry: shipped names, MNIST digits split 4000/1000, clear errors", "[registry][data]") {
  auto& d = cebm::data::datasets();
  CHECK(d.names() == "cifar10, fashion_mnist, folder, mnist, svhn");
  CHECK_THROWS_WITH(d.find("imagenet"), Catch::Contains("unknown dataset 'imagenet' (expected cifar10, fashion_mnist"));
  CHECK_THROWS_WITH(cebm::data::load_dataset("cifar10", "", "train"), Catch::Contains("give its folder with --data DIR"));
  const std::string digits = std::string(CEBM_SOURCE_DIR) + "/data/mnist";
  if (std::filesystem::exists(digits + "/mnist_5k.csv.gz")) {
    const auto train = cebm::data::load_dataset("mnist", digits, "train"), test = cebm::data::load_dataset("mnist", digits, "test");
    CHECK(train.size() == 4000);
    CHECK(test.size() == 1000);
    CHECK(at::bincount(test.labels).min().item<std::int64_t>() == 100);  // every fifth digit of 500 per class
  }
  cebm_test::temp_dir dir;
  std::filesystem::create_directories(dir.path / "train" / "a");
  CHECK_THROWS_WITH(cebm::data::load_dataset("folder", dir.path.string(), "test"), Catch::Contains("expected"));
}

TEST_CASE("model registry: an entry trains a model and evaluates its checkpoint with the stored options", "[registry]") {
  auto& registry = cebm::programs::models();
  CHECK_THROWS_WITH(registry.find("nonsense"), Catch::Contains("unknown model kind 'nonsense' (registered: bigan, cebm"));
  const auto& entry = registry.find("mixture_cebm_poisson");
  cebm_test::temp_dir dir;
  const auto data = cebm_test::toy_images(60);
  cebm::programs::ebm_training job;
  job.options = entry.trainer_options("ci", "fashion_mnist").out_dir(dir.path.string()).iterations(2).batch_size(8)
                    .probe_reference(20).probe_query(10).long_run_steps(2).buffer(cebm::replay_buffer_options::cebm().capacity(32));
  job.model_options = entry.model_options({1, 28}, "fashion_mnist");
  CHECK(job.model_options["components"] == 10);
  job.model_options["components"] = 3;  // a run's own choice, which evaluation must rebuild
  job.model_options["encoder"]["latent_dim"] = 8;
  job.train = data;
  job.device = cebm_test::test_device();
  job.config = {{"preset", "ci"}, {"dataset", "fashion_mnist"}};
  std::int64_t trained = 0;
  job.run.after_run = [&](cebm::train::trained_run& run) { trained = run.iteration(); };
  entry.train(job);
  CHECK(trained == 2);

  torch::serialize::InputArchive archive = cebm::train::read_checkpoint((dir.path / "checkpoints" / "last.pt").string());
  c10::IValue config;
  archive.read("config", config);
  cebm::programs::checkpoint_evaluation ev;
  ev.archive = &archive;
  ev.path = "last.pt";
  ev.config = nlohmann::json::parse(config.toStringRef());
  CHECK(ev.config["trainer_options"]["buffer"]["capacity"] == 32);
  ev.data.dataset = "fashion_mnist";
  ev.data.train = data;
  ev.data.test = data;
  ev.device = cebm_test::test_device();
  ev.out = dir.path.string();
  ev.options = cebm::eval::evaluation_options{}.few_label(cebm::eval::few_label_options{}.draws(1)).pixel_baseline(false)
                   .long_run(cebm::langevin_options{}.steps(2)).long_run_chains(4).kl_batch_size(30);
  const nlohmann::json report = entry.evaluate(ev);
  CHECK(report["aggregate_posterior"]["batches"] == 2);
  // What the run does not record is refused by name, with the flag that supplies it; never a default.
  {
    cebm::programs::checkpoint_evaluation partial = ev;
    partial.config.erase("model_options");
    CHECK_THROWS_WITH(entry.evaluate(partial), Catch::Contains("last.pt: the run records no model options") &&
                                                   Catch::Contains("evaluate --preset"));
    partial.config = ev.config;
    partial.config.erase("trainer_options");
    partial.config.erase("preset");
    CHECK_THROWS_WITH(entry.evaluate(partial), Catch::Contains("records neither its trainer options nor its preset") &&
                                                   Catch::Contains("evaluate --preset paper|demo|ci"));
  }
  CHECK(std::isfinite(report["aggregate_posterior"]["mi"].get<double>()));

  // What export and import read of a checkpoint: the sample shape its buffer stores, and the
  // weights into the module the entry builds from the run's config (3 components, K = 8).
  CHECK(cebm::programs::stored_sample_shape(archive, "last.pt") == std::vector<std::int64_t>{1, 28, 28});
  const auto module = entry.make(ev.config, {1, 28, 28});
  REQUIRE_NOTHROW(cebm::programs::load_stored_weights(*module, archive, entry.weights, "last.pt", entry.kind));
  CHECK(module->named_parameters()["component_1"].sizes() == at::IntArrayRef({3, 8}));
  {
    torch::serialize::InputArchive stored;
    archive.read("model", stored);
    at::Tensor component;
    stored.read("component_1", component);
    CHECK(module->named_parameters()["component_1"].equal(component));
  }
  CHECK_THROWS_WITH(cebm::programs::load_stored_weights(*entry.make({{"model_options", entry.model_options({1, 28}, "fashion_mnist")}}, {1, 28, 28}), archive,
                                                         "model", "last.pt", entry.kind),
                    Catch::Contains("last.pt: its 'model' parameters do not fit a mixture_cebm_poisson") &&
                        Catch::Contains("'component_1' is [3, 8] Float, the model's [10, 128] Float"));
  {
    torch::serialize::OutputArchive empty;
    empty.write("iteration", at::zeros({1}), true);
    std::string bytes;
    empty.save_to([&bytes](const void* p, std::size_t n) {
      bytes.append(static_cast<const char*>(p), n);
      return n;
    });
    torch::serialize::InputArchive none;
    none.load_from(bytes.data(), bytes.size());
    CHECK_THROWS_WITH(cebm::programs::stored_sample_shape(none, "x.pt"), Catch::Contains("x.pt: holds no replay buffer"));
  }

  // The entry trained and evaluated the model as a models::EnergyModel. The checkpoint loads into
  // the concrete ConjugateEbm<poisson> under the same names, and the typed evaluation of that
  // model gives the same numbers as the entry's.
  cebm::models::ConjugateEbm<cebm::poisson> concrete(
      cebm::options_json::from_json(ev.config["model_options"], cebm::models::conjugate_ebm_options{}));
  torch::serialize::InputArchive weights;
  archive.read("model", weights);
  concrete->load(weights);
  concrete->to(cebm_test::test_device());
  cebm::eval::evaluation_context ctx;
  ctx.model = "mixture_cebm_poisson";
  ctx.input = job.options.input();
  ctx.device = cebm_test::test_device();
  ctx.fresh_chains = [](std::int64_t n, at::Generator& g) { return at::rand({n, 1, 28, 28}, g); };
  const nlohmann::json typed = cebm::eval::evaluate(concrete, ev.data, ctx, ev.options, (dir.path / "typed").string());
  CHECK(typed["aggregate_posterior"]["kl"].get<double>() == Approx(report["aggregate_posterior"]["kl"].get<double>()).epsilon(1e-9));
  CHECK(typed["aggregate_posterior"]["mi"].get<double>() == Approx(report["aggregate_posterior"]["mi"].get<double>()).epsilon(1e-9));
  CHECK(typed["few_label"] == report["few_label"]);
  CHECK(typed["nn1"] == report["nn1"]);
}

TEST_CASE("EnergyModel: a holder of a concrete model shares its module", "[models][registry]") {
  auto concrete = small_model<cebm::poisson>(3);
  cebm::models::EnergyModel model(concrete);
  CHECK(model->kind() == "mixture_cebm_poisson");
  const at::Tensor x = torch::rand({5, 1, 28, 28}, f64);
  CHECK(torch::equal(model->energy(x), concrete->energy(x)));
  CHECK(torch::equal(model->representation(x), concrete->representation(x)));
  CHECK(model->named_parameters().keys() == concrete->named_parameters().keys());
  CHECK(model->named_buffers().keys() == concrete->named_buffers().keys());
  // One module: a change through one holder is seen through the other.
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.zero_();
  for (const auto& p : concrete->parameters()) CHECK(p.abs().sum().item<double>() == 0.0);
}
