// Train CLEL (Lee et al., ICLR 2023: a spherical latent-variable EBM guided by a contrastive latent
// encoder) on real images, then write a short training summary (summary.md, summary.json) with the
// EMA encoder's 1-NN test accuracy.
//
//   train_clel --preset demo --out runs/clel_demo --threads 2        # Fashion-MNIST, minutes
//   train_clel --preset paper --dataset cifar10 --data data/cifar-10-batches-bin --device cuda
//   train_clel --out runs/clel_demo --resume                         # continue from checkpoints/last.pt
//   RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 train_clel --distributed ...   # rank 1 of 2
#include <cstdio>
#include <string>

#include <cebm/torch/io/safetensors.hpp>
#include <cebm/torch/models/clel.hpp>
#include <cebm/torch/models/reference_layout.hpp>
#include <cebm/torch/train/clel_trainer.hpp>

#include <cebm/torch/programs/entry_points.hpp>
#include "programs/program.hpp"

namespace cebm::programs {

int train_clel_main(int argc, char** argv) {
  cli::run_flags f;
  f.eval_images = 2000;
  std::string size;
  double ebm_lr = 0, encoder_lr = 0;
  CLI::App app{"Train CLEL (EBM f, g and latent encoder h) on real images and report"};
  f.add_to(app);
  app.add_option("--model-size", size, "override the preset's f: small, base or large")
      ->check(CLI::IsMember({"small", "base", "large"}));
  app.add_option("--ebm-lr", ebm_lr, "override Adam's learning rate for f and g")->check(cli::positive);
  app.add_option("--encoder-lr", encoder_lr, "override SGD's learning rate for h")->check(cli::positive);
  if (const auto status = cli::parse_flags(app, argc, argv)) return *status;

  return cli::guarded([&] {
    const auto proc = cli::start_training(f);  // device, ranks and data

    auto opts = f.apply(cebm::train::clel_trainer_options::preset(f.preset), "clel", proc.group.get());
    auto model_opts = cebm::models::clel_options(opts.model()).in_channels(proc.data.train.channels()).image_size(proc.data.train.height());
    if (!size.empty())
      model_opts.size(size == "small" ? cebm::nn::spherical_ebm_size::small
                      : size == "base" ? cebm::nn::spherical_ebm_size::base
                                       : cebm::nn::spherical_ebm_size::large);
    opts.model(model_opts);
    if (proc.group) opts.ema_half_life_images(opts.ema_half_life_images() / proc.group->world_size());  // in images per rank
    if (ebm_lr > 0) opts.ebm_lr(ebm_lr);
    if (encoder_lr > 0) opts.encoder_lr(encoder_lr);
    const char* size_name[] = {"small", "base", "large"};
    nlohmann::json config = f.config("clel", opts.out_dir(), opts.iterations(), opts.batch_size() * (proc.group ? proc.group->world_size() : 1),
                                     proc.group.get());
    config.update({{"model_size", size_name[static_cast<int>(opts.model().size())]}, {"ebm_lr", opts.ebm_lr()},
                   {"ebm_betas", {opts.ebm_beta1(), opts.ebm_beta2()}}, {"warmup_iterations", opts.warmup_iterations()},
                   {"encoder_lr", opts.encoder_lr()}, {"encoder_momentum", opts.encoder_momentum()},
                   {"encoder_weight_decay", opts.encoder_weight_decay()}, {"l2", opts.loss().l2()}, {"beta", opts.model().beta()},
                   {"beta_test", opts.model().beta_test()}, {"temperature", opts.temperature()},
                   {"sgld_steps", opts.sgld().steps()}, {"sgld_step_size", opts.sgld().step_size()},
                   {"sgld_noise_std", opts.sgld().noise_std()}, {"buffer_capacity", opts.buffer().capacity()},
                   {"buffer_reinit_prob", opts.buffer().reinit_prob()}, {"augmentation", "strong"},
                   {"ema_half_life_images", opts.ema_half_life_images() * (proc.group ? proc.group->world_size() : 1)}});
    std::fprintf(stderr, "clel on %s: seed %llu, %d threads, device %s, run directory %s\n", f.dataset.c_str(),
                 (unsigned long long)f.seed, torch::get_num_threads(), f.device.c_str(), opts.out_dir().c_str());
    cebm::models::Clel model(opts.model());
    if (!f.init_from.empty()) cebm::io::load_safetensors(*model, f.init_from, cebm::models::clel_reference_layout(*model));
    cebm::train::clel_trainer trainer(model, proc.data.train, opts, f.seed, proc.device, config.dump(2));
    return cli::train_and_summarise(trainer, f, "clel", proc.data, proc.group, "encoder", {"data", "buffer", "long_run"});
  });
}

}  // namespace cebm::programs
