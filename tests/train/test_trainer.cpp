// The CEBM, GMM-CEBM and IGEBM models and their trainer: energies equal the generic templates, a
// training step lowers the data energy against the samples, resume is exact, divergence is caught,
// and a checkpoint killed mid-write leaves the previous one readable.
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch/io/tensorboard/event_file.hpp"

#include "support/op_dtypes.hpp"
#include "support/same_state.hpp"
#include "support/temp_dir.hpp"
#include "support/tiny_autoencoder.hpp"
#include "support/toy_images.hpp"

#include "cebm/torch.hpp"
#include "cebm/torch/io/atomic_file.hpp"
#include "cebm/torch/train/recorded_config.hpp"
#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/models/igebm.hpp"
#include "cebm/torch/train/detail/adam_learning_rate.hpp"
#include "cebm/torch/train/ebm_trainer.hpp"
#include "cebm/torch/train/model_trainer.hpp"

namespace fs = std::filesystem;
extern char** environ;

namespace {

using cebm_test::temp_dir;
using cebm_test::toy_images;



cebm::train::ebm_trainer_options tiny(const fs::path& out) {
  return cebm_test::quiet_run(cebm::train::ebm_trainer_options::preset("ci", "cebm"), out.string())
      .sgld(cebm::langevin_options::cebm().steps(2))
      .buffer(cebm::replay_buffer_options::cebm().capacity(64))
      .long_run_steps(2)
      .long_run_chains(4);
}

// A trainer written with only its step and its metrics (model_trainer.hpp supplies the rest): the
// squared reconstruction error of a linear autoencoder.
using cebm_test::autoencoder_options;
using cebm_test::TinyAutoencoder;

class autoencoder_trainer : public cebm::train::model_trainer<autoencoder_trainer, autoencoder_options, TinyAutoencoder> {
 public:
  using model_trainer::model_trainer;
  std::int64_t fail_once_at = -1;  ///< an iteration that diverges once (a rollback test)
  bool train_step(std::string& why) {
    if (iteration() + 1 == fail_once_at) {
      fail_once_at = -1;
      why = "injected";
      return false;
    }
    const torch::Tensor x = begin_step(), loss = (model()->reconstruction(x) - x).pow(2).mean();
    loss_ = loss.detach();
    return descend(loss, why);
  }
  std::map<std::string, double> step_values() const { return {{"loss", loss_.item<double>()}}; }

 private:
  torch::Tensor loss_;
};

}  // namespace

TEST_CASE("models: energies and representations equal the generic templates", "[models]") {
  torch::manual_seed(1);
  const auto x = torch::rand({6, 1, 28, 28}) * 2 - 1;
  SECTION("CEBM") {
    cebm::models::Cebm m;
    const auto t = m->statistics(x);
    const auto s = 1 - 2 * t[1];  // 1 + 2r²
    CHECK(torch::allclose(m->energy(x), -(t[0].pow(2) / (2 * s) - 0.5 * s.log()).sum(1), 1e-5, 1e-5));
    CHECK(torch::allclose(m->representation(x), t[0] / s, 1e-5, 1e-6));
    CHECK(m->representation(x).sizes() == torch::IntArrayRef({6, 128}));
  }
  SECTION("GMM-CEBM: log L - logsumexp, responsibilities, argmax-component mean, gradients to the bias") {
    cebm::models::Cebm m(cebm::models::gmm_cebm_options(4));
    const auto t = m->statistics(x);
    const auto mean = m->named_parameters()["component_mean"], log_std = m->named_parameters()["component_log_std"];
    const auto prec = (-2 * log_std).exp();
    const auto l1 = mean * prec, l2 = -0.5 * prec;  // [L, K]
    auto b = [](const torch::Tensor& a, const torch::Tensor& c) { return -a.pow(2) / (4 * c) - 0.5 * (-2 * c).log(); };
    const auto per = (b(l1.unsqueeze(0) + t[0].unsqueeze(1), l2.unsqueeze(0) + t[1].unsqueeze(1)) - b(l1, l2).unsqueeze(0)).sum(2);
    CHECK(torch::allclose(m->energy(x), std::log(4.0) - torch::logsumexp(per, 1), 1e-4, 1e-5));
    CHECK(torch::allclose(m->responsibilities(x), torch::softmax(per, 1), 1e-4, 1e-6));
    const auto best = per.argmax(1);
    const auto post1 = l1.index_select(0, best) + t[0], post2 = l2.index_select(0, best) + t[1];
    CHECK(torch::allclose(m->representation(x), -post1 / (2 * post2), 1e-4, 1e-5));
    m->energy(x).sum().backward();
    CHECK(mean.grad().abs().sum().item<double>() > 0);
    CHECK(log_std.grad().abs().sum().item<double>() > 0);
  }
  SECTION("IGEBM: scalar energy, 128-d penultimate features, gradients everywhere") {
    cebm::models::Igebm m;
    CHECK(m->energy(x).sizes() == torch::IntArrayRef({6}));
    CHECK(m->representation(x).sizes() == torch::IntArrayRef({6, 128}));
    m->energy(x).sum().backward();
    for (const auto& p : m->named_parameters()) {
      INFO(p.key());
      CHECK(p.value().grad().abs().sum().item<double>() > 0);
    }
  }
}

TEST_CASE("a trainer preset takes any kind: its run directory, and the CEBM's settings but for gmm_cebm and igebm",
          "[train][options]") {
  using cebm::train::ebm_trainer_options;
  const auto cebm_demo = ebm_trainer_options::preset("demo", "cebm");
  const auto own = ebm_trainer_options::preset("demo", "cebm_beta_logit");  // a kind cebm does not ship
  CHECK(own.out_dir() == "runs/cebm_beta_logit");
  CHECK(own.lr() == cebm_demo.lr());
  CHECK(own.loss().l2() == cebm_demo.loss().l2());
  CHECK(own.iterations() == 150);
  CHECK(ebm_trainer_options::preset("paper", "igebm").lr() == 5e-5);
  CHECK(ebm_trainer_options::preset("paper", "gmm_cebm").loss().regularize() == cebm::cd_regularizer::data_only);
  CHECK_THROWS_WITH(ebm_trainer_options::preset("fast", "cebm_beta_logit"), Catch::Contains("unknown preset 'fast'"));
  CHECK_THROWS_WITH(ebm_trainer_options::preset("ci", ""), Catch::Contains("no model kind"));
}

TEST_CASE("one training step lowers the data energy relative to the sample energy", "[train]") {
  torch::manual_seed(2);
  cebm::models::Cebm m;
  const auto x_pos = torch::rand({16, 1, 28, 28}) * 2 - 1, x_neg = torch::rand({16, 1, 28, 28}) * 2 - 1;
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-4));
  auto gap = [&] { return (m->energy(x_pos).mean() - m->energy(x_neg).mean()).item<double>(); };
  const double before = gap();
  const auto cd = cebm::contrastive_divergence(m->energy(x_pos), m->energy(x_neg));
  opt.zero_grad();
  cd.loss.backward();
  opt.step();
  const double after = gap();
  INFO("gap before " << before << ", after " << after);
  CHECK(after < before);
}

TEST_CASE("trainer: a run of one's own loop, given no configuration, records its kind, options and seed",
          "[train][config]") {
  temp_dir a;
  const auto data = toy_images(40);
  auto model_options = cebm::models::conjugate_ebm_options{};
  model_options.encoder(cebm::nn::conv_encoder_options(model_options.encoder()).latent_dim(6).hidden(8));
  cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(model_options), data,
                                                 tiny(a.path).iterations(1).batch_size(8).probe_reference(10).probe_query(5), 23);
  t.run();
  std::ifstream file(a.path / "config.json");
  const nlohmann::json written = nlohmann::json::parse(file);
  torch::serialize::InputArchive archive = cebm::train::read_checkpoint((a.path / "checkpoints" / "last.pt").string());
  c10::IValue stored;
  archive.read("config", stored);
  const nlohmann::json in_checkpoint = nlohmann::json::parse(stored.toStringRef());
  for (const nlohmann::json& c : {written, in_checkpoint}) {
    CHECK(c["model"] == "cebm");
    CHECK(c["seed"] == 23);
    CHECK(c["model_options"]["encoder"]["latent_dim"] == 6);
    CHECK(c["model_options"]["encoder"]["hidden"] == 8);
    CHECK(c["trainer_options"]["batch_size"] == 8);
    CHECK(c["trainer_options"]["buffer"]["capacity"] == 64);
  }
  // What a driver records stays as it gave it; the trainer adds only what is missing.
  temp_dir b;
  cebm::train::ebm_trainer<cebm::models::Cebm> given(cebm::models::Cebm(model_options), data, tiny(b.path), 23,
                                                     at::kCPU, R"({"preset": "ci", "seed": 5})");
  const nlohmann::json kept = nlohmann::json::parse(given.config());
  CHECK(kept["seed"] == 5);
  CHECK(kept["preset"] == "ci");
  CHECK(kept.contains("trainer_options"));
  CHECK_THROWS_WITH(cebm::train::ebm_trainer<cebm::models::Cebm>(cebm::models::Cebm(model_options), data, tiny(b.path), 23,
                                                                  at::kCPU, "not json"),
                    Catch::Contains("trainer configuration: expected a JSON object"));
  // The same function on its own: a JSON value that is not an object is refused too; an object's
  // keys are kept and only what is missing is added.
  CHECK_THROWS_WITH(cebm::train::recorded_config("[1, 2]", tiny(b.path), *given.model(), "cebm", 1),
                    Catch::Contains("expected a JSON object"));
  const nlohmann::json direct =
      nlohmann::json::parse(cebm::train::recorded_config(R"({"model": "mine"})", tiny(b.path), *given.model(), "cebm", 9));
  CHECK(direct["model"] == "mine");
  CHECK(direct["seed"] == 9);
  CHECK(direct["model_options"]["encoder"]["latent_dim"] == 6);
}

TEST_CASE("trainer: an interrupted and resumed run ends with the same parameters", "[train][resume]") {
  temp_dir a, b;
  const auto data = toy_images(120);
  torch::manual_seed(3);
  cebm::train::ebm_trainer<cebm::models::Cebm> straight(cebm::models::Cebm(), data, tiny(a.path).iterations(6), 11);
  straight.run();

  torch::manual_seed(3);
  cebm::train::ebm_trainer<cebm::models::Cebm> first(cebm::models::Cebm(), data, tiny(b.path).iterations(3), 11);
  first.run();
  torch::manual_seed(99);  // a different process start: the checkpoint carries everything
  cebm::train::ebm_trainer<cebm::models::Cebm> second(cebm::models::Cebm(), data, tiny(b.path).iterations(6), 11);
  second.resume(second.checkpoint_path("last"));
  CHECK(second.iteration() == 3);
  second.run();

  cebm_test::check_same_state(*straight.model(), *second.model());
  CHECK(torch::equal(straight.buffer().contents(), second.buffer().contents()));
  CHECK(fs::exists(a.path / "metrics.jsonl"));
  CHECK(fs::exists(a.path / "samples" / "buffer.png"));
  CHECK(fs::exists(a.path / "samples" / "long_run.png"));
  CHECK(fs::exists(a.path / "checkpoints" / "best.pt"));
}

TEST_CASE("trainer: one written with only its step and its metrics trains, logs, checkpoints and resumes", "[train]") {
  temp_dir a, b;
  const auto data = toy_images(120);
  auto opts = [](const fs::path& out, std::int64_t n) {
    return autoencoder_options{}.out_dir(out.string()).iterations(n).batch_size(16).log_every(1).checkpoint_every(5)
        .keep_every(12).sample_every(5).probe_every(10).probe_reference(40).probe_query(20);
  };
  torch::manual_seed(4);
  autoencoder_trainer straight(TinyAutoencoder(), data, opts(a.path, 40), 3);
  std::vector<std::int64_t> reported;
  std::string shown;
  straight.report_to({[&](std::int64_t done, std::int64_t, const std::string& values) {
                        reported.push_back(done);
                        shown = values;
                      },
                      {}});
  straight.run();
  CHECK(reported.size() == 40);
  CHECK(shown.rfind("loss ", 0) == 0);  // the default progress text: the step's values
  std::ifstream log(a.path / "metrics.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(log, line);) losses.push_back(nlohmann::json::parse(line).at("loss").get<double>());
  REQUIRE(losses.size() == 40);
  INFO("reconstruction error " << losses.front() << " -> " << losses.back());
  CHECK(losses.back() < 0.5 * losses.front());
  CHECK(fs::exists(a.path / "samples" / "data.png"));
  CHECK(fs::exists(a.path / "checkpoints" / "best.pt"));
  // Kept every 12 iterations although checkpoint_every (5) does not divide 12.
  const auto kept = cebm::train::run_directory(a.path.string()).kept_checkpoints();
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].first == 12);
  CHECK(kept[2].first == 36);

  torch::manual_seed(4);
  autoencoder_trainer first(TinyAutoencoder(), data, opts(b.path, 40), 3);
  first.run(10);
  autoencoder_trainer second(TinyAutoencoder(), data, opts(b.path, 40), 3);
  second.resume(second.checkpoint_path("last"));
  second.run();
  cebm_test::check_same_state(*straight.model(), *second.model());
  cebm::train::ebm_trainer<cebm::models::Cebm> other(cebm::models::Cebm(), data, tiny(b.path), 1);
  CHECK_THROWS_WITH(other.resume(second.checkpoint_path("last")), Catch::Contains("tiny_autoencoder"));
}

TEST_CASE("run directory: a rollback cuts the metrics log back to the checkpoint's iteration", "[train][divergence]") {
  temp_dir a;
  auto o = autoencoder_options{}.out_dir(a.path.string()).iterations(10).batch_size(16).log_every(1).checkpoint_every(4)
               .sample_every(100).probe_every(100).probe_reference(40).probe_query(20)
               .on_divergence(cebm::train::divergence_policy::rollback);
  autoencoder_trainer t(TinyAutoencoder(), toy_images(120), o, 3);
  t.fail_once_at = 7;  // rows 5 and 6 were logged after the checkpoint at 4 the run rolls back to
  std::vector<std::string> messages;
  t.report_to({{}, [&](const std::string& m) { messages.push_back(m); }});
  t.run();
  REQUIRE(messages.size() == 1);
  CHECK_THAT(messages[0], Catch::Contains("injected") && Catch::Contains("rolled back"));
  std::ifstream log(a.path / "metrics.jsonl");
  std::vector<std::int64_t> its;
  for (std::string line; std::getline(log, line);) its.push_back(nlohmann::json::parse(line).at("iteration").get<std::int64_t>());
  CHECK(its == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  // The event files too: the rolled-back rows 5 and 6 are gone from the first file, the second
  // starts with a SessionLog START at 5, and each iteration's loss is there once.
  const auto files = cebm::tensorboard::event_files(a.path.string());
  REQUIRE(files.size() == 2);
  std::vector<std::int64_t> steps;
  bool started_at_5 = false;
  for (const auto& f : files)
    for (const auto& r : cebm::tensorboard::read_event_records(f)) {
      cebm::tensorboard::detail::proto_reader event(r.event);
      while (event.next()) {
        if (event.field() == 7) started_at_5 = started_at_5 || (f == files[1] && r.step == 5);
        if (event.field() != 5) continue;
        cebm::tensorboard::detail::proto_reader summary(event.bytes());
        while (summary.next()) {
          cebm::tensorboard::detail::proto_reader value(summary.bytes());
          while (value.next())
            if (value.field() == 1 && value.bytes() == "train/loss") steps.push_back(r.step);
        }
      }
    }
  CHECK(started_at_5);
  CHECK(steps == its);
}

TEST_CASE("run directory: a new run where one exists is refused; a second trainer cannot take a directory in use",
          "[train][run_directory]") {
  temp_dir a;
  const auto data = toy_images(60);
  auto o = autoencoder_options{}.out_dir(a.path.string()).iterations(2).batch_size(8).probe_reference(20).probe_query(10);
  autoencoder_trainer first(TinyAutoencoder(), data, o, 1);
  first.run();
  autoencoder_trainer again(TinyAutoencoder(), data, o, 2);
  CHECK_THROWS_WITH(again.run(), Catch::Contains("holds a run already") && Catch::Contains("--resume") &&
                                     Catch::Contains("--overwrite"));
  again.overwrite_existing_run(true);
  again.run();
  CHECK(again.iteration() == 2);
  cebm::train::run_lock held(a.path);
  autoencoder_trainer third(TinyAutoencoder(), data, o.iterations(4), 2);
  third.resume(third.checkpoint_path("last"));
  CHECK_THROWS_WITH(third.run(), Catch::Contains("in use by process " + std::to_string(::getpid())));
}

TEST_CASE("checkpoints: every record is checked against its CRC-32; a failed write leaves the old file", "[train][checkpoint]") {
  temp_dir a;
  autoencoder_trainer t(TinyAutoencoder(), toy_images(60),
                        autoencoder_options{}.out_dir(a.path.string()).iterations(1).batch_size(8).probe_reference(20).probe_query(10), 1);
  t.run();
  const std::string last = t.checkpoint_path("last");
  CHECK_NOTHROW(cebm::train::read_checkpoint(last));
  std::fstream f(last, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::int64_t>(f.tellg());
  f.seekp(size / 2);
  char byte = 0;
  f.seekg(size / 2);
  f.read(&byte, 1);
  f.seekp(size / 2);
  byte = static_cast<char>(byte ^ 0x5a);
  f.write(&byte, 1);
  f.close();
  CHECK_THROWS_WITH(cebm::train::read_checkpoint(last), Catch::Contains(last + ": corrupt checkpoint (record") &&
                                                           Catch::Contains("CRC-32"));
  CHECK_THROWS_WITH(cebm::train::read_checkpoint((a.path / "none.pt").string()), Catch::Contains("no such checkpoint"));
  torch::serialize::OutputArchive archive;
  archive.write("x", torch::ones({3}));
  CHECK_THROWS_WITH(cebm::train::write_checkpoint(archive, "/proc/cebm_cannot_write_here/x.pt"), Catch::Contains("x.pt"));
}

TEST_CASE("replace_file: a file is replaced whole, or a failed write leaves the old one and no temporary file",
          "[train][checkpoint]") {
  temp_dir a;
  const std::string path = (a.path / "sub" / "summary.json").string();
  auto text = [](const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  cebm::train::replace_file(path, "{\"first\": 1}\n", "the summary");  // creates its folder
  CHECK(text(path) == "{\"first\": 1}\n");
  cebm::train::replace_file(path, "{\"second\": 2}\n", "the summary");
  CHECK(text(path) == "{\"second\": 2}\n");
  fs::create_directory(path + ".tmp");  // the temporary file's name is taken: the write cannot start
  CHECK_THROWS_WITH(cebm::train::replace_file(path, "lost", "the summary"),
                    Catch::Contains("summary.json.tmp: cannot open for writing"));
  CHECK(text(path) == "{\"second\": 2}\n");
  fs::remove(path + ".tmp");
  // A write that fails midway (a file-size limit, as a full disk would): the old file stays whole.
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{16, 16};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      cebm::train::replace_file(path, std::string(4096, 'x'), "the summary");
      _exit(1);
    } catch (const std::runtime_error& e) {
      _exit(std::string(e.what()).find("cannot write the summary (File too large)") != std::string::npos ? 0 : 2);
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(text(path) == "{\"second\": 2}\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("trainer: a checkpoint of another model is refused by name", "[train][errors]") {
  temp_dir a;
  const auto data = toy_images(60);
  cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(), data, tiny(a.path).iterations(1), 1);
  t.run();
  cebm::train::ebm_trainer<cebm::models::Igebm> other(cebm::models::Igebm(), data, tiny(a.path).iterations(2), 1);
  CHECK_THROWS_WITH(other.resume(t.checkpoint_path("last")), Catch::Contains("cebm checkpoint") && Catch::Contains("igebm"));
  CHECK_THROWS_WITH(other.resume((a.path / "nothing.pt").string()), Catch::Contains("no such checkpoint"));
}

TEST_CASE("divergence guard: stop with the last good checkpoint intact, or roll back", "[train][divergence]") {
  temp_dir a;
  const auto data = toy_images(60);
  cebm::train::ebm_trainer<cebm::models::Cebm> ok(cebm::models::Cebm(), data, tiny(a.path).iterations(2), 5);
  ok.run();
  const auto last = ok.checkpoint_path("last");
  const auto stamp = fs::last_write_time(last);
  const auto size = fs::file_size(last);

  SECTION("abort") {
    // Any loss exceeds a threshold of 1e-12: the next iteration diverges.
    cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(), data, tiny(a.path).iterations(4).divergence_threshold(1e-12), 5);
    t.resume(last);
    CHECK_THROWS_AS(t.run(), cebm::train::divergence_error);
    CHECK(fs::exists(a.path / "DIVERGED"));
    CHECK(fs::last_write_time(last) == stamp);
    CHECK(fs::file_size(last) == size);
    cebm::train::ebm_trainer<cebm::models::Cebm> reload(cebm::models::Cebm(), data, tiny(a.path), 5);
    reload.resume(last);
    CHECK(reload.iteration() == 2);
  }
  SECTION("rollback, then stop after the allowed number of rollbacks") {
    cebm::train::ebm_trainer<cebm::models::Cebm> t(
        cebm::models::Cebm(), data,
        tiny(a.path).iterations(4).divergence_threshold(1e-12).on_divergence(cebm::train::divergence_policy::rollback).max_rollbacks(2), 5);
    t.resume(last);
    std::vector<std::string> messages;
    t.report_to({{}, [&](const std::string& m) { messages.push_back(m); }});
    CHECK_THROWS_WITH(t.run(), Catch::Contains("diverged at iteration 3"));
    CHECK(t.iteration() == 2);
    REQUIRE(messages.size() == 2);  // each rollback is told to the caller; the library prints nothing
    CHECK_THAT(messages[1], Catch::Contains("rollback 2 of 2") && Catch::Contains("learning rates scaled by 0.5"));
  }
  SECTION("a genuinely exploding run (lr 1, no energy regulariser) is caught") {
    temp_dir b;
    cebm::train::ebm_trainer<cebm::models::Igebm> boom(
        cebm::models::Igebm(), data,
        tiny(b.path).iterations(60).lr(1.0).loss(cebm::cd_options{}.l2(0)).divergence_threshold(1e6), 6);
    CHECK_THROWS_AS(boom.run(), cebm::train::divergence_error);
    INFO("diverged after " << boom.iteration() << " iterations");
    CHECK(boom.iteration() < 60);
  }
}

TEST_CASE("trainer: a rollback's learning-rate scale reaches every Adam parameter group", "[train][errors]") {
  const at::Tensor a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({3}, torch::requires_grad());
  torch::optim::Adam adam({torch::optim::OptimizerParamGroup({a}), torch::optim::OptimizerParamGroup({b})},
                          torch::optim::AdamOptions(1e-3));
  cebm::train::detail::scale_adam_learning_rate(adam, 0.5);
  CHECK(cebm::train::detail::adam_learning_rate(adam) == Approx(5e-4));
  for (const auto& group : adam.param_groups())
    CHECK(static_cast<const torch::optim::AdamOptions&>(group.options()).lr() == Approx(5e-4));
}

TEST_CASE("checkpoint writer child (run by the kill test)", "[.checkpoint-writer]") {
  const char* path = std::getenv("CEBM_KILL_TEST_PATH");
  REQUIRE(path);
  for (std::int64_t i = 1;; ++i) {
    torch::serialize::OutputArchive a;
    a.write("payload", torch::full({4, 1024, 1024}, static_cast<float>(i)), true);  // 16 MB per write
    a.write("index", torch::tensor(i), true);
    cebm::train::write_checkpoint(a, path);
  }
}

TEST_CASE("killing the process mid-write never leaves a corrupt checkpoint", "[train][checkpoint]") {
  temp_dir d;
  const std::string path = (d.path / "last.pt").string();
  std::mt19937 rng(8);
  int killed_with_checkpoint = 0;
  for (int round = 0; round < 6; ++round) {
    const std::string env_path = "CEBM_KILL_TEST_PATH=" + path;
    std::vector<char*> env{const_cast<char*>(env_path.c_str())};
    for (char** e = environ; *e; ++e) env.push_back(*e);
    env.push_back(nullptr);
    std::string self = fs::read_symlink("/proc/self/exe").string(), tag = "[.checkpoint-writer]";
    char* argv[] = {self.data(), tag.data(), nullptr};
    pid_t pid;
    REQUIRE(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, env.data()) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 1000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    if (!fs::exists(path)) continue;  // killed before the first write finished
    ++killed_with_checkpoint;
    torch::serialize::InputArchive in = cebm::train::read_checkpoint(path);
    torch::Tensor payload, index;
    in.read("payload", payload, true);
    in.read("index", index, true);
    CHECK(torch::all(payload == static_cast<float>(index.item<std::int64_t>())).item<bool>());
  }
  CHECK(killed_with_checkpoint >= 3);
}

TEST_CASE("precision: a CEBM step computes its networks in the policy's dtype and keeps the fp32 islands",
          "[train][precision]") {
  std::vector<cebm::precision_mode> modes{cebm::precision_mode::fp32, cebm::precision_mode::bf16};
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  modes.push_back(cebm::precision_mode::fp16);
#endif
  for (const cebm::precision_mode mode : modes) {
    INFO(cebm::to_string(mode));
    temp_dir d;
    std::vector<at::ScalarType> chains;  // the Langevin state after every step
    auto o = tiny(d.path).precision(mode);
    o.sgld(cebm::langevin_options(o.sgld()).hook([&](cebm::langevin_step& s) { chains.push_back(s.x.scalar_type()); }));
    cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(), toy_images(40), o, 3);
    CHECK(t.precision().mode() == mode);
    cebm_test::op_dtypes ops;
    REQUIRE(t.step());
    CHECK(cebm_test::precision_violations(ops, t.precision().compute_dtype()) == "");
    REQUIRE(chains.size() == 2);
    for (at::ScalarType c : chains) CHECK(c == at::kFloat);
    CHECK(t.buffer().contents().scalar_type() == at::kFloat);
    for (const auto& [name, energies] : t.step_distributions()) CHECK(energies.scalar_type() == at::kFloat);
    for (const auto& p : t.model()->parameters()) CHECK(p.scalar_type() == at::kFloat);
    CHECK(t.scaler().enabled() == (mode == cebm::precision_mode::fp16));
    for (const auto& [key, value] : t.step_values()) {
      INFO(key);
      CHECK(std::isfinite(value));
    }
  }
#if !CEBM_AUTOCAST_BY_DEVICE_TYPE
  temp_dir d;
  CHECK_THROWS_WITH(cebm::train::ebm_trainer<cebm::models::Cebm>(cebm::models::Cebm(), toy_images(40),
                                                                  tiny(d.path).precision(cebm::precision_mode::fp16), 3),
                    Catch::Contains("precision fp16 on the CPU needs libtorch 2.4 or later"));
#endif
}

TEST_CASE("precision: the mode is recorded in the run's configuration", "[train][precision]") {
  temp_dir d;
  cebm::train::ebm_trainer<cebm::models::Cebm> t(cebm::models::Cebm(), toy_images(40),
                                                  tiny(d.path).precision(cebm::precision_mode::bf16), 3);
  const auto config = nlohmann::json::parse(t.config());
  CHECK(config.at("trainer_options").at("precision") == "bf16");
}
