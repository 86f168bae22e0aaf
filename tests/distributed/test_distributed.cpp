// Data-parallel training (cebm/torch/distributed/process_group.hpp) with real processes on loopback: the
// worker program (worker.cpp) runs as separate ranks, started here with posix_spawn.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cebm/torch/distributed/process_group.hpp>

extern char** environ;

namespace {
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

/// The worker with `args`, stdout and stderr to `log`; `env` added to this process's environment.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, const std::string& log) {
  std::vector<std::string> strings{CEBM_DIST_WORKER};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e, key = kv.substr(0, kv.find('='));
    if (!env.count(key) && key != "RANK" && key != "WORLD_SIZE") env_strings.push_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

/// Exit status of `pid`, or -1 (after killing it) when it runs past `limit_s`.
int wait_for(pid_t pid, double limit_s) {
  const auto t0 = clock_type::now();
  while (true) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::duration<double>(clock_type::now() - t0).count() > limit_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// An exit status (as wait_for) and the seconds from a given start until the process ended.
struct timed_exit {
  int code;
  double seconds;
};
timed_exit wait_timed(pid_t pid, double limit_s, clock_type::time_point since) {
  const int code = wait_for(pid, limit_s);
  return {code, std::chrono::duration<double>(clock_type::now() - since).count()};
}

std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Both ranks with the same arguments; their exit codes.
std::vector<int> run_two(const std::vector<std::string>& args, const std::string& dir, double limit_s) {
  const int port = free_port();
  std::vector<pid_t> pids;
  for (int r = 0; r < 2; ++r) pids.push_back(spawn(args, rank_env(r, 2, port), dir + "/rank" + std::to_string(r) + ".log"));
  std::vector<int> codes;
  for (pid_t p : pids) codes.push_back(wait_for(p, limit_s));
  return codes;
}

double max_difference(const std::string& a, const std::string& b) {
  std::vector<at::Tensor> x, y;
  torch::load(x, a);
  torch::load(y, b);
  REQUIRE(x.size() == y.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) d = std::max(d, (x[i] - y[i]).abs().max().item<double>());
  return d;
}

std::string fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("cebm_dist_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

}  // namespace

TEST_CASE("distributed options: the environment and the flags are checked, naming the bad value", "[distributed]") {
  using cebm::train::distributed_options;
  ::setenv("RANK", "one", 1);
  CHECK_THROWS_WITH(distributed_options::from_environment(), Catch::Contains("RANK='one' is not an integer"));
  ::setenv("RANK", "2", 1);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  const auto o = distributed_options::from_environment();
  CHECK(o.rank() == 2);
  CHECK(o.master_port() == 29511);
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("rank 2 is outside [0, 2)"));
  ::unsetenv("RANK");
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("MASTER_PORT");
  CHECK_THROWS_WITH(distributed_options{}.backend("mpi").validate(), Catch::Contains("unknown backend 'mpi'"));
  CHECK_THROWS_WITH(distributed_options{}.master_port(70000).validate(), Catch::Contains("master port"));
}

TEST_CASE("distributed: 2 ranks on loopback equal 1 process with the same global batch (deterministic loss)",
          "[distributed]") {
  const std::string dir = fresh_dir("equivalence");
  const std::string steps = "8", batch = "32";
  // One process, no group: the reference.
  REQUIRE(wait_for(spawn({"deterministic", dir, steps, batch, "25"}, {}, dir + "/single.log"), 120) == 0);
  SECTION("one bucket: a single all-reduce per step for six parameter tensors") {
    const auto codes = run_two({"deterministic", dir, steps, batch, "25"}, dir, 120);
    INFO(read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log"));
    REQUIRE(codes == std::vector<int>{0, 0});
    CHECK_THAT(read_text(dir + "/rank0.log"), Catch::Contains("collectives per step 1, buckets 1"));
  }
  SECTION("1 kB buckets: one all-reduce per bucket, the same parameters") {
    const auto codes = run_two({"deterministic", dir, steps, batch, "0.001"}, dir, 120);
    INFO(read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log"));
    REQUIRE(codes == std::vector<int>{0, 0});
    CHECK_THAT(read_text(dir + "/rank0.log"), Catch::Contains("collectives per step 5, buckets 5"));
  }
  // Ranks started from different initialisations (the broadcast made them equal) and averaged
  // their shard gradients: the same parameters on both, and as one process's up to float rounding.
  CHECK(max_difference(dir + "/params_w2_r0.pt", dir + "/params_w2_r1.pt") == 0.0);
  const double vs_single = max_difference(dir + "/params_w2_r0.pt", dir + "/params_w1_r0.pt");
  INFO("2 ranks vs 1 process: max |difference| " << vs_single);
  CHECK(vs_single < 1e-5);
  // The test can tell: one process with half the batch ends elsewhere.
  REQUIRE(wait_for(spawn({"deterministic", dir, steps, "16", "25"}, {}, dir + "/half.log"), 120) == 0);
  CHECK(max_difference(dir + "/params_w1_r0.pt", dir + "/params_w2_r0.pt") > 1e-3);
}

TEST_CASE("distributed: the CEBM trainer on 2 ranks keeps one model, rank 0 writes the run, a resume continues",
          "[distributed]") {
  const std::string dir = fresh_dir("trainer");
  auto codes = run_two({"trainer", dir, "4"}, dir, 300);
  INFO(read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log"));
  REQUIRE(codes == std::vector<int>{0, 0});
  CHECK(max_difference(dir + "/params_r0.pt", dir + "/params_r1.pt") == 0.0);
  CHECK(fs::exists(dir + "/checkpoints/last.pt"));
  const std::string metrics = read_text(dir + "/metrics.jsonl");
  CHECK(std::count(metrics.begin(), metrics.end(), '\n') == 4);  // one row per iteration, written once

  codes = run_two({"trainer", dir, "6", "resume"}, dir, 300);
  INFO(read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log"));
  REQUIRE(codes == std::vector<int>{0, 0});
  CHECK_THAT(read_text(dir + "/rank1.log"), Catch::Contains("rank 1 starts at iteration 4"));
  CHECK_THAT(read_text(dir + "/rank0.log"), Catch::Contains("done at iteration 6"));
  CHECK(max_difference(dir + "/params_r0.pt", dir + "/params_r1.pt") == 0.0);
}

TEST_CASE("distributed: a killed peer stops the other rank with a clear error; the last checkpoint stays valid",
          "[distributed]") {
  const std::string dir = fresh_dir("peer");
  const int port = free_port();
  const pid_t r0 = spawn({"trainer", dir, "100000"}, rank_env(0, 2, port), dir + "/rank0.log");
  const pid_t r1 = spawn({"trainer", dir, "100000"}, rank_env(1, 2, port), dir + "/rank1.log");
  const std::string last = dir + "/checkpoints/last.pt";
  const auto t0 = clock_type::now();
  while (!fs::exists(last) && std::chrono::duration<double>(clock_type::now() - t0).count() < 240)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(last));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // mid-run, past a few iterations
  kill(r1, SIGKILL);
  wait_for(r1, 10);
  const timed_exit after_kill = wait_timed(r0, 40, clock_type::now());  // the worker's collective timeout is 20 s
  const std::string log = read_text(dir + "/rank0.log");
  INFO(log);
  CHECK(after_kill.code == 4);
  CHECK(after_kill.seconds < 25);
  CHECK_THAT(log, Catch::Contains("rank 0 of 2") && Catch::Contains("a peer process exited"));

  // The checkpoint loads and training continues from it on 2 ranks.
  torch::serialize::InputArchive a;
  a.load_from(last);
  at::Tensor it;
  a.read("iteration", it, true);
  const auto at_ = it.item<std::int64_t>();
  REQUIRE(at_ >= 2);
  const auto codes = run_two({"trainer", dir, std::to_string(at_ + 2), "resume"}, dir, 300);
  INFO(read_text(dir + "/rank0.log") << read_text(dir + "/rank1.log"));
  CHECK(codes == std::vector<int>{0, 0});
  CHECK_THAT(read_text(dir + "/rank0.log"), Catch::Contains("done at iteration " + std::to_string(at_ + 2)));
}

TEST_CASE("distributed: a rendezvous that the other ranks never join times out with a clear error", "[distributed]") {
  const std::string dir = fresh_dir("rendezvous");
  auto env = rank_env(0, 2, free_port());
  env["CEBM_TEST_TIMEOUT"] = "3";
  const auto start = clock_type::now();
  const timed_exit lone = wait_timed(spawn({"trainer", dir, "4"}, env, dir + "/rank0.log"), 60, start);
  const std::string log = read_text(dir + "/rank0.log");
  INFO(log);
  CHECK(lone.code == 4);
  CHECK(lone.seconds < 30);
  CHECK_THAT(log, Catch::Contains("rendezvous at the TCP store 127.0.0.1:") && Catch::Contains("did every rank start"));
}
