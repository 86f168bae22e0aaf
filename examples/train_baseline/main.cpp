// Train one of the CEBM paper's non-energy baselines on real images: the VAE, the GMM-VAE (learned
// mixture prior) or BIGAN, with the same run directory, checkpoints, probe and `evaluate` report
// as train_cebm. Options first, then seed, threads, device, data, model, training loop, summary.
//
//   train_baseline --model vae --preset demo --out runs/vae_demo --threads 2
//   train_baseline --model bigan --preset paper --device cuda --out runs/bigan
//   train_baseline --model gmm_vae --out runs/gmm_vae --resume
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cebm/torch.hpp>
#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/models/bigan.hpp>
#include <cebm/torch/models/vae.hpp>
#include <cebm/torch/train/bigan_trainer.hpp>
#include <cebm/torch/train/vae_trainer.hpp>

#include "common/distributed_flags.hpp"
#include "common/device.hpp"
#include "common/resume.hpp"
#include "common/nearest_neighbor_summary.hpp"

namespace {

struct settings {
  std::string model = "vae", preset = "demo", data = cebm::data::default_fashion_mnist_dir(), out, device = "cpu";
  std::string on_divergence = "abort";
  std::uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t iterations = 0, batch_size = 0, train_subset = 0, eval_images = 10000, latent_dim = 128, components = 50;
  double lr = 0;
  bool resume = false;
  cebm_examples::distributed_flags dist;
};

template <class Trainer>
int train_and_report(Trainer& trainer, const settings& s, const cebm::data::image_dataset& used,
                     const cebm::data::image_dataset& test, std::shared_ptr<cebm::train::process_group> group) {
  if (group) trainer.distribute(group);
  if (s.resume) cebm_examples::resume_run(trainer);
  const auto t0 = std::chrono::steady_clock::now();
  trainer.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!trainer.is_main_rank()) return 0;

  nlohmann::json report = {{"model", s.model},
                           {"preset", s.preset},
                           {"iterations", trainer.iteration()},
                           {"train_seconds", seconds},
                           {"final", trainer.last_metrics()},
                           {"best_probe_1nn", trainer.best_probe()},
                           {"evaluation", cebm_examples::nearest_neighbor_summary(trainer, used, test, s.eval_images)}};
  const std::filesystem::path dir(trainer.options().out_dir());
  std::ofstream(dir / "summary.json") << report.dump(2) << '\n';
  std::ofstream md(dir / "summary.md");
  md << "# " << s.model << " on Fashion-MNIST (" << s.preset << " preset)\n\n| quantity | value |\n| --- | --- |\n"
     << "| iterations | " << trainer.iteration() << " |\n| training time this run | " << seconds << " s |\n";
  for (const auto& [k, v] : report["final"].items()) md << "| final " << k << " | " << v.dump() << " |\n";
  md << "| 1-NN test accuracy, representation | " << report["evaluation"]["nn1_representation"].get<double>() << " |\n"
     << "| 1-NN test accuracy, pixels (baseline) | " << report["evaluation"]["nn1_pixels"].get<double>() << " |\n\n"
     << "Samples: ![data](samples/data.png) ![model samples](samples/samples.png)\n";
  std::printf("%s\nsummary: %s\n", report.dump(2).c_str(), (dir / "summary.md").c_str());
  return 0;
}

// The options every trainer shares, from the flags.
template <class Options>
Options common_options(Options o, const settings& s, const cebm::train::process_group* group) {
  o.out_dir(s.out.empty() ? "runs/" + s.model : s.out);
  if (s.iterations) o.iterations(s.iterations);
  if (s.batch_size) o.batch_size(s.batch_size);
  o.batch_size(cebm_examples::distributed_flags::rank_batch(o.batch_size(), group));
  if (s.lr > 0) o.lr(s.lr);
  o.on_divergence(s.on_divergence == "rollback" ? cebm::train::divergence_policy::rollback : cebm::train::divergence_policy::abort);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Train a VAE, GMM-VAE or BIGAN baseline on Fashion-MNIST (IDX files) and report"};
  app.set_config("--config", "", "TOML/INI file with flat keys (e.g. preset = \"demo\")");
  app.add_option("--model", s.model, "vae, gmm_vae or bigan")->check(CLI::IsMember({"vae", "gmm_vae", "bigan"}));
  app.add_option("--preset", s.preset, "paper, demo or ci")->check(CLI::IsMember({"paper", "demo", "ci"}));
  app.add_option("--data", s.data, "directory with the IDX files (train-images-idx3-ubyte.gz, ...)");
  app.add_option("--out", s.out, "run directory (default runs/<model>)");
  app.add_option("--seed", s.seed, "random seed");
  app.add_option("--device", s.device, "cpu, cuda or cuda:N");
  app.add_option("--threads", s.threads, "CPU threads for libtorch")->check(CLI::PositiveNumber);
  app.add_option("--iterations", s.iterations, "override the preset's iterations")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", s.batch_size, "override the (global) batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", s.lr, "override the learning rate")->check(CLI::PositiveNumber);
  app.add_option("--latent-dim", s.latent_dim, "latent dimensions (paper 128; the published VAE commands used 50)")
      ->check(CLI::PositiveNumber);
  app.add_option("--components", s.components, "gmm_vae: mixture components of the prior (paper 50)")->check(CLI::PositiveNumber);
  app.add_option("--train-subset", s.train_subset, "train on the first N training images")->check(CLI::PositiveNumber);
  app.add_option("--eval-images", s.eval_images, "test images (and training references) in the report's 1-NN")
      ->check(CLI::PositiveNumber);
  app.add_option("--on-divergence", s.on_divergence, "abort or rollback")->check(CLI::IsMember({"abort", "rollback"}));
  app.add_flag("--resume", s.resume, "continue from <out>/checkpoints/last.pt");
  s.dist.add_to(app);
  CLI11_PARSE(app, argc, argv);

  try {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // see train_cebm
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    torch::set_num_threads(s.threads);
    torch::manual_seed(s.seed);
    const torch::Device device = cebm_examples::parse_device(s.device);
    const auto group = s.dist.join();

    const auto train = cebm::data::load_fashion_mnist(s.data, "train");
    const auto test = cebm::data::load_fashion_mnist(s.data, "test");
    const auto used = s.train_subset > 0 ? train.subset(torch::arange(std::min(s.train_subset, train.size()))) : train;
    nlohmann::json config = {{"model", s.model}, {"preset", s.preset}, {"dataset", "fashion_mnist"}, {"data", s.data},
                             {"seed", s.seed}, {"device", s.device}, {"threads", s.threads}, {"latent_dim", s.latent_dim},
                             {"train_subset", s.train_subset}, {"on_divergence", s.on_divergence},
                             {"distributed", cebm_examples::distributed_flags::describe(group.get())},
                             {"cebm_version", CEBM_VERSION_STRING}, {"torch_threads", torch::get_num_threads()}};
    auto describe = [&](const auto& o) {
      config["out"] = o.out_dir();
      config["iterations"] = o.iterations();
      config["batch_size"] = o.batch_size() * (group ? group->world_size() : 1);
      config["lr"] = o.lr();
      std::fprintf(stderr, "seed %llu, %d threads, device %s, run directory %s\n", (unsigned long long)s.seed,
                   torch::get_num_threads(), s.device.c_str(), o.out_dir().c_str());
    };

    if (s.model == "bigan") {
      const auto o = common_options(cebm::train::bigan_trainer_options::preset(s.preset), s, group.get());
      describe(o);
      config["instance_noise"] = o.instance_noise();
      config["betas"] = {o.beta1(), o.beta2()};
      cebm::train::bigan_trainer trainer(cebm::models::Bigan(cebm::models::bigan_options::mnist(s.latent_dim)), used, o, s.seed,
                                         device, config.dump(2));
      return train_and_report(trainer, s, used, test, group);
    }
    const auto o = common_options(cebm::train::vae_trainer_options::preset(s.preset, s.model), s, group.get());
    describe(o);
    const auto model_options = cebm::models::vae_options::mnist(s.latent_dim).components(s.components);
    if (s.model == "gmm_vae") {
      config["components"] = s.components;
      cebm::train::vae_trainer<cebm::models::GmmVae> trainer(cebm::models::GmmVae(model_options), used, o, s.seed, device,
                                                             config.dump(2));
      return train_and_report(trainer, s, used, test, group);
    }
    cebm::train::vae_trainer<cebm::models::Vae> trainer(cebm::models::Vae(model_options), used, o, s.seed, device, config.dump(2));
    return train_and_report(trainer, s, used, test, group);
  } catch (const cebm::train::distributed_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 4;
  } catch (const cebm::train::divergence_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
