#pragma once
/// @file
/// `ebm_trainer<Model>`: persistent contrastive divergence for any energy model with
/// `energy(x) -> [B]` and `representation(x) -> [B, D]` (CEBM, GMM-CEBM, IGEBM):
///
///   x⁺ = data batch in the model's scale (+ noise);  x⁻ = Langevin chains from the replay buffer;
///   L = mean E(x⁺) − mean E(x⁻) + c · R;  Adam step.
///
/// A run directory holds `config.json`, `metrics.jsonl`, `checkpoints/{last,best,iter_N}.pt`
/// (model, optimiser, buffer, loader position, both generators, iteration; written atomically) and
/// `samples/{data,buffer,long_run}.png`. `best.pt` is chosen by a 1-NN probe of the representation
/// on training images (never the test set). `resume()` continues so that an interrupted and resumed
/// run ends with the same parameters as an uninterrupted one (same seed and threads). A loss that
/// is non-finite or larger than `divergence_threshold` either stops the run (a `DIVERGED` note,
/// `last.pt` untouched) or rolls back to `last.pt` with fresh random streams and a smaller lr.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>

#include "cebm/sampling/persistent_langevin.hpp"
#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/data/image_folder.hpp"
#include "cebm/torch/eval/image_grid.hpp"
#include "cebm/torch/eval/nearest_neighbor.hpp"
#include "cebm/torch/train/checkpoint.hpp"
#include "cebm/torch/train/ebm_trainer_options.hpp"
#include "cebm/torch/train/metrics_log.hpp"
#include "cebm/torch/train/progress.hpp"
#include "cebm/version.hpp"

namespace cebm::train {

/// Thrown when a run diverges and the policy (or the rollback budget) says stop.
struct divergence_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class Model>
class ebm_trainer {
 public:
  ebm_trainer(Model model, data::image_dataset train, ebm_trainer_options o, std::uint64_t seed,
              at::Device device = at::kCPU, std::string config_json = "")
      : model_(std::move(model)), o_(std::move(o)), seed_(seed), device_(device), config_(std::move(config_json)),
        data_gen_(at::detail::createCPUGenerator(seed)),
        sample_gen_(make_device_generator(device, seed + 1)),
        loader_(train, data::loader_options{}.batch_size(o_.batch_size())),
        optimizer_(model_->parameters(), torch::optim::AdamOptions(o_.lr()).betas(std::make_tuple(o_.beta1(), o_.beta2()))),
        buffer_(o_.buffer(), sample_shape(train, o_.input()), at::TensorOptions().device(device), sample_gen_) {
    model_->to(device_);
    auto probe_gen = at::detail::createCPUGenerator(seed + 2);
    const std::int64_t n = train.size(), r = std::min(o_.probe_reference(), n / 2), q = std::min(o_.probe_query(), n - r);
    const at::Tensor perm = at::randperm(n, probe_gen, at::kLong);
    probe_reference_ = train.subset(perm.narrow(0, 0, r));
    probe_query_ = train.subset(perm.narrow(0, r, q));
  }

  Model& model() { return model_; }
  replay_buffer& buffer() { return buffer_; }
  std::int64_t iteration() const { return iteration_; }
  double best_probe() const { return best_probe_; }
  const std::map<std::string, double>& last_metrics() const { return last_; }
  std::string checkpoint_path(const std::string& name) const { return (dir() / "checkpoints" / (name + ".pt")).string(); }

  /// Continue from a checkpoint written by this trainer (`checkpoint_path("last")`).
  void resume(const std::string& path) { load(path); }

  /// Train until `iterations`; returns normally, or throws divergence_error.
  void run() {
    namespace fs = std::filesystem;
    fs::create_directories(dir() / "checkpoints");
    fs::create_directories(dir() / "samples");
    if (!config_.empty()) std::ofstream(dir() / "config.json") << config_ << '\n';
    metrics_log log((dir() / "metrics.jsonl").string());
    progress bar(o_.iterations(), o_.log_every());
    const std::int64_t start = iteration_;
    const auto t0 = std::chrono::steady_clock::now();
    while (iteration_ < o_.iterations()) {
      step_result result;
      std::string why;
      bool ok;
      try {
        ok = step(result, why);
      } catch (const std::domain_error& e) {  // non-finite energies in the sampler or the loss
        ok = false;
        why = e.what();
      }
      if (!ok) {
        diverged(why);
        continue;
      }
      ++iteration_;
      const bool end = iteration_ == o_.iterations();
      const bool log_now = iteration_ % o_.log_every() == 0 || end;
      const bool probe_now = iteration_ % o_.probe_every() == 0 || end;
      // Read the step's values (a device sync each) only when a row is logged, probed or shown.
      std::map<std::string, double> row;
      if (log_now || probe_now || bar.redraws_every_call()) {
        row = result.to_map();
        row["lr"] = current_lr();
        row["iteration"] = static_cast<double>(iteration_);
        row["elapsed_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        bar.update(iteration_, iteration_ - start, format_progress(row));
        row["it_per_s"] = bar.rate();
        last_ = row;
      }
      if (iteration_ % o_.sample_every() == 0 || end) write_samples();
      if (probe_now) {
        row["probe_1nn"] = probe();
        if (row["probe_1nn"] > best_probe_) {
          best_probe_ = row["probe_1nn"];
          save(checkpoint_path("best"));
        }
      }
      if (log_now) log.write(row);
      if (iteration_ % o_.checkpoint_every() == 0 || end) {
        save(checkpoint_path("last"));
        if (iteration_ % o_.keep_every() == 0) save(checkpoint_path("iter_" + std::to_string(iteration_)));
      }
    }
    write_long_run();
  }

  /// 1-NN accuracy of the representation: probe queries against probe references (training images).
  double probe() {
    const at::Tensor ref = features(probe_reference_.images), qry = features(probe_query_.images);
    const std::int64_t classes = std::max<std::int64_t>(1, probe_reference_.labels.max().item<std::int64_t>() + 1);
    return eval::nearest_neighbor(ref, probe_reference_.labels, qry, probe_query_.labels, classes).accuracy;
  }

  /// Representations of uint8 images, without input noise, in eval batches.
  at::Tensor features(const at::Tensor& images, std::int64_t batch = 500) {
    c10::NoGradGuard no_grad;
    auto clean = o_.input();
    clean.noise_std(0.0);
    std::vector<at::Tensor> out;
    for (std::int64_t s = 0; s < images.size(0); s += batch) {
      const at::Tensor x = data::to_model_input(images.narrow(0, s, std::min(batch, images.size(0) - s)), clean, feature_gen_);
      out.push_back(model_->representation(x.to(device_)).cpu());
    }
    return at::cat(out);
  }

  void save(const std::string& path) {
    torch::serialize::OutputArchive a, m, opt, buf, ld;
    model_->save(m);
    optimizer_.save(opt);
    buffer_.save(buf);
    loader_.save(ld);
    a.write("model", m);
    a.write("optimizer", opt);
    a.write("buffer", buf);
    a.write("loader", ld);
    a.write("data_rng", data_gen_.get_state(), true);
    a.write("sample_rng", sample_gen_.get_state().cpu(), true);
    a.write("iteration", at::tensor(iteration_), true);
    a.write("best_probe", at::tensor(best_probe_), true);
    a.write("rollbacks", at::tensor(rollbacks_), true);
    a.write("model_kind", c10::IValue(std::string(Model::ContainedType::kind)));
    a.write("config", c10::IValue(config_));
    a.write("cebm_version", c10::IValue(std::string(CEBM_VERSION_STRING)));
    write_checkpoint(a, path);
  }

  void load(const std::string& path) {
    torch::serialize::InputArchive a = read_checkpoint(path);
    c10::IValue kind;
    if (!a.try_read("model_kind", kind) || kind.toStringRef() != Model::ContainedType::kind)
      throw std::runtime_error(path + ": holds a " + (kind.isString() ? kind.toStringRef() : std::string("non-cebm")) +
                               " checkpoint, this trainer trains " + Model::ContainedType::kind);
    torch::serialize::InputArchive m, opt, buf, ld;
    a.read("model", m);
    a.read("optimizer", opt);
    a.read("buffer", buf);
    a.read("loader", ld);
    model_->load(m);
    model_->to(device_);
    optimizer_.load(opt);
    buffer_.load(buf);
    loader_.load(ld);
    at::Tensor data_rng, sample_rng, it, best, rb;
    a.read("data_rng", data_rng, true);
    a.read("sample_rng", sample_rng, true);
    a.read("iteration", it, true);
    a.read("best_probe", best, true);
    a.read("rollbacks", rb, true);
    data_gen_.set_state(data_rng);
    sample_gen_.set_state(sample_rng);
    iteration_ = it.item<std::int64_t>();
    best_probe_ = best.item<double>();
    rollbacks_ = rb.item<std::int64_t>();
  }

 private:
  static std::vector<std::int64_t> sample_shape(const data::image_dataset& d, const data::image_transform_options& in) {
    d.validate();
    const at::Tensor one = data::reshape_images(d.images.narrow(0, 0, 1), in);
    return {one.size(1), one.size(2), one.size(3)};
  }
  static at::Generator make_device_generator(at::Device device, std::uint64_t seed) {
    if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
    at::Generator g = at::globalContext().defaultGenerator(device);  // the device's own stream
    g.set_current_seed(seed);
    return g;
  }
  std::filesystem::path dir() const { return std::filesystem::path(o_.out_dir()); }

  /// One iteration's values, kept as 0-dim tensors until a row needs them.
  struct step_result {
    double loss = 0;
    cd_loss cd;
    langevin_diagnostics chains;
    std::map<std::string, double> to_map() const {
      std::map<std::string, double> row = chains.to_map();
      row["loss"] = loss;
      row["energy_pos"] = cd.energy_pos.item<double>();
      row["energy_neg"] = cd.energy_neg.item<double>();
      row["gap"] = cd.gap.item<double>();
      row["regularizer"] = cd.regularizer.item<double>();
      return row;
    }
  };

  bool step(step_result& out, std::string& why) {
    model_->train();
    const data::image_batch batch = loader_.next(data_gen_);
    const at::Tensor x_pos = data::to_model_input(batch.images, o_.input(), data_gen_).to(device_);
    auto energy = [&](const at::Tensor& x) { return model_->energy(x); };
    const langevin_result chains = persistent_langevin(buffer_, energy, x_pos.size(0), o_.sgld(), sample_gen_);
    const cd_loss cd = contrastive_divergence(model_->energy(x_pos), model_->energy(chains.samples), o_.loss());
    const double loss = cd.loss.item<double>();  // the divergence guard's one read per iteration
    if (!std::isfinite(loss) || std::abs(loss) > o_.divergence_threshold()) {
      why = "loss " + std::to_string(loss) + " (threshold " + std::to_string(o_.divergence_threshold()) + ")";
      return false;
    }
    optimizer_.zero_grad();
    cd.loss.backward();
    optimizer_.step();
    last_x_pos_ = x_pos.detach();
    out = {loss, cd, chains.diagnostics};
    return true;
  }

  double current_lr() { return static_cast<torch::optim::AdamOptions&>(optimizer_.param_groups()[0].options()).lr(); }

  void diverged(const std::string& why) {
    namespace fs = std::filesystem;
    const std::string last = checkpoint_path("last");
    const std::string where = "training diverged at iteration " + std::to_string(iteration_ + 1) + ": " + why;
    if (o_.on_divergence() == divergence_policy::rollback && rollbacks_ < o_.max_rollbacks() && fs::exists(last)) {
      const std::int64_t count = rollbacks_ + 1;  // the checkpoint's own count predates these rollbacks
      load(last);
      rollbacks_ = count;
      // Fresh random streams and a smaller step: what users did by hand after a diverged run.
      data_gen_.set_current_seed(seed_ + 7919 * static_cast<std::uint64_t>(rollbacks_));
      sample_gen_.set_current_seed(seed_ + 1 + 7919 * static_cast<std::uint64_t>(rollbacks_));
      for (auto& group : optimizer_.param_groups()) {
        auto& opts = static_cast<torch::optim::AdamOptions&>(group.options());
        opts.lr(opts.lr() * o_.rollback_lr_scale());
      }
      std::fprintf(stderr, "\n%s; rolled back to %s (iteration %lld), rollback %lld of %lld, lr now %g\n", where.c_str(),
                   last.c_str(), (long long)iteration_, (long long)rollbacks_, (long long)o_.max_rollbacks(), current_lr());
      return;
    }
    const std::string message = where + (fs::exists(last) ? "; the last good checkpoint is " + last : "; no checkpoint was written yet");
    std::ofstream(dir() / "DIVERGED") << message << '\n' << metrics_log::format(last_) << '\n';
    throw divergence_error(message);
  }

  void write_samples() {
    const auto scale = o_.input().scale();
    const std::int64_t n = std::min<std::int64_t>(64, buffer_.capacity());
    if (last_x_pos_.defined())
      data::write_png((dir() / "samples" / "data.png").string(),
                      eval::make_grid(data::to_pixels(last_x_pos_.narrow(0, 0, std::min<std::int64_t>(64, last_x_pos_.size(0))).cpu(), scale)));
    data::write_png((dir() / "samples" / "buffer.png").string(),
                    eval::make_grid(data::to_pixels(buffer_.contents().narrow(0, 0, n).cpu(), scale)));
  }

  void write_long_run() {
    if (o_.long_run_steps() <= 0) return;
    auto gen = make_device_generator(device_, seed_ + 3);
    const at::Tensor start = buffer_.fresh(o_.long_run_chains(), gen);
    auto energy = [&](const at::Tensor& x) { return model_->energy(x); };
    const langevin_result run = langevin(energy, start, langevin_options(o_.sgld()).steps(o_.long_run_steps()), gen);
    data::write_png((dir() / "samples" / "long_run.png").string(),
                    eval::make_grid(data::to_pixels(run.samples.cpu(), o_.input().scale())));
    long_run_ = run.samples.cpu();
  }

  static std::string format_progress(const std::map<std::string, double>& r) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "loss %.4g  E+ %.4g  E- %.4g  gap %.4g  |dE/dx| %.3g", r.at("loss"), r.at("energy_pos"),
                  r.at("energy_neg"), r.at("gap"), r.count("grad_norm") ? r.at("grad_norm") : NAN);
    return buf;
  }

  Model model_;
  ebm_trainer_options o_;
  std::uint64_t seed_;
  at::Device device_;
  std::string config_;
  at::Generator data_gen_, sample_gen_;
  // Feature extraction draws only for dequantised inputs; its own stream keeps training's untouched.
  at::Generator feature_gen_ = at::detail::createCPUGenerator(0);
  data::batch_loader loader_;
  torch::optim::Adam optimizer_;
  replay_buffer buffer_;
  data::image_dataset probe_reference_, probe_query_;
  std::int64_t iteration_ = 0, rollbacks_ = 0;
  double best_probe_ = -1;
  at::Tensor last_x_pos_, long_run_;
  std::map<std::string, double> last_;

 public:
  /// The long-run chains of the last run() (CPU), empty before.
  const at::Tensor& long_run_samples() const { return long_run_; }
};

}  // namespace cebm::train
