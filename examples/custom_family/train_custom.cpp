// The user's exponential family (exponential_rate.hpp) as a trainable conjugate EBM: registered
// in the model registry from this file, trained for a few iterations on real Fashion-MNIST images
// by the bundled Langevin trainer, then evaluated from its checkpoint by the library's evaluation
// (few-label classification, 1-NN, OOD detection, KL/MI of the aggregate posterior, samples).
//
//   train_custom_family OUT_DIR [--device cpu|cuda] [--data FASHION_MNIST_DIR]
//
// Exit status 0 when training ends and the report's numbers are finite.
#include <cmath>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include <cebm/torch/data/ood.hpp>
#include <cebm/torch/eval/report.hpp>
#include <cebm/torch/programs/conjugate_ebm_entry.hpp>
#include <cebm/torch/programs/shipped_models.hpp>
#include <cebm/torch/io/checkpoint.hpp>

#include "exponential_rate.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [--device cpu|cuda] [--data FASHION_MNIST_DIR]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::string device_name = "cpu", data_dir;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--device") device_name = argv[i + 1];
    else if (flag == "--data") data_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "error: unknown flag %s (expected --device or --data)\n", flag.c_str());
      return 2;
    }
  }
  try {
    torch::set_num_threads(2);
    torch::manual_seed(0);
    const torch::Device device(device_name);

    // 1. Register the family: ConjugateEbm<exponential_rate, exponential_map>, kind cebm_exponential_rate_shifted_softplus.
    auto& registry = cebm::programs::models();
    registry.add(cebm::programs::conjugate_ebm_entry<exponential_rate, exponential_map>("exponential latents, bias rate 1"));
    const std::string kind = cebm::models::conjugate_ebm_kind<exponential_rate, exponential_map>(false);
    const auto& entry = registry.find(kind);

    // 2. Train it with the bundled trainer on 500 real images: the ci preset, 6 iterations.
    const auto train = cebm::data::load_dataset("fashion_mnist", data_dir, "train");
    const auto test = cebm::data::load_dataset("fashion_mnist", data_dir, "test");
    cebm::programs::ebm_training job;
    job.options = entry.trainer_options("ci", "fashion_mnist").out_dir(out);
    job.model_options = entry.model_options({train.channels(), train.height()}, "fashion_mnist");
    job.train = train.subset(torch::arange(500));
    job.device = device;
    job.config = {{"model", kind}, {"preset", "ci"}, {"dataset", "fashion_mnist"}, {"data", data_dir}};
    std::int64_t iterations = 0;
    job.run.overwrite = true;  // OUT is this example's own: a second run replaces the first
    job.run.after_run = [&](cebm::train::trained_run& run) { iterations = run.iteration(); };
    entry.train(job);
    std::printf("trained %s for %lld iterations in %s\n", kind.c_str(), static_cast<long long>(iterations), out.c_str());

    // 3. Evaluate its last checkpoint through the registry: the library's evaluation, small sizes.
    torch::serialize::InputArchive archive = cebm::train::read_checkpoint(out + "/checkpoints/last.pt");
    c10::IValue config;
    archive.read("config", config);
    cebm::programs::checkpoint_evaluation ev;
    ev.archive = &archive;
    ev.path = out + "/checkpoints/last.pt";
    ev.config = nlohmann::json::parse(config.toStringRef());
    ev.data.dataset = "fashion_mnist";
    ev.data.train = train.subset(torch::arange(500));
    ev.data.test = test.subset(torch::arange(200));
    auto gen = at::detail::createCPUGenerator(1);
    ev.data.ood.emplace_back("noise", cebm::data::uniform_noise_images(100, 1, 28, 28, gen));
    ev.device = device;
    ev.out = out;
    ev.options = cebm::eval::evaluation_options{}
                     .few_label(cebm::eval::few_label_options{}.draws(2))
                     .pixel_baseline(false)
                     .long_run(cebm::langevin_options{}.steps(5))
                     .long_run_chains(8)
                     .kl_batch_size(100);
    const nlohmann::json report = entry.evaluate(ev);
    cebm::eval::write_report(report, out);
    const double mi = report["aggregate_posterior"]["mi"].get<double>();
    const double auroc = report["ood"]["sets"]["noise"]["logp"]["auroc"].get<double>();
    std::printf("evaluated: aggregate-posterior MI %.4f nats, AUROC(noise, log p) %.4f; report: %s/report.md\n", mi, auroc,
                out.c_str());
    return std::isfinite(mi) && std::isfinite(auroc) && iterations == 6 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
