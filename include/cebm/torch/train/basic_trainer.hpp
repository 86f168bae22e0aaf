#pragma once
/// @file
/// `basic_trainer<Derived, Options>`: what every cebm trainer shares, around one training
/// iteration that the derived class supplies (CRTP; `ebm_trainer`, `clel_trainer`):
///
///   - the run directory (run_directory.hpp): config.json, metrics.jsonl, samples, DIVERGED;
///   - the loop: log every `log_every`, data and replay-buffer grids every `sample_every`, a 1-NN
///     probe of the representation every `probe_every` that picks `best.pt` (queries and references
///     are training images, never the test set), `last.pt` every `checkpoint_every`, `iter_N.pt`
///     when `keep_every` divides N, long-run chains from fresh noise at the end (`long_run.png`);
///   - checkpoints, written atomically (checkpoint.hpp): the derived state plus the loader
///     position, the generators (torch's default CPU generator too, for dropout), the iteration,
///     the best probe, the rollback count, `model_kind`, the config JSON and `cebm_version`;
///     `resume()` continues so that an interrupted and resumed run ends with the same parameters as
///     an uninterrupted one (same seed and threads);
///   - TensorBoard event files in the run directory (io/tensorboard/, unless the options'
///     `tensorboard` is off): every metrics row as scalars at its iteration, every sample grid as
///     an image (`samples/<name>`), histograms of the energies of the last data and sample batches
///     at the sample cadence (`energy/data`, `energy/samples`, from a trainer's optional
///     `step_distributions()`) and of the probe's representations (`representation`), and the
///     configuration as text (`config`) when the run opens. A resume or rollback to iteration N
///     first drops what the event files hold after N (event_file::keep_steps_up_to) and starts a
///     new file with a SessionLog START at N + 1, so they describe the model the checkpoint holds;
///   - the precision policy (precision/precision_policy.hpp) of the options' `precision`: Derived
///     runs its networks through `in_precision(f)`, calls backward on `scaled_loss(loss)` and steps
///     only when `unscale_gradients()` (after `average_gradients()`) finds the gradients finite, which
///     in fp16 a skipped step and a smaller loss scale follow (loss_scaler.hpp; in fp16 the checkpoint
///     holds the scaler, the metrics `loss_scale` and `skipped_steps`); the probe's representations and the
///     long run's chains run under the same policy;
///   - the divergence guard (divergence_policy.hpp): a non-finite loss, a loss above
///     `divergence_threshold`, or a `std::domain_error` from the sampler or the loss ends the
///     iteration without an update and aborts or rolls back.
///
/// Random streams: `data_gen_` (CPU, seed) shuffles and dequantises data; `sample_gen_` (the
/// device's, seed + 1) drives chains and augmentations; the probe split uses seed + 2, the long
/// run seed + 3.
///
/// Data-parallel training (`distribute(group)`, distributed.hpp): each rank reads its shard of the
/// same permutation (a shuffle stream seeded seed + 5 on every rank), dequantises and samples with
/// its own streams and its own replay buffer (rank r > 0: seeds offset by r), and starts from rank
/// 0's parameters and buffers (broadcast; module buffers such as batch-norm statistics again at the
/// start of every iteration). Gradients are averaged over ranks before each optimiser step
/// (`Derived` calls `average_gradients()` between backward and step); the divergence guard decides
/// on every rank's loss together. Rank 0 alone writes the run directory: checkpoints, metrics (the
/// mean over ranks), samples, the probe (broadcast) and the long run. A resume or rollback reads the
/// checkpoint on every rank (the run directory must be on a file system they all see), keeps rank
/// 0's replay buffer on every rank and reseeds rank r > 0 from the seed, r and the iteration, so
/// exact resume holds for one process only.
///
/// `Options` derive from `run_options<Options>` (run_options.hpp): the loop's settings, once.
///
/// `Derived` writes its step and its metrics:
///   bool train_step(std::string& why);                   one iteration; false (with why) = diverged
///   std::map<std::string, double> step_values();         the last step's values (may sync a device)
/// and, unless it derives from model_trainer (model_trainer.hpp), which supplies them for one
/// module and one Adam optimiser:
///   std::string model_kind();                            stored as `model_kind`, checked on load
///   void scale_learning_rates(double factor);            after a rollback
///   void save_state(torch::serialize::OutputArchive&);   model, optimisers, buffer, ...
///   void load_state(torch::serialize::InputArchive&);
///   at::Tensor representation(const at::Tensor& x);      evaluation features, x on the device
///   std::vector<at::Tensor> trained_parameters();        what the optimisers step (gradients averaged)
///   std::vector<at::Tensor> replicated_state();          every parameter and buffer ranks must share
///   std::vector<at::Tensor> module_buffers();            buffers the forward changes (batch norm, ...)
/// `run()` checks each hook when it is instantiated and names the one that is missing. Derived may
/// replace `progress_text(row)` (the values shown with the progress) and reads its batches with
/// `next_input()`. A trainer of an energy model sampled by Langevin chains also provides
///   replay_buffer& buffer();                             its grid `samples/buffer.png`, per-rank reset
///   at::Tensor sampling_energy(const at::Tensor& x);     the energy of the long-run chains
/// and then its Options need long_run_steps, long_run_chains and sgld; it may also provide
///   std::map<std::string, at::Tensor> step_distributions();   the last step's per-sample values
///                                                             (energies of data and samples), histograms
/// a trainer of a model with an
/// ancestral sampler (VAE, GAN) provides instead
///   at::Tensor sample_images(std::int64_t n, at::Generator& gen);   model-scale samples, `samples/samples.png`
///
/// The library prints nothing: a caller that wants progress and messages (a rollback) passes a
/// `training_reporter` to `report_to()`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

#include "cebm/sampling/langevin.hpp"
#include "cebm/sampling/replay_buffer.hpp"
#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/metrics/nearest_neighbor.hpp"
#include "cebm/torch/io/checkpoint.hpp"
#include "cebm/torch/distributed/process_group.hpp"
#include "cebm/torch/train/divergence_policy.hpp"
#include "cebm/torch/io/metrics_log.hpp"
#include "cebm/torch/io/run_directory.hpp"
#include "cebm/torch/io/run_lock.hpp"
#include "cebm/torch/io/tensorboard/summary_writer.hpp"
#include "cebm/torch/precision/loss_scaler.hpp"
#include "cebm/torch/precision/precision_policy.hpp"
#include "cebm/torch/train/stop_signals.hpp"
#include "cebm/version.hpp"

namespace cebm::train {

namespace detail {
// One detector per hook, so that the static check names the hook that is missing.
#define CEBM_TRAINER_HOOK(name, ...)                                                      \
  template <class T, class = void>                                                        \
  struct has_##name : std::false_type {};                                                 \
  template <class T>                                                                      \
  struct has_##name<T, std::void_t<decltype(std::declval<T&>().__VA_ARGS__)>> : std::true_type {};
CEBM_TRAINER_HOOK(model_kind, model_kind())
CEBM_TRAINER_HOOK(train_step, train_step(std::declval<std::string&>()))
CEBM_TRAINER_HOOK(step_values, step_values())
CEBM_TRAINER_HOOK(scale_learning_rates, scale_learning_rates(1.0))
CEBM_TRAINER_HOOK(save_state, save_state(std::declval<torch::serialize::OutputArchive&>()))
CEBM_TRAINER_HOOK(load_state, load_state(std::declval<torch::serialize::InputArchive&>()))
CEBM_TRAINER_HOOK(representation, representation(std::declval<const at::Tensor&>()))
CEBM_TRAINER_HOOK(trained_parameters, trained_parameters())
CEBM_TRAINER_HOOK(replicated_state, replicated_state())
CEBM_TRAINER_HOOK(module_buffers, module_buffers())
#undef CEBM_TRAINER_HOOK
#define CEBM_REQUIRE_HOOK(name, signature)                                                                \
  static_assert(detail::has_##name<Derived>::value, "cebm::train::basic_trainer<Derived, Options>: Derived " \
                                                    "lacks the public hook `" signature                     \
                                                    "` (see cebm/torch/train/basic_trainer.hpp)")
/// Every parameter, then every buffer, of a module: the `replicated_state()` of one-model trainers.
inline std::vector<at::Tensor> parameters_and_buffers(const torch::nn::Module& m) {
  std::vector<at::Tensor> state = m.parameters();
  for (const auto& b : m.buffers()) state.push_back(b);
  return state;
}
/// A Langevin-sampled energy model: a replay buffer and the energy of the long-run chains.
template <class T, class = void>
struct has_replay_buffer : std::false_type {};
template <class T>
struct has_replay_buffer<T, std::void_t<decltype(std::declval<T&>().buffer()),
                                        decltype(std::declval<T&>().sampling_energy(std::declval<const at::Tensor&>()))>>
    : std::true_type {};
template <class T, class = void>
struct has_step_distributions : std::false_type {};
template <class T>
struct has_step_distributions<T, std::void_t<decltype(std::declval<T&>().step_distributions())>> : std::true_type {};
template <class T, class = void>
struct has_sample_images : std::false_type {};
template <class T>
struct has_sample_images<T, std::void_t<decltype(std::declval<T&>().sample_images(std::int64_t{1},
                                                                                  std::declval<at::Generator&>()))>>
    : std::true_type {};
}  // namespace detail

/// What a trainer tells its caller while it runs (either may be empty).
struct training_reporter {
  /// After each logged iteration: iterations done, how many of them in this process, the values.
  std::function<void(std::int64_t done, std::int64_t done_here, const std::string& values)> progress;
  std::function<void(const std::string&)> message;
};

template <class Derived, class Options>
class basic_trainer {
 public:
  std::int64_t iteration() const { return iteration_; }
  /// True after a resume from a checkpoint whose sampler state came from another kind of device.
  bool resumed_with_fresh_noise() const { return fresh_noise_; }
  double best_probe() const { return best_probe_; }
  const Options& options() const { return o_; }
  /// What the networks compute in (the options' `precision` on the run's device).
  const precision_policy& precision() const { return precision_; }
  const loss_scaler& scaler() const { return scaler_; }
  const std::map<std::string, double>& last_metrics() const { return last_; }
  const run_directory& directory() const { return dir_; }
  std::string checkpoint_path(const std::string& name) const { return dir_.checkpoint(name); }
  /// The long-run chains of the last run() (CPU), empty before.
  const at::Tensor& long_run_samples() const { return long_run_; }

  /// Where progress (`progress(done, done_in_this_process, values)` after each logged iteration,
  /// rank 0 only) and messages (a rollback) go; by default nowhere.
  void report_to(training_reporter r) { reporter_ = std::move(r); }

  /// The values shown with the progress: every value of the row but the loop's own; a trainer may
  /// replace it with a shorter line.
  std::string progress_text(const std::map<std::string, double>& row) const {
    std::string out;
    char buf[64];
    for (const auto& [k, v] : row) {
      if (k == "iteration" || k == "elapsed_s" || k == "it_per_s") continue;
      std::snprintf(buf, sizeof buf, "%s%s %.4g", out.empty() ? "" : "  ", k.c_str(), v);
      out += buf;
    }
    return out;
  }

  /// Continue from a checkpoint written by this kind of trainer (`checkpoint_path("last")`).
  void resume(const std::string& path) {
    load(path);
    resumed_ = true;
  }

  /// A run started without resume() where a run has written (checkpoints, metrics,
  /// configuration) is refused unless `overwrite`: then run() first removes that run's files.
  void overwrite_existing_run(bool overwrite) { overwrite_ = overwrite; }
  /// The configuration the checkpoint resumed from was written with ("" before a resume, or for a
  /// checkpoint without one), and this trainer's: a program compares them (what may change).
  const std::string& stored_config() const { return stored_config_; }
  const std::string& config() const { return config_; }

  /// Train data-parallel with the ranks of `group` (call before run(), step() or resume()). Every
  /// rank must construct its trainer with the same options, seed and dataset.
  void distribute(std::shared_ptr<process_group> group) {
    if (!group) throw std::invalid_argument("cebm::train::basic_trainer::distribute: no process group");
    group_ = std::move(group);
    const int rank = group_->rank();
    loader_ = data::batch_loader(loader_.dataset(), data::loader_options{}.batch_size(o_.batch_size()).rank(rank).world_size(group_->world_size()));
    shuffle_gen_ = at::detail::createCPUGenerator(seed_ + 5);  // the same permutations on every rank
    if (rank > 0) {
      data_gen_.set_current_seed(rank_seed(0));
      sample_gen_.set_current_seed(rank_seed(1));
      if constexpr (detail::has_replay_buffer<Derived>::value) self().buffer().reset(sample_gen_);
    }
    group_->broadcast(self().replicated_state());
    reducer_ = std::make_unique<gradient_reducer>(group_, self().trained_parameters());
  }
  const std::shared_ptr<process_group>& group() const { return group_; }
  bool is_main_rank() const { return !group_ || group_->rank() == 0; }

  /// Train until `iterations`; returns normally, or throws divergence_error. With `stop_at`
  /// (< iterations) the run stops early as if interrupted there: `last.pt` is written at
  /// `stop_at`, no long run, and a later `resume` + `run()` continues the same schedule.
  void run(std::int64_t stop_at = -1) {
    CEBM_REQUIRE_HOOK(train_step, "bool train_step(std::string& why)");
    CEBM_REQUIRE_HOOK(step_values, "std::map<std::string, double> step_values()");
    CEBM_REQUIRE_HOOK(model_kind, "std::string model_kind()");
    CEBM_REQUIRE_HOOK(scale_learning_rates, "void scale_learning_rates(double factor)");
    CEBM_REQUIRE_HOOK(save_state, "void save_state(torch::serialize::OutputArchive&)");
    CEBM_REQUIRE_HOOK(load_state, "void load_state(torch::serialize::InputArchive&)");
    CEBM_REQUIRE_HOOK(representation, "at::Tensor representation(const at::Tensor& x)");
    CEBM_REQUIRE_HOOK(trained_parameters, "std::vector<at::Tensor> trained_parameters()");
    CEBM_REQUIRE_HOOK(replicated_state, "std::vector<at::Tensor> replicated_state()");
    CEBM_REQUIRE_HOOK(module_buffers, "std::vector<at::Tensor> module_buffers()");
    const bool main = is_main_rank();
    struct end_of_run {  // however run() ends: the log closed, the directory's lock released
      basic_trainer* t;
      ~end_of_run() {
        t->log_.reset();
        t->events_.reset();
        t->lock_.release();
      }
    } closing{this};
    if (main) open_run_directory();
    const std::int64_t start = iteration_, target = stop_at < 0 ? o_.iterations() : std::min(stop_at, o_.iterations());
    const auto t0 = std::chrono::steady_clock::now();
    while (iteration_ < target) {
      std::string why;
      const bool ok = guarded_step(why);
      if (!ok) {
        diverged(why);
        continue;
      }
      ++iteration_;
      const bool end = iteration_ == target;
      const bool log_now = iteration_ % o_.log_every() == 0 || end;
      const bool probe_now = iteration_ % o_.probe_every() == 0 || end;
      // Read the step's values (a device sync each) only when a row is logged or probed.
      std::map<std::string, double> row;
      if (log_now || probe_now) {
        row = mean_over_ranks(self().step_values());
        if (scaler_.enabled()) {
          row["loss_scale"] = scaler_.scale();
          row["skipped_steps"] = static_cast<double>(scaler_.skipped_steps());
        }
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        row["iteration"] = static_cast<double>(iteration_);
        row["elapsed_s"] = elapsed;
        row["it_per_s"] = elapsed > 0 ? static_cast<double>(iteration_ - start) / elapsed : 0.0;
        if (main && reporter_.progress) reporter_.progress(iteration_, iteration_ - start, self().progress_text(row));
        last_ = row;
      }
      if (main && (iteration_ % o_.sample_every() == 0 || end)) write_samples();
      if (probe_now) {
        row["probe_1nn"] = main_rank_value(main ? probe() : 0.0);  // computed once, the same on every rank
        if (main && events_) events_->add_histogram("representation", probe_features_, iteration_);
        last_["probe_1nn"] = row["probe_1nn"];
        if (row["probe_1nn"] > best_probe_) {
          best_probe_ = row["probe_1nn"];
          save(checkpoint_path("best"));
        }
      }
      if (log_now && main) {
        log_->write(row);
        if (events_) events_->add_scalars(row, iteration_, "train/");
      }
      const bool keep = iteration_ % o_.keep_every() == 0;  // whether or not checkpoint_every divides it
      if (iteration_ % o_.checkpoint_every() == 0 || end || keep) {
        // The kept checkpoint first: a resume starts after last.pt's iteration, so a process
        // ended between the two writes must not have moved last.pt past a missing iter_N.pt.
        if (keep) save(checkpoint_path("iter_" + std::to_string(iteration_)));
        save(checkpoint_path("last"));
      }
      if (!end && stop_requested()) stop();
    }
    if constexpr (detail::has_replay_buffer<Derived>::value)
      if (iteration_ == o_.iterations() && main) write_long_run();
  }

  /// One training iteration outside run(): no logging, samples, probes, checkpoints or divergence
  /// policy. Returns false (with the reason in `why`, when given) if the iteration diverged: then
  /// the optimisers did not step and the iteration count stays, but the replay buffer, the random
  /// streams and running statistics may have moved (run()'s policies restore them from last.pt).
  bool step(std::string* why = nullptr) {
    std::string reason;
    const bool ok = guarded_step(reason);
    if (ok) ++iteration_;
    if (why) *why = reason;
    return ok;
  }

  /// 1-NN accuracy of the representation: probe queries against probe references (training images).
  double probe() {
    const at::Tensor ref = features(probe_reference_.images), qry = features(probe_query_.images);
    probe_features_ = qry;
    // Classes from both sets: a query may carry a label no reference has.
    const std::int64_t classes = 1 + std::max<std::int64_t>({0, probe_reference_.labels.max().item<std::int64_t>(),
                                                              probe_query_.labels.max().item<std::int64_t>()});
    return eval::nearest_neighbor(ref, probe_reference_.labels, qry, probe_query_.labels, classes).accuracy;
  }

  /// Representations of uint8 images, without input noise, in eval batches (CPU). Dequantised
  /// inputs draw their noise from a stream that starts anew at every call, so the features (and
  /// the probe) are a function of the model alone, the same in a resumed process as in the
  /// uninterrupted one.
  at::Tensor features(const at::Tensor& images, std::int64_t batch = 500) {
    c10::NoGradGuard no_grad;
    feature_gen_.set_current_seed(seed_ + 3);
    auto clean = o_.input();
    clean.noise_std(0.0);
    std::vector<at::Tensor> out;
    for (std::int64_t s = 0; s < images.size(0); s += batch) {
      const at::Tensor x = data::to_model_input(images.narrow(0, s, std::min(batch, images.size(0) - s)), clean, feature_gen_);
      out.push_back(in_precision([&] { return self().representation(x.to(device_)); }).cpu());
    }
    return at::cat(out);
  }

  /// Write a checkpoint (rank 0 only in a data-parallel run; the other ranks return).
  void save(const std::string& path) {
    if (!is_main_rank()) return;
    torch::serialize::OutputArchive a, ld;
    self().save_state(a);
    loader_.save(ld);
    a.write("loader", ld);
    a.write("data_rng", data_gen_.get_state(), true);
    a.write("shuffle_rng", shuffle_gen_.get_state(), true);
    a.write("sample_rng", sample_gen_.get_state().cpu(), true);
    // Modules that draw from torch's default CPU generator (dropout) continue the same stream.
    a.write("default_cpu_rng", at::detail::getDefaultCPUGenerator().get_state(), true);
    a.write("iteration", at::tensor(iteration_), true);
    a.write("best_probe", at::tensor(best_probe_), true);
    a.write("rollbacks", at::tensor(rollbacks_), true);
    if (scaler_.enabled()) {  // fp16
      torch::serialize::OutputArchive scaler;
      scaler_.save(scaler);
      a.write("loss_scaler", scaler);
    }
    a.write("model_kind", c10::IValue(std::string(self().model_kind())));
    a.write("config", c10::IValue(config_));
    a.write("cebm_version", c10::IValue(std::string(CEBM_VERSION_STRING)));
    write_checkpoint(a, path);
  }

  void load(const std::string& path) {
    torch::serialize::InputArchive a = read_checkpoint(path);
    const std::string want = self().model_kind();
    c10::IValue kind;
    if (!a.try_read("model_kind", kind) || !kind.isString() || kind.toStringRef() != want)
      throw std::runtime_error(path + ": holds a " + (kind.isString() ? kind.toStringRef() : std::string("non-cebm")) +
                               " checkpoint, this trainer trains " + want);
    self().load_state(a);
    c10::IValue stored;
    stored_config_ = a.try_read("config", stored) && stored.isString() ? stored.toStringRef() : std::string();
    torch::serialize::InputArchive ld;
    a.read("loader", ld);
    loader_.load(ld);
    at::Tensor data_rng, sample_rng, it, best, rb;
    a.read("data_rng", data_rng, true);
    a.read("sample_rng", sample_rng, true);
    a.read("iteration", it, true);
    a.read("best_probe", best, true);
    a.read("rollbacks", rb, true);
    data_gen_.set_state(data_rng);
    // A sampler state saved on another kind of device (a CPU run resumed on a GPU, say) does not
    // fit this device's generator: the chains' noise then restarts from seed + 1 + iteration, and
    // `resumed_with_fresh_noise()` says so. An exact resume needs the device the run was saved on.
    fresh_noise_ = sample_rng.numel() != sample_gen_.get_state().numel();
    if (fresh_noise_)
      sample_gen_.set_current_seed(seed_ + 1 + static_cast<std::uint64_t>(it.item<std::int64_t>()));
    else
      sample_gen_.set_state(sample_rng);
    at::Tensor default_rng;  // absent in checkpoints written before it was saved
    if (a.try_read("default_cpu_rng", default_rng, true)) {
      at::Generator global = at::detail::getDefaultCPUGenerator();  // a handle on the shared generator
      global.set_state(default_rng);
    }
    torch::serialize::InputArchive scaler;  // written in fp16 only
    if (scaler_.enabled() && a.try_read("loss_scaler", scaler)) scaler_.load(scaler);
    at::Tensor shuffle_rng;  // absent before data-parallel training existed: shuffling was data_rng's
    if (group_ && a.try_read("shuffle_rng", shuffle_rng, true)) shuffle_gen_.set_state(shuffle_rng);
    iteration_ = it.item<std::int64_t>();
    best_probe_ = best.item<double>();
    rollbacks_ = rb.item<std::int64_t>();
    if (log_) {  // a rollback: the log forgets the iterations the checkpoint's model never reached
      log_.reset();
      metrics_log::truncate_after(dir_.file("metrics.jsonl"), iteration_);
      log_.emplace(dir_.metrics());
      if (events_) {
        events_.reset();
        open_event_file();
      }
    }
    if (group_) {  // rank 0's checkpoint: rank r > 0 takes its own streams, everyone rank 0's state
      if (group_->rank() > 0) {
        data_gen_.set_current_seed(rank_seed(0));
        sample_gen_.set_current_seed(rank_seed(1));
      }
      group_->broadcast(self().replicated_state());
    }
  }

 protected:
  basic_trainer(const data::image_dataset& train, Options o, std::uint64_t seed, at::Device device, std::string config_json)
      : o_(std::move(o)), seed_(seed), device_(device), precision_(o_.precision(), device), scaler_(precision_.scales_loss()),
        config_(std::move(config_json)), dir_(o_.out_dir()),
        data_gen_(at::detail::createCPUGenerator(seed)), sample_gen_(make_generator(device, seed + 1)),
        loader_(train, data::loader_options{}.batch_size(o_.batch_size())) {
    o_.validate();
    auto probe_gen = at::detail::createCPUGenerator(seed + 2);
    const std::int64_t n = train.size(), r = std::min(o_.probe_reference(), n / 2), q = std::min(o_.probe_query(), n - r);
    const at::Tensor perm = at::randperm(n, probe_gen, at::kLong);
    probe_reference_ = train.subset(perm.narrow(0, 0, r));
    probe_query_ = train.subset(perm.narrow(0, r, q));
  }

  /// The shape of one model input, e.g. {1, 28, 28}, after the options' channel and size changes.
  static std::vector<std::int64_t> sample_shape(const data::image_dataset& d, const data::image_transform_options& in) {
    d.validate();
    const at::Tensor one = data::reshape_images(d.images.narrow(0, 0, 1), in);
    return {one.size(1), one.size(2), one.size(3)};
  }

  /// The next training batch as model input on the device (noise and dequantisation from the data
  /// stream); it is also what `samples/data.png` shows.
  at::Tensor next_input() {
    const data::image_batch batch = loader_.next(shuffle_gen_);
    const at::Tensor x = data::to_model_input(batch.images, o_.input(), data_gen_).to(device_);
    last_data_ = x.detach();
    return x;
  }

  /// False with a reason when `loss` is non-finite or above the divergence threshold; in a
  /// data-parallel run, false on every rank when it holds on any (one collective).
  bool loss_is_sane(double loss, std::string& why) {
    const bool sane = std::isfinite(loss) && std::abs(loss) <= o_.divergence_threshold();
    if (!sane) why = "loss " + std::to_string(loss) + " (threshold " + std::to_string(o_.divergence_threshold()) + ")";
    return ranks_agree(sane, why);
  }

  /// Between backward and the optimiser step: the gradients averaged over ranks (no-op alone).
  void average_gradients() {
    if (reducer_) reducer_->average();
  }

  /// f() (a network's forward pass) under the precision policy, its tensors returned in float32;
  /// f() itself in fp32 mode.
  template <class F>
  auto in_precision(F&& f) const {
    return precision_.forward(std::forward<F>(f));
  }

  /// What backward is called on: the loss, times the loss scale in fp16.
  at::Tensor scaled_loss(const at::Tensor& loss) const { return scaler_.scaled(loss); }

  /// Between average_gradients() and the optimiser steps: in fp16, the gradients divided by the
  /// loss scale and whether they are all finite (if not, the caller skips its steps and the scale
  /// shrinks); true, touching nothing, in every other mode.
  bool unscale_gradients() {
    if (!scaler_.enabled()) return true;
    const bool finite = scaler_.unscale(self().trained_parameters());
    scaler_.update(finite);
    return finite;
  }

  /// At the start of an iteration: module buffers (batch-norm statistics, ...) from rank 0.
  void synchronize_buffers() {
    if (!group_) return;
    const std::vector<at::Tensor> buffers = self().module_buffers();
    if (!buffers.empty()) group_->broadcast(buffers);
  }

  Options o_;
  std::uint64_t seed_;
  at::Device device_;
  precision_policy precision_;
  loss_scaler scaler_;
  std::string config_;
  run_directory dir_;
  at::Generator data_gen_, sample_gen_;
  bool fresh_noise_ = false;
  at::Generator shuffle_gen_ = data_gen_;  ///< the loader's permutations: data_gen_ itself unless distributed
  // Feature extraction draws only for dequantised inputs; its own stream (restarted by each
  // features() call) keeps training's untouched.
  at::Generator feature_gen_ = at::detail::createCPUGenerator(0);
  data::batch_loader loader_;
  data::image_dataset probe_reference_, probe_query_;
  std::int64_t iteration_ = 0, rollbacks_ = 0;
  double best_probe_ = -1;
  at::Tensor last_data_;  ///< the last iteration's data batch, model scale (next_input)
  at::Tensor long_run_;
  std::map<std::string, double> last_;
  std::shared_ptr<process_group> group_;
  std::unique_ptr<gradient_reducer> reducer_;
  training_reporter reporter_;
  run_lock lock_;                    ///< held by rank 0 while run() runs
  std::optional<metrics_log> log_;   ///< open while run() runs (rank 0)
  std::optional<tensorboard::summary_writer> events_;  ///< open while run() runs (rank 0), unless switched off
  at::Tensor probe_features_;        ///< the last probe's query representations (CPU)
  bool resumed_ = false, overwrite_ = false;
  std::string stored_config_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }

  /// Rank 0 at the start of run(): the directory's lock (a second process is refused), no new run
  /// over an old one, the configuration recorded, and the log cut back to this iteration (a run
  /// killed after its last checkpoint logged iterations the checkpoint's model never reached).
  void open_run_directory() {
    lock_ = run_lock(dir_.root());
    if (!resumed_ && dir_.holds_run()) {
      if (!overwrite_)
        throw std::runtime_error(dir_.root().string() + ": holds a run already; continue it (the programs' --resume) or "
                                 "start over deliberately (--overwrite), or choose another directory");
      dir_.clear();
    }
    dir_.create(config_, resumed_ ? iteration_ : -1);
    dir_.remove_partial_writes();
    metrics_log::truncate_after(dir_.file("metrics.jsonl"), iteration_);
    // A resume with nothing left to do (the run had ended) reports the run's last logged row.
    if (resumed_ && last_.empty() && std::filesystem::exists(dir_.file("metrics.jsonl"))) {
      const auto rows = metrics_log::read(dir_.file("metrics.jsonl"));
      if (!rows.empty()) last_ = rows.back();
    }
    log_.emplace(dir_.metrics());
    open_event_file();
    if (events_ && !config_.empty()) events_->add_text("config", "```json\n" + config_ + "\n```", iteration_);
  }

  /// The event files cut back to this iteration (also when this run writes none, so that older
  /// ones never describe iterations the model is about to redo) and, unless switched off, a new
  /// one that begins at the next iteration.
  void open_event_file() {
    tensorboard::event_file::keep_steps_up_to(dir_.root().string(), iteration_);
    if (!o_.tensorboard()) return;
    events_.emplace(dir_.root().string());
    events_->session_start(iteration_ + 1);
  }

  /// Whether SIGINT or SIGTERM asked the run to stop (stop_signals.hpp); in a data-parallel run,
  /// whether any rank was asked (one collective), so that every rank stops after the same iteration.
  bool stop_requested() {
    const int signal = stop_signal().load();
    if (!group_) return signal != 0;
    return group_->sum({signal != 0 ? 1.0 : 0.0})[0] > 0;
  }

  /// Ends an interrupted run: last.pt at this iteration (unless just written), then
  /// interrupted_error.
  void stop() {
    if (iteration_ % o_.checkpoint_every() != 0) save(checkpoint_path("last"));
    const int signal = stop_signal().load();
    throw interrupted_error("interrupted" + std::string(signal == SIGINT ? " (SIGINT)" : signal == SIGTERM ? " (SIGTERM)" : "") +
                                " after iteration " + std::to_string(iteration_) + "; " + checkpoint_path("last") +
                                " holds it (continue with --resume)",
                            signal != 0 ? signal : SIGTERM);
  }

  /// One train_step; a std::domain_error (non-finite energies in the sampler or the loss) is a
  /// divergence, agreed with the other ranks like a bad loss.
  bool guarded_step(std::string& why) {
    try {
      return self().train_step(why);
    } catch (const std::domain_error& e) {
      why = e.what();
      ranks_agree(false, why);  // the other ranks wait in loss_is_sane's collective
      return false;
    }
  }

  /// True on every rank when `ok` holds on every rank; a rank that was fine learns why it stops.
  bool ranks_agree(bool ok, std::string& why) {
    if (!group_) return ok;
    const double failed = group_->sum({ok ? 0.0 : 1.0})[0];
    if (failed == 0) return true;
    if (ok) why = std::to_string(static_cast<long long>(failed)) + " of " + std::to_string(group_->world_size()) +
                  " ranks diverged (non-finite or oversized loss, or non-finite energies)";
    else why = "rank " + std::to_string(group_->rank()) + ": " + why;
    return false;
  }

  /// The row averaged over ranks (every rank holds the same keys).
  std::map<std::string, double> mean_over_ranks(std::map<std::string, double> row) {
    if (!group_) return row;
    std::vector<double> v;
    for (const auto& [k, x] : row) v.push_back(x);
    v = group_->sum(v);
    std::size_t i = 0;
    for (auto& [k, x] : row) x = v[i++] / group_->world_size();
    return row;
  }

  /// `value` as rank 0 has it, on every rank.
  double main_rank_value(double value) {
    if (!group_) return value;
    return group_->sum({is_main_rank() ? value : 0.0})[0];
  }

  /// Rank r's own stream seeds (r > 0), distinct per stream, rank, rollback and resume point.
  std::uint64_t rank_seed(std::uint64_t stream) const {
    return seed_ + stream + 1000003ull * static_cast<std::uint64_t>(group_->rank()) +
           7919ull * static_cast<std::uint64_t>(rollbacks_) + 104729ull * static_cast<std::uint64_t>(iteration_);
  }

  void diverged(const std::string& why) {
    const std::string last = checkpoint_path("last");
    const bool have_last = std::filesystem::exists(last);
    const std::string where = "training diverged at iteration " + std::to_string(iteration_ + 1) + ": " + why;
    if (o_.on_divergence() == divergence_policy::rollback && rollbacks_ < o_.max_rollbacks() && have_last) {
      const std::int64_t count = rollbacks_ + 1;  // the checkpoint's own count predates these rollbacks
      load(last);
      rollbacks_ = count;
      // Fresh random streams and a smaller step: what users did by hand after a diverged run.
      data_gen_.set_current_seed(group_ && group_->rank() > 0 ? rank_seed(0) : seed_ + 7919 * static_cast<std::uint64_t>(rollbacks_));
      sample_gen_.set_current_seed(group_ && group_->rank() > 0 ? rank_seed(1)
                                                                 : seed_ + 1 + 7919 * static_cast<std::uint64_t>(rollbacks_));
      self().scale_learning_rates(o_.rollback_lr_scale());
      if (reporter_.message) {
        char buf[160];
        std::snprintf(buf, sizeof buf, " (iteration %lld), rollback %lld of %lld, learning rates scaled by %g",
                      (long long)iteration_, (long long)rollbacks_, (long long)o_.max_rollbacks(), o_.rollback_lr_scale());
        reporter_.message(where + "; rolled back to " + last + buf);
      }
      return;
    }
    const std::string message = where + (have_last ? "; the last good checkpoint is " + last : "; no checkpoint was written yet");
    if (is_main_rank()) dir_.write_diverged(message, last_);
    throw divergence_error(message);
  }

  /// samples/<name>.png, and the same grid in the event file.
  void write_grid(const std::string& name, const at::Tensor& pixels) {
    const at::Tensor grid = dir_.write_grid(name, pixels);
    if (events_) events_->add_image("samples/" + name, grid, iteration_);
  }

  void write_samples() {
    const auto scale = o_.input().scale();
    if (last_data_.defined())
      write_grid("data", data::to_pixels(last_data_.narrow(0, 0, std::min<std::int64_t>(64, last_data_.size(0))).cpu(), scale));
    if constexpr (detail::has_replay_buffer<Derived>::value) {
      replay_buffer& buffer = self().buffer();
      const std::int64_t n = std::min<std::int64_t>(64, buffer.capacity());
      write_grid("buffer", data::to_pixels(buffer.contents().narrow(0, 0, n).cpu(), scale));
    } else if constexpr (detail::has_sample_images<Derived>::value) {
      // Fixed draws (seed + 3), so successive grids show the same latents as training goes on.
      auto gen = make_generator(device_, seed_ + 3);
      c10::NoGradGuard no_grad;
      write_grid("samples", data::to_pixels(in_precision([&] { return self().sample_images(64, gen); }).cpu(), scale));
    }
    if constexpr (detail::has_step_distributions<Derived>::value)
      if (events_)
        for (const auto& [name, values] : self().step_distributions())
          if (values.defined()) events_->add_histogram("energy/" + name, values, iteration_);
  }

  void write_long_run() {
    if (o_.long_run_steps() <= 0) return;
    auto gen = make_generator(device_, seed_ + 3);
    const at::Tensor start = self().buffer().fresh(o_.long_run_chains(), gen);
    auto energy = [this](const at::Tensor& x) { return in_precision([&] { return self().sampling_energy(x); }); };
    const langevin_result run = langevin(energy, start, langevin_options(o_.sgld()).steps(o_.long_run_steps()), gen);
    write_grid("long_run", data::to_pixels(run.samples.cpu(), o_.input().scale()));
    long_run_ = run.samples.cpu();
  }
};

}  // namespace cebm::train
