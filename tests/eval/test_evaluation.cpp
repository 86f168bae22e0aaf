// The whole evaluation on small synthetic data: every section of the report and its files, the
// published numbers beside ours, and the errors for data the model or the protocol cannot take.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <cebm/torch/data/image_folder.hpp>
#include <cebm/torch/data/ood.hpp>
#include <cebm/torch/eval/evaluation.hpp>
#include <cebm/torch/eval/learning_curve.hpp>
#include <cebm/torch/io/metrics_log.hpp>
#include <cebm/torch/io/run_directory.hpp>
#include <cebm/torch/eval/report.hpp>
#include <cebm/torch/eval/report_scalars.hpp>
#include <cebm/torch/models/cebm.hpp>
#include <cebm/torch/models/igebm.hpp>

#include "support/temp_dir.hpp"
#include "support/test_device.hpp"

namespace {

// Ten classes of 28x28 images: class k is a bright horizontal band at row 2k + 4, plus noise.
cebm::data::image_dataset banded(std::int64_t n, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const at::Tensor labels = at::arange(n, at::kLong) % 10;
  at::Tensor images = at::randint(0, 40, {n, 1, 28, 28}, gen, at::kLong);
  for (std::int64_t i = 0; i < n; ++i) images[i][0][2 * labels[i].item<std::int64_t>() + 4].fill_(230);
  return {images.to(at::kByte), labels, "banded images"};
}

cebm::eval::evaluation_options small_options() {
  return cebm::eval::evaluation_options{}
      .few_label(cebm::eval::few_label_options{}.labels_per_class({1, 3}).draws(2))
      .kl_batch_size(50)
      .long_run_chains(4)
      .long_run(cebm::langevin_options::cebm().steps(3))
      .batch_size(64);
}

cebm::eval::evaluation_context context(const std::string& model) {
  cebm::eval::evaluation_context ctx;
  ctx.model = model;
  ctx.device = cebm_test::test_device();  // on a GPU, chains and their generators must follow it
  ctx.fresh_chains = [](std::int64_t n, at::Generator& g) { return at::rand({n, 1, 28, 28}, g) * 2 - 1; };
  return ctx;
}

// A CEBM initialised from seed 0, on the context's device.
cebm::models::Cebm seeded_cebm(const cebm::eval::evaluation_context& ctx) {
  torch::manual_seed(0);
  cebm::models::Cebm model;
  model->to(ctx.device);
  return model;
}

cebm::eval::evaluation_data data_with_ood() {
  auto gen = at::detail::createCPUGenerator(9);
  cebm::eval::evaluation_data d{"fashion_mnist", banded(200, 1), banded(100, 2), {}, {}, {}};
  d.ood.emplace_back("constant", cebm::data::constant_images(40, 1, 28, 28, gen));
  d.ood.emplace_back("rgb32", cebm::data::uniform_noise_images(30, 3, 32, 32, gen));  // other geometry: reshaped
  return d;
}

// A model with its own OOD score: s(x) = mean pixel, so brighter images count as less likely.
struct ScoredImpl : torch::nn::Cloneable<ScoredImpl> {
  static constexpr const char* kind = "scored";
  ScoredImpl() { reset(); }
  void reset() override { linear = register_module("linear", torch::nn::Linear(784, 8)); }
  at::Tensor representation(const at::Tensor& x) { return linear->forward(x.flatten(1)); }
  at::Tensor energy(const at::Tensor& x) { return 0.5 * representation(x).pow(2).sum(1); }
  at::Tensor ood_score(const at::Tensor& x) { return x.flatten(1).mean(1); }
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(Scored);

// A conditional model on the banded images: its latent is the brightness of the ten band rows
// about the image mean, f = g = h = bands(x), so p(x | z̄) ∝ exp(−½‖b‖² + β cos(b, z̄)) favours
// a bright band at the row of the class z̄ points to. Its exact classifier is the brightest band.
at::Tensor bands(const at::Tensor& x) {
  return x.index_select(2, at::arange(4, 24, 2, at::kLong)).mean({1, 3}) - x.mean({1, 2, 3}).unsqueeze(1);
}
at::Tensor brightest_band(const at::Tensor& x) { return bands(x).argmax(1); }

struct BandedImpl : torch::nn::Cloneable<BandedImpl> {
  static constexpr const char* kind = "banded";
  BandedImpl() { reset(); }
  void reset() override {}
  at::Tensor representation(const at::Tensor& x) { return bands(x); }
  at::Tensor energy(const at::Tensor& x) { return 0.5 * bands(x).pow(2).sum(1); }
  auto conditional_energy(std::vector<cebm::clel::condition> c) {
    return cebm::clel::conditional_energy(bands, [](const at::Tensor& f) { return f; }, std::move(c));
  }
};
TORCH_MODULE(Banded);

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("evaluate writes every section of the report for a CEBM", "[eval][report]") {
  cebm_test::temp_dir dir;
  auto ctx = context("cebm");
  auto model = seeded_cebm(ctx);
  ctx.buffer = (at::rand({20, 1, 28, 28}) * 2 - 1).to(ctx.device);
  auto d = data_with_ood();
  d.skipped_ood.emplace_back("mnist", "no MNIST digits found (looked in data/mnist)");
  const nlohmann::json r = cebm::eval::evaluate(model, d, ctx, small_options(), dir.path.string());

  CHECK(r["images"]["train"] == 200);
  CHECK(r["images"]["classes"] == 10);
  CHECK(r["representation_dim"] == 128);
  const auto& rows = r["few_label"]["representation"]["rows"];
  REQUIRE(rows.size() == 3);  // 1, 3, full
  CHECK(rows[0]["accuracies"].size() == 2);
  CHECK(rows[2]["setting"] == "full");
  CHECK(r["few_label"]["representation_standardized"]["standardized"] == true);
  // The bands make pixels trivially separable: the pixel baseline must find them.
  CHECK(r["few_label"]["pixels"]["rows"][2]["mean"].get<double>() > 0.9);
  CHECK(r["nn1"]["pixels"]["accuracy"].get<double>() > 0.9);
  CHECK(r["nn1"]["representation"]["confusion"].size() == 10);
  for (const std::string set : {"constant", "rgb32"}) {
    const auto& s = r["ood"]["sets"][set];
    CHECK(s["logp"]["n_in"] == 100);
    CHECK(s["logp"]["auroc"].get<double>() >= 0.0);
    CHECK(s["grad"]["auroc"].get<double>() <= 1.0);
  }
  CHECK(r["ood"]["sets"]["rgb32"]["images"] == 30);
  CHECK(r["aggregate_posterior"]["batches"] == 4);
  CHECK(r["samples"]["long_run"]["chains"] == 4);
  CHECK(r["samples"]["buffer"]["stuck"]["fraction"] == 1.0);  // the buffer above is pure noise
  CHECK_FALSE(r.contains("frechet"));
  CHECK_THAT(r["ood"]["skipped"]["mnist"].get<std::string>(), Catch::Contains("no MNIST digits found"));
  CHECK_FALSE(r["ood"]["sets"].contains("mnist"));

  cebm::eval::write_report(r, dir.path.string());
  for (const char* f : {"report.json", "report.md", "confusion_representation.png", "confusion_pixels.png",
                        "samples_long_run.png", "samples_buffer.png", "embedding_pca.png"})
    CHECK(std::filesystem::exists(dir.path / f));
  const at::Tensor heat = cebm::data::read_image(dir.file("confusion_representation.png"));
  CHECK(heat.size(0) == 3);
  const std::string md = read(dir.path / "report.md");
  CHECK_THAT(md, Catch::Contains("| full |") && Catch::Contains("| 83 |"));   // CEBM Table 2, Fashion-MNIST, full
  CHECK_THAT(md, Catch::Contains("| constant | 40 |") && Catch::Contains("| 0.90 |"));  // Table 1, log p, constant
  CHECK_THAT(md, Catch::Contains("| KL |") && Catch::Contains("| 0.6 |"));     // Table 3
  CHECK_THAT(md, Catch::Contains("![PCA embedding](embedding_pca.png)"));
  CHECK_THAT(md, Catch::Contains("Skipped OOD set mnist: no MNIST digits found (looked in data/mnist)."));

  // A report that cannot be written (its temporary name taken) throws naming the file and leaves
  // the previous one whole.
  nlohmann::json changed = r;
  changed["model"] = "changed";
  std::filesystem::create_directory(dir.path / "report.json.tmp");
  CHECK_THROWS_WITH(cebm::eval::write_report(changed, dir.path.string()), Catch::Contains("report.json"));
  CHECK(nlohmann::json::parse(read(dir.path / "report.json")) == r);
  std::filesystem::remove(dir.path / "report.json.tmp");
  cebm::eval::write_report(changed, dir.path.string());
  CHECK(nlohmann::json::parse(read(dir.path / "report.json")) == changed);
}

TEST_CASE("the OOD sets are as large as the test images in use, or as --ood-images", "[eval][ood]") {
  cebm_test::temp_dir dir;
  auto ctx = context("cebm");
  auto model = seeded_cebm(ctx);
  auto gen = at::detail::createCPUGenerator(3);
  cebm::eval::evaluation_data d{"fashion_mnist", banded(60, 1), banded(100, 2), {}, {}, {}};
  d.ood.emplace_back("constant", cebm::data::constant_images(80, 1, 28, 28, gen));
  d.ood.emplace_back("noise", cebm::data::uniform_noise_images(15, 1, 28, 28, gen));  // fewer than asked: all
  const auto sizes = [&](cebm::eval::evaluation_options o) {
    const nlohmann::json r = cebm::eval::evaluate(model, d, ctx, o.pixel_baseline(false), dir.path.string());
    return std::vector<std::int64_t>{r["ood"]["in_distribution_images"].get<std::int64_t>(),
                                     r["ood"]["sets"]["constant"]["images"].get<std::int64_t>(),
                                     r["ood"]["sets"]["noise"]["images"].get<std::int64_t>()};
  };
  CHECK(sizes(small_options()) == std::vector<std::int64_t>{100, 80, 15});
  CHECK(sizes(small_options().test_images(20)) == std::vector<std::int64_t>{20, 20, 15});
  CHECK(sizes(small_options().test_images(20).ood_images(10)) == std::vector<std::int64_t>{10, 10, 10});
}

TEST_CASE("a learning curve: points of few-label accuracy and stuck chains, the probe from the log", "[eval][report]") {
  cebm_test::temp_dir dir;
  auto ctx = context("cebm");
  auto model = seeded_cebm(ctx);
  const at::Tensor noise = at::rand({20, 1, 28, 28}) * 2 - 1;
  const auto d = data_with_ood();
  const auto point_options = cebm::eval::evaluation_options(small_options()).scope(cebm::eval::evaluation_scope::learning_curve_point);

  // A point runs representations, few-label and the buffer alone, and writes nothing.
  cebm::eval::learning_curve curve;
  for (const std::int64_t iteration : {100, 200}) {
    // The buffer at 100 is noise; at 200 it holds test images (in the model's [-1, 1] scale).
    ctx.buffer = (iteration == 100 ? noise : d.test.images.narrow(0, 0, 20).to(at::kFloat) / 127.5 - 1).to(ctx.device);
    const nlohmann::json r = cebm::eval::evaluate(model, d, ctx, point_options, (dir.path / "points").string());
    CHECK(r.contains("few_label"));
    CHECK_FALSE(r.contains("nn1"));
    CHECK_FALSE(r.contains("ood"));
    CHECK_FALSE(r["samples"].contains("long_run"));
    CHECK_FALSE(r["samples"]["buffer"].contains("image"));
    CHECK(std::filesystem::is_empty(dir.path / "points"));
    curve.points.push_back(cebm::eval::learning_curve_point(r, iteration, "iter_" + std::to_string(iteration) + ".pt"));
  }
  CHECK(curve.points[0]["buffer_stuck"] == 1.0);
  CHECK(curve.points[1]["buffer_stuck"] == 0.0);
  const auto& few = curve.points[0]["few_label"];
  CHECK(few["representation"].contains("1"));
  CHECK(few["representation"].contains("3"));
  CHECK(few["representation_standardized"]["1"]["mean"].get<double>() >= 0.0);

  // The probe from a metrics log as the trainer writes it: rows without a probe and NaN probes are left out.
  cebm::train::run_directory run((dir.path / "run").string());
  run.create();
  {
    cebm::train::metrics_log log = run.metrics();
    log.write({{"iteration", 50}, {"loss", 1.5}, {"probe_1nn", 0.25}});
    log.write({{"iteration", 60}, {"loss", 1.0}});
    log.write({{"iteration", 100}, {"probe_1nn", std::nan("")}});
    log.write({{"iteration", 150}, {"probe_1nn", 0.5}});
  }
  const auto rows = cebm::train::metrics_log::read(run.file("metrics.jsonl"));
  REQUIRE(rows.size() == 4);
  CHECK(std::isnan(rows[2].at("probe_1nn")));
  curve.probe = cebm::eval::metric_history(rows, "probe_1nn");
  REQUIRE(curve.probe.size() == 2);
  CHECK(curve.probe[1] == std::pair<std::int64_t, double>{150, 0.5});

  // Kept checkpoints by iteration (not by name), other files ignored.
  for (const char* f : {"iter_200.pt", "iter_50.pt", "last.pt", "iter_x.pt", "best.pt"}) std::ofstream(run.checkpoint(std::string(f).substr(0, std::string(f).size() - 3)));
  const auto kept = run.kept_checkpoints();
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].first == 50);
  CHECK(kept[1].first == 200);

  nlohmann::json r = {{"model", "cebm"}, {"dataset", "fashion_mnist"}};
  r["learning_curve"] = cebm::eval::learning_curve_section(curve, (dir.path / "report").string());
  CHECK(r["learning_curve"]["image"] == "learning_curve.png");
  const at::Tensor png = cebm::data::read_image((dir.path / "report" / "learning_curve.png").string());
  CHECK(png.size(0) == 3);
  std::ostringstream md;
  md << cebm::eval::learning_curve_markdown(r["learning_curve"]);
  // At iteration 100 the last probe logged is that of iteration 50; the buffer there is all noise.
  CHECK_THAT(md.str(), Catch::Contains("| 100 | 25.0 |") && Catch::Contains("| 100.0% |") && Catch::Contains("| 200 | 50.0 |") &&
                           Catch::Contains("| 0.0% |") && Catch::Contains("![learning curve](learning_curve.png)"));

  CHECK_THROWS_WITH(cebm::train::metrics_log::read(run.file("nothing.jsonl")), Catch::Contains("nothing.jsonl: cannot open"));
  std::ofstream(run.file("bad.jsonl")) << "{\"iteration\": 1}\nnot json\n";
  CHECK_THROWS_WITH(cebm::train::metrics_log::read(run.file("bad.jsonl")), Catch::Contains("bad.jsonl: line 2 is not a JSON object"));
}

TEST_CASE("evaluate handles mixture biases and models without a bias", "[eval][report]") {
  torch::manual_seed(1);
  auto d = data_with_ood();
  d.ood.resize(1);
  cebm_test::temp_dir dir;
  cebm::models::Cebm gmm(cebm::models::gmm_cebm_options());
  gmm->to(cebm_test::test_device());
  const auto g = cebm::eval::evaluate(gmm, d, context("gmm_cebm"), small_options(), dir.path.string());
  CHECK(g["aggregate_posterior"]["batches"] == 4);
  CHECK(std::isfinite(g["aggregate_posterior"]["mi"].get<double>()));
  CHECK(std::abs(g["aggregate_posterior"]["mi"].get<double>()) <= std::log(50.0) + 1e-9);  // MI ≤ log B

  cebm::models::Igebm igebm;
  igebm->to(cebm_test::test_device());
  const auto i = cebm::eval::evaluate(igebm, d, context("igebm"), small_options(), dir.path.string());
  CHECK_THAT(i["aggregate_posterior"]["skipped"].get<std::string>(), Catch::Contains("no conjugate bias"));
  CHECK_THAT(cebm::eval::markdown_report(i), Catch::Contains("Not computed: igebm has no conjugate bias"));
}

TEST_CASE("evaluate names data it cannot use", "[eval][report]") {
  cebm::models::Cebm model;
  cebm_test::temp_dir dir;
  auto gen = at::detail::createCPUGenerator(3);
  {
    auto d = data_with_ood();
    d.ood.emplace_back("empty", cebm::data::image_dataset{at::zeros({0, 1, 28, 28}, at::kByte), at::zeros({0}, at::kLong), "none"});
    CHECK_THROWS_WITH(cebm::eval::evaluate(model, d, context("cebm"), small_options(), dir.path.string()),
                      Catch::Contains("the OOD set 'empty' is empty"));
  }
  {
    auto d = data_with_ood();
    d.train = cebm::data::uniform_noise_images(50, 3, 32, 32, gen);
    d.test = cebm::data::uniform_noise_images(50, 3, 32, 32, gen);
    d.dataset = "cifar10";
    CHECK_THROWS_WITH(cebm::eval::evaluate(model, d, context("cebm"), small_options(), dir.path.string()),
                      Catch::Contains("cannot take the cifar10 images [3, 32, 32]"));
  }
  {
    auto d = data_with_ood();
    d.test.labels = d.test.labels.narrow(0, 0, 10);
    CHECK_THROWS_WITH(cebm::eval::evaluate(model, d, context("cebm"), small_options(), dir.path.string()),
                      Catch::Contains("labels must be int64 [100]"));
  }
}

TEST_CASE("a model's own OOD score is reported beside -E and -|grad E|", "[eval][report]") {
  Scored model;
  model->to(cebm_test::test_device());
  cebm_test::temp_dir dir;
  auto d = data_with_ood();
  d.ood.resize(1);  // constant images
  const auto r = cebm::eval::evaluate(model, d, context("scored"), small_options(), dir.path.string());
  // Oracle: AUROC of -mean pixel by brute-force pair counting on the clean model inputs.
  auto gen = at::detail::createCPUGenerator(0);
  const at::Tensor in = -cebm::data::to_model_input(d.test.images, {}, gen).flatten(1).mean(1).to(at::kDouble);
  const at::Tensor out = -cebm::data::to_model_input(d.ood[0].second.images, {}, gen).flatten(1).mean(1).to(at::kDouble);
  double pairs = 0;
  for (std::int64_t i = 0; i < in.size(0); ++i)
    for (std::int64_t j = 0; j < out.size(0); ++j) {
      const double a = in[i].item<double>(), b = out[j].item<double>();
      pairs += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
    }
  const auto& score = r["ood"]["sets"]["constant"]["model_score"];
  CHECK(score["auroc"].get<double>() == Approx(pairs / (in.size(0) * out.size(0))).epsilon(1e-9));
  CHECK_THAT(cebm::eval::markdown_report(r), Catch::Contains("The model's own score"));
  // Models without one have no such entry.
  cebm::models::Igebm igebm;
  igebm->to(cebm_test::test_device());
  const auto i = cebm::eval::evaluate(igebm, d, context("igebm"), small_options(), dir.path.string());
  CHECK_FALSE(i["ood"]["sets"]["constant"].contains("model_score"));
}

TEST_CASE("conditional samples of a banded model take on the class and instance conditioned on", "[eval][conditional]") {
  Banded model;
  cebm_test::temp_dir dir;
  auto d = data_with_ood();
  d.ood.resize(1);
  auto ctx = context("banded");
  ctx.classify = brightest_band;
  const auto o = small_options().conditional_chains(8).conditional_steps(40).conditional_beta(1.0);
  const auto r = cebm::eval::evaluate(model, d, ctx, o, dir.path.string());
  const auto& c = r["conditional"];
  CHECK(c["start"] == "initialisation");  // no buffer in the context
  for (const std::string kind : {"instance", "class"}) {
    INFO(kind);
    const auto& k = c[kind];
    CHECK(k["conditions"] == 10);
    CHECK(k["chains_per_condition"] == 8);
    // Uniform noise is labelled at chance; the chains end on their condition's band.
    CHECK(k["classifier"]["accuracy_start"].get<double>() < 0.35);
    CHECK(k["classifier"]["accuracy"].get<double>() > 0.95);
    CHECK(k["latent_cosine"].get<double>() > k["latent_cosine_start"].get<double>() + 0.3);
    const auto confusion = k["classifier"]["confusion"].get<std::vector<std::vector<double>>>();
    REQUIRE(confusion.size() == 10);
    for (const auto& row : confusion) CHECK(std::accumulate(row.begin(), row.end(), 0.0) == 8.0);
    CHECK(std::filesystem::exists(dir.path / k["image"].get<std::string>()));
  }
  CHECK(c["instance"]["reference_labels"] == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(std::filesystem::exists(dir.path / "confusion_class_conditional.png"));
  CHECK(r["seconds"].contains("conditional"));
  CHECK_THAT(cebm::eval::markdown_report(r), Catch::Contains("## Conditional samples"));

  // From the replay buffer when there is one; without a classifier, no verdict.
  ctx.classify = nullptr;
  ctx.buffer = at::rand({20, 1, 28, 28}).to(ctx.device);
  const auto b = cebm::eval::evaluate(model, d, ctx, cebm::eval::evaluation_options(o).conditional_steps(2), dir.path.string());
  CHECK(b["conditional"]["start"] == "replay buffer");
  CHECK_FALSE(b["conditional"]["class"].contains("classifier"));
  // Models without conditional energies, or 0 chains, have no such section.
  CHECK_FALSE(cebm::eval::evaluate(model, d, ctx, cebm::eval::evaluation_options(o).conditional_chains(0), dir.path.string()).contains("conditional"));
  cebm::models::Igebm igebm;
  CHECK_FALSE(cebm::eval::evaluate(igebm, d, context("igebm"), small_options(), dir.path.string()).contains("conditional"));
}


TEST_CASE("report_scalars: numbers by path, few-label rows by setting, arrays of numbers and the config left out", "[eval][report]") {
  const nlohmann::json report = {
      {"config", {{"batch_size", 64}}},
      {"representation_dim", 128},
      {"nn1", {{"representation", {{"accuracy", 0.5}, {"confusion", {{1, 0}, {0, 1}}}}}}},
      {"few_label", {{"representation", {{"standardized", false},
                                          {"rows", {{{"setting", "10"}, {"mean", 0.6}, {"accuracies", {0.6}}},
                                                    {{"mean", 0.7}}}}}}}},
      {"model", "cebm"}};
  const std::map<std::string, double> expected = {{"representation_dim", 128},
                                                  {"nn1/representation/accuracy", 0.5},
                                                  {"few_label/representation/rows/10/mean", 0.6},
                                                  {"few_label/representation/rows/1/mean", 0.7}};
  CHECK(cebm::eval::report_scalars(report) == expected);
}
