#pragma once
// The data-parallel flags every training program takes: `--distributed` alone reads RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the environment (what torchrun and most cluster
// launchers set); the other flags override them.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cebm/torch/distributed/process_group.hpp>

#include "programs/validators.hpp"

namespace cebm::programs::cli {

struct distributed_flags {
  bool enabled = false;
  int rank = -1, world_size = 0, master_port = 0;
  std::string master_addr, store_file, backend = "gloo";
  double timeout_s = 300;

  void add_to(CLI::App& app) {
    auto* on = app.add_flag("--distributed", enabled,
                            "data-parallel over processes: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from the environment "
                            "(or the flags below); the batch size is the global batch, split over the ranks");
    auto need = [on](CLI::Option* o) { o->needs(on); };
    need(app.add_option("--rank", rank, "this process's rank (default $RANK)")->check(cli::non_negative));
    need(app.add_option("--world-size", world_size, "number of processes (default $WORLD_SIZE)")->check(cli::positive));
    need(app.add_option("--master-addr", master_addr, "address of rank 0's TCP store (default $MASTER_ADDR, else 127.0.0.1)"));
    need(app.add_option("--master-port", master_port, "port of rank 0's TCP store (default $MASTER_PORT, else 29500)")
             ->check(CLI::Range(1, 65535)));
    need(app.add_option("--store-file", store_file, "rendezvous through this file on a shared file system instead of TCP"));
    need(app.add_option("--backend", backend, "gloo (CPU) or nccl (CUDA builds with NCCL)")->check(CLI::IsMember({"gloo", "nccl"})));
    need(app.add_option("--dist-timeout", timeout_s, "seconds to wait for the rendezvous and for each collective")
             ->check(cli::positive));
  }

  /// The joined group, or null without --distributed.
  std::shared_ptr<cebm::train::process_group> join() const {
    if (!enabled) return nullptr;
    auto o = cebm::train::distributed_options::from_environment();
    if (rank >= 0) o.rank(rank);
    if (world_size > 0) o.world_size(world_size);
    if (!master_addr.empty()) o.master_addr(master_addr);
    if (master_port > 0) o.master_port(master_port);
    o.store_file(store_file).backend(backend).timeout_s(timeout_s);
    if (!std::getenv("WORLD_SIZE") && world_size == 0)
      throw std::invalid_argument("--distributed: no world size (set WORLD_SIZE or --world-size)");
    if (!std::getenv("RANK") && rank < 0)  // every process defaulting to rank 0 would collide
      throw std::invalid_argument("--distributed: no rank (set RANK or --rank)");
    std::fprintf(stderr, "rank %d of %d: joining at %s\n", o.rank(), o.world_size(),
                 store_file.empty() ? (o.master_addr() + ":" + std::to_string(o.master_port())).c_str() : store_file.c_str());
    return std::make_shared<cebm::train::process_group>(o);
  }

  /// Each rank's share of the global batch `global`.
  static std::int64_t rank_batch(std::int64_t global, const cebm::train::process_group* group) {
    if (!group) return global;
    if (global % group->world_size() != 0)
      throw std::invalid_argument("--batch-size " + std::to_string(global) + " does not split evenly over " +
                                  std::to_string(group->world_size()) + " ranks");
    return global / group->world_size();
  }

  static nlohmann::json describe(const cebm::train::process_group* group) {
    if (!group) return {{"world_size", 1}};
    return {{"world_size", group->world_size()}, {"backend", group->options().backend()}};
  }
};

}  // namespace cebm::programs::cli
