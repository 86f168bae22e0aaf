#pragma once
/// @file
/// `trained_run`: any cebm trainer seen through what a program reports once it has trained
/// (iteration, last metrics, best probe, representations, run directory), so that code which
/// writes summaries needs no trainer type. `view_of(trainer)` refers to the trainer, which must
/// outlive the view. `drive(trainer, request)` runs any trainer as a program asks: data-parallel,
/// reported, resumed, with the program's hooks after a resume and after the run.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "cebm/torch/distributed/process_group.hpp"
#include "cebm/torch/train/basic_trainer.hpp"

namespace cebm::train {

/// A trainer seen through what a program reports after training (any trainer type).
struct trained_run {
  std::function<std::int64_t()> iteration;
  std::function<const std::map<std::string, double>&()> last_metrics;
  std::function<double()> best_probe;
  std::function<at::Tensor(const at::Tensor& images)> features;  ///< representations of uint8 images (CPU)
  std::function<std::string()> out_dir;
  std::function<bool()> resumed_with_fresh_noise;
  bool main_rank = true;
};

template <class Trainer>
trained_run view_of(Trainer& t) {
  return {[&t] { return t.iteration(); },
          [&t]() -> const std::map<std::string, double>& { return t.last_metrics(); },
          [&t] { return t.best_probe(); },
          [&t](const at::Tensor& images) { return t.features(images); },
          [&t] { return t.options().out_dir(); },
          [&t] { return t.resumed_with_fresh_noise(); },
          t.is_main_rank()};
}

/// How a program wants a trainer run.
struct run_request {
  std::shared_ptr<process_group> group;  ///< data-parallel ranks (null: one process)
  training_reporter reporter;            ///< where progress and messages go
  bool resume = false;                   ///< continue from the run directory's checkpoints/last.pt
  /// After a resume, before training: the configuration the checkpoint was written with and this
  /// run's (e.g. to refuse a change of the run's maths); may be empty.
  std::function<void(const std::string& stored, const std::string& now)> check_settings;
  /// After a resume, before training (e.g. to say where the run continues); may be empty.
  std::function<void(trained_run&)> resumed;
  bool overwrite = false;                ///< a new run where one has written starts over (else refused)
  /// After training (e.g. the program's summary); may be empty.
  std::function<void(trained_run&)> after_run;
};

template <class Trainer>
void drive(Trainer& trainer, const run_request& r) {
  if (r.group) trainer.distribute(r.group);
  trainer.report_to(r.reporter);
  trained_run view = view_of(trainer);
  trainer.overwrite_existing_run(r.overwrite);
  if (r.resume) {
    trainer.resume(trainer.checkpoint_path("last"));
    if (r.check_settings) r.check_settings(trainer.stored_config(), trainer.config());
    if (r.resumed) r.resumed(view);
  }
  trainer.run();
  if (r.after_run) r.after_run(view);
}

}  // namespace cebm::train
