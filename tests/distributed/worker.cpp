// One rank of the data-parallel tests (test_distributed.cpp starts it as separate processes; RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT come from the environment, none = a single process).
//
//   worker deterministic OUT STEPS GLOBAL_BATCH BUCKET_MB
//       a small conv net on fixed synthetic images, a deterministic loss (cross-entropy), Adam;
//       every rank starts from a different initialisation (rank 0's is broadcast) and reads its
//       shard of each global batch; writes OUT/params_w<world>_r<rank>.pt and the collectives
//       per step on stdout
//   worker trainer OUT ITERATIONS [resume]
//       ebm_trainer<Cebm> (ci preset, Fashion-MNIST subset, global batch 16) run directory OUT;
//       writes OUT/params_r<rank>.pt
#include <cstdio>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/models/cebm.hpp>
#include <cebm/torch/distributed/process_group.hpp>
#include <cebm/torch/programs/exit_status.hpp>
#include <cebm/torch/train/ebm_trainer.hpp>

namespace {

std::shared_ptr<cebm::train::process_group> join(double bucket_mb, double timeout_s) {
  if (!std::getenv("WORLD_SIZE")) return nullptr;
  if (const char* t = std::getenv("CEBM_TEST_TIMEOUT")) timeout_s = std::atof(t);
  return std::make_shared<cebm::train::process_group>(
      cebm::train::distributed_options::from_environment().bucket_mb(bucket_mb).timeout_s(timeout_s));
}

int deterministic(const std::string& out, int steps, std::int64_t global_batch, double bucket_mb) {
  auto group = join(bucket_mb, 60);
  const int rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  torch::manual_seed(100 + rank);  // different on every rank: the broadcast must fix it
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).stride(2)), torch::nn::Tanh(),
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 8, 3).stride(2)), torch::nn::Tanh(),
                            torch::nn::Flatten(), torch::nn::Linear(8 * 3 * 3, 10));
  auto gen = at::detail::createCPUGenerator(7);
  cebm::data::image_dataset data;
  data.images = at::randint(0, 256, {256, 1, 16, 16}, gen, at::kByte);
  data.labels = at::randint(0, 10, {256}, gen, at::kLong);
  data.source = "synthetic";
  cebm::data::batch_loader loader(data, cebm::data::loader_options{}.batch_size(global_batch / world).rank(rank).world_size(world));
  auto shuffle = at::detail::createCPUGenerator(5);
  std::unique_ptr<cebm::train::gradient_reducer> reducer;
  if (group) {
    group->broadcast(net->parameters());
    reducer = std::make_unique<cebm::train::gradient_reducer>(group, net->parameters());
  }
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  std::int64_t before = group ? group->collectives() : 0;
  for (int s = 0; s < steps; ++s) {
    const auto batch = loader.next(shuffle);
    const at::Tensor x = batch.images.to(at::kFloat) / 255.0;
    const at::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), batch.labels);
    opt.zero_grad();
    loss.backward();
    if (reducer) reducer->average();
    opt.step();
  }
  if (group) std::printf("collectives per step %g, buckets %zu\n", double(group->collectives() - before) / steps, reducer->buckets());
  torch::save(net->parameters(), out + "/params_w" + std::to_string(world) + "_r" + std::to_string(rank) + ".pt");
  return 0;
}

int trainer(const std::string& out, std::int64_t iterations, bool resume) {
  auto group = join(25, 20);
  const auto all = cebm::data::load_fashion_mnist(cebm::data::default_fashion_mnist_dir(), "train");
  const auto train = all.subset(torch::arange(512));
  auto opts = cebm::train::ebm_trainer_options::preset("ci", "cebm").out_dir(out).iterations(iterations).checkpoint_every(2);
  opts.batch_size(16 / (group ? group->world_size() : 1));
  torch::manual_seed(group ? 11 * group->rank() : 0);
  cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(), train, opts, 3);
  if (group) t.distribute(group);
  if (resume) t.resume(t.checkpoint_path("last"));
  std::fprintf(stderr, "rank %d starts at iteration %lld\n", group ? group->rank() : 0, (long long)t.iteration());
  t.run();
  torch::save(t.model()->parameters(), out + "/params_r" + std::to_string(group ? group->rank() : 0) + ".pt");
  std::printf("done at iteration %lld\n", (long long)t.iteration());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto body = [&] {
    torch::set_num_threads(1);
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "deterministic" && argc == 6) return deterministic(argv[2], std::atoi(argv[3]), std::atoll(argv[4]), std::atof(argv[5]));
    if (mode == "trainer" && argc >= 4) return trainer(argv[2], std::atoll(argv[3]), argc > 4 && std::string(argv[4]) == "resume");
    std::fprintf(stderr, "usage: worker deterministic OUT STEPS GLOBAL_BATCH BUCKET_MB | worker trainer OUT ITERATIONS [resume]\n");
    return 2;
  };
  return cebm::programs::guarded(body, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}
