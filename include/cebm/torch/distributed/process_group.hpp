#pragma once
/// @file
/// Data-parallel training on several processes and machines, on libtorch's own distributed engine
/// (c10d): Gloo on CPU (Debian's libtorch; the Gloo headers come from libgloo-dev), NCCL on CUDA
/// builds that have it. Written against the collective interface the two share, so the backend is
/// a flag.
///
///   distributed_options  rank, world size, rendezvous (TCP store at MASTER_ADDR:MASTER_PORT, or a
///                        file store), backend, timeout, bucket size; `from_environment()` reads the
///                        usual RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
///   process_group        the rendezvous and the collectives the trainers need: bucketed in-place
///                        broadcast and all-reduce of tensor lists, sums of a few doubles, barrier.
///                        Every wait that fails (a peer exited, a peer hung past the timeout) and a
///                        rendezvous that times out become a `distributed_error` naming the rank,
///                        the operation and the likely cause.
///   gradient_reducer     the gradients of a fixed parameter list, averaged over ranks before each
///                        optimiser step: copied into a few persistent flat buckets (`bucket_mb`
///                        each), one all-reduce per bucket, *wait*, divide by the world size, copy
///                        back. The number of collectives per step is the number of buckets, not
///                        the number of parameter tensors.
///
/// The trainers take a process group through `basic_trainer::distribute` (basic_trainer.hpp).
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#ifndef USE_C10D_GLOO
#error "cebm/torch/distributed/process_group.hpp needs libtorch's Gloo backend: compile with USE_C10D_GLOO (set by the Torch CMake targets) and the Gloo headers (Debian: libgloo-dev)"
#endif
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "cebm/core/arg.hpp"

namespace cebm::train {

/// A collective or the rendezvous failed: a peer exited or hung, or the others never came.
struct distributed_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct distributed_options {
  CEBM_ARG(int, rank) = 0;
  CEBM_ARG(int, world_size) = 1;
  CEBM_ARG(std::string, master_addr) = "127.0.0.1";  ///< the TCP store runs on rank 0 at this address
  CEBM_ARG(int, master_port) = 29500;
  CEBM_ARG(std::string, store_file) = "";  ///< a file store on a shared file system instead of TCP
  CEBM_ARG(std::string, backend) = "gloo";  ///< gloo (CPU tensors) or nccl (CUDA tensors, CUDA builds)
  CEBM_ARG(double, timeout_s) = 300;  ///< rendezvous and every collective
  CEBM_ARG(double, bucket_mb) = 25;   ///< all-reduce bucket size

 public:
  /// `defaults` with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the environment where set.
  static distributed_options from_environment(distributed_options defaults) {
    if (const char* v = std::getenv("RANK")) defaults.rank(parse_int("RANK", v));
    if (const char* v = std::getenv("WORLD_SIZE")) defaults.world_size(parse_int("WORLD_SIZE", v));
    if (const char* v = std::getenv("MASTER_ADDR")) defaults.master_addr(v);
    if (const char* v = std::getenv("MASTER_PORT")) defaults.master_port(parse_int("MASTER_PORT", v));
    return defaults;
  }
  static distributed_options from_environment();

  void validate() const {
    if (world_size() < 1) throw std::invalid_argument("cebm::train::distributed: world size must be at least 1, got " + std::to_string(world_size()));
    if (rank() < 0 || rank() >= world_size())
      throw std::invalid_argument("cebm::train::distributed: rank " + std::to_string(rank()) + " is outside [0, " +
                                  std::to_string(world_size()) + ") (RANK / --rank against WORLD_SIZE / --world-size)");
    if (store_file().empty() && (master_port() < 1 || master_port() > 65535))
      throw std::invalid_argument("cebm::train::distributed: master port must be in [1, 65535], got " + std::to_string(master_port()));
    if (master_addr().empty() && store_file().empty())
      throw std::invalid_argument("cebm::train::distributed: no master address (MASTER_ADDR / --master-addr) and no store file");
    if (backend() != "gloo" && backend() != "nccl")
      throw std::invalid_argument("cebm::train::distributed: unknown backend '" + backend() + "' (expected gloo or nccl)");
    if (!(timeout_s() > 0)) throw std::invalid_argument("cebm::train::distributed: timeout must be positive");
    if (!(bucket_mb() > 0)) throw std::invalid_argument("cebm::train::distributed: bucket size must be positive");
  }

 private:
  static int parse_int(const char* name, const char* text) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0')
      throw std::invalid_argument(std::string("cebm::train::distributed: environment variable ") + name + "='" + text +
                                  "' is not an integer");
    return static_cast<int>(v);
  }
};

inline distributed_options distributed_options::from_environment() { return from_environment(distributed_options{}); }

class process_group {
#if TORCH_VERSION_MAJOR >= 2
  using backend_type = c10d::Backend;  // libtorch 2.x: Gloo and NCCL are backends of a group
#else
  using backend_type = c10d::ProcessGroup;
#endif

 public:
  /// Rendezvous with the other `world_size - 1` processes; throws distributed_error when they do
  /// not all arrive within the timeout.
  explicit process_group(distributed_options o) : o_(std::move(o)) {
    o_.validate();
    const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o_.timeout_s() * 1000));
    const std::string where = o_.store_file().empty()
                                  ? "TCP store " + o_.master_addr() + ":" + std::to_string(o_.master_port())
                                  : "file store " + o_.store_file();
    try {
      if (o_.store_file().empty()) {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(o_.master_port());
        so.isServer = o_.rank() == 0;
        so.numWorkers = static_cast<std::size_t>(o_.world_size());
        so.waitWorkers = true;
        so.timeout = timeout;
        store_ = c10::make_intrusive<c10d::TCPStore>(o_.master_addr(), so);
      } else {
        store_ = c10::make_intrusive<c10d::FileStore>(o_.store_file(), o_.world_size());
        store_->setTimeout(timeout);
      }
      if (o_.backend() == "gloo") {
        auto go = c10d::ProcessGroupGloo::Options::create(timeout);
        go->devices.push_back(gloo_device());
        backend_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, o_.rank(), o_.world_size(), go);
      } else {
#ifdef USE_C10D_NCCL
        auto no = c10d::ProcessGroupNCCL::Options::create();
        no->timeout = timeout;
        backend_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(store_, o_.rank(), o_.world_size(), no);
#else
        throw std::invalid_argument("backend nccl: this libtorch was built without NCCL (use --backend gloo)");
#endif
      }
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::exception& e) {
      throw distributed_error("cebm::train::distributed: rank " + std::to_string(o_.rank()) + " of " +
                              std::to_string(o_.world_size()) + ": rendezvous at the " + where + " failed within " +
                              seconds(o_.timeout_s()) + " s (did every rank start, with the same WORLD_SIZE, " +
                              "MASTER_ADDR and MASTER_PORT?): " + first_line(e.what()));
    }
    // Everyone joined: a barrier proves the backend's connections work before training starts.
    barrier();
  }

  int rank() const { return o_.rank(); }
  int world_size() const { return o_.world_size(); }
  const distributed_options& options() const { return o_; }
  /// Collectives issued so far (each bucket counts one).
  std::int64_t collectives() const { return collectives_; }

  /// Every tensor of every rank takes the value it has on `root`, in place; bucketed.
  void broadcast(const std::vector<at::Tensor>& tensors, int root = 0) {
    c10::NoGradGuard no_grad;  // parameters are written in place
    for (auto& bucket : plan(tensors)) {
      std::vector<at::Tensor> io{bucket.flat(tensors)};
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      finish(backend_->broadcast(io, opts), "broadcast");
      bucket.scatter(io[0], tensors);
    }
  }

  /// Every tensor becomes the sum over ranks, in place; bucketed.
  void allreduce_sum(const std::vector<at::Tensor>& tensors) {
    c10::NoGradGuard no_grad;
    for (auto& bucket : plan(tensors)) {
      std::vector<at::Tensor> io{bucket.flat(tensors)};
      finish(backend_->allreduce(io), "all-reduce");
      bucket.scatter(io[0], tensors);
    }
  }

  /// Element-wise sums over ranks of a few doubles (metrics, flags); one collective.
  std::vector<double> sum(const std::vector<double>& values) {
    if (values.empty()) return {};
    at::Tensor t = at::tensor(values, at::kDouble).to(collective_device());
    allreduce_sum({t});
    t = t.cpu();
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  }

  void barrier() { finish(backend_->barrier(), "barrier"); }

  /// One bucket of tensors of one dtype and device, flattened into `flat`.
  struct bucket {
    std::vector<std::size_t> members;  ///< indices into the tensor list
    std::int64_t numel = 0;
    at::Tensor buffer;  ///< persistent storage (gradient_reducer); allocated per call otherwise

    at::Tensor flat(const std::vector<at::Tensor>& tensors) {
      const at::Tensor& first = tensors[members.front()];
      if (members.size() == 1 && first.is_contiguous()) return first.view({-1});
      if (!buffer.defined()) buffer = at::empty({numel}, first.options());
      std::int64_t at_ = 0;
      for (std::size_t i : members) {
        const at::Tensor& t = tensors[i];
        buffer.narrow(0, at_, t.numel()).view(t.sizes()).copy_(t);
        at_ += t.numel();
      }
      return buffer;
    }
    void scatter(const at::Tensor& flat, const std::vector<at::Tensor>& tensors) const {
      const at::Tensor& first = tensors[members.front()];
      if (members.size() == 1 && first.is_contiguous()) return;  // reduced in place
      std::int64_t at_ = 0;
      for (std::size_t i : members) {
        at::Tensor t = tensors[i];
        t.copy_(flat.narrow(0, at_, t.numel()).view(t.sizes()));
        at_ += t.numel();
      }
    }
  };

  /// Consecutive tensors of one dtype and device, up to `bucket_mb` per bucket (a larger tensor
  /// gets a bucket of its own).
  std::vector<bucket> plan(const std::vector<at::Tensor>& tensors) const {
    const auto cap = static_cast<std::int64_t>(o_.bucket_mb() * (1 << 20));
    std::vector<bucket> out;
    std::int64_t bytes = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const at::Tensor& t = tensors[i];
      if (!t.defined()) throw std::invalid_argument("cebm::train::distributed: an undefined tensor in a collective");
      const std::int64_t b = t.numel() * static_cast<std::int64_t>(t.element_size());
      const bool same = !out.empty() && tensors[out.back().members.front()].scalar_type() == t.scalar_type() &&
                        tensors[out.back().members.front()].device() == t.device();
      if (out.empty() || !same || bytes + b > cap) {
        out.emplace_back();
        bytes = 0;
      }
      out.back().members.push_back(i);
      out.back().numel += t.numel();
      bytes += b;
    }
    return out;
  }

  /// Issue an all-reduce of `flat` (sum) without waiting; `finish` waits.
  c10::intrusive_ptr<c10d::Work> start_allreduce(at::Tensor flat) {
    std::vector<at::Tensor> io{std::move(flat)};
    return backend_->allreduce(io);
  }

  /// Wait for `work`; a failure becomes a distributed_error naming the operation.
  void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    ++collectives_;
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw distributed_error("cebm::train::distributed: rank " + std::to_string(o_.rank()) + " of " +
                              std::to_string(o_.world_size()) + ": " + what +
                              " failed: a peer process exited, lost its connection or did not answer within " +
                              seconds(o_.timeout_s()) + " s (" + first_line(e.what()) + ")");
    }
  }

  at::Device collective_device() const {
    return o_.backend() == "nccl" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  }

 private:
  std::shared_ptr<::gloo::transport::Device> gloo_device() const {
    // GLOO_SOCKET_IFNAME picks an interface, as in PyTorch; loopback runs bind to 127.0.0.1.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
    const std::string& a = o_.master_addr();
    if (a == "localhost" || a.rfind("127.", 0) == 0) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
  }
  static std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
  }
  static std::string first_line(const std::string& s) { return s.substr(0, std::min(s.find('\n'), std::size_t(300))); }

  distributed_options o_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<backend_type> backend_;
  std::int64_t collectives_ = 0;
};

/// Averages the gradients of a fixed parameter list over the ranks of a group: persistent flat
/// buckets, all all-reduces issued before the first wait, divided by the world size after it.
class gradient_reducer {
 public:
  gradient_reducer(std::shared_ptr<process_group> group, std::vector<at::Tensor> parameters)
      : group_(std::move(group)), params_(std::move(parameters)) {
    grads_.resize(params_.size());
    buckets_ = group_->plan(params_);
  }

  std::size_t buckets() const { return buckets_.size(); }

  /// After backward, before the optimiser step, on every rank. A parameter without a gradient on
  /// this rank counts as a zero gradient (and gets one).
  void average() {
    c10::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      at::Tensor& p = params_[i];
      if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
      grads_[i] = p.grad();
    }
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    std::vector<at::Tensor> flats;
    for (auto& b : buckets_) {
      flats.push_back(b.flat(grads_));
      work.push_back(group_->start_allreduce(flats.back()));
    }
    const double inv = 1.0 / group_->world_size();
    for (std::size_t k = 0; k < buckets_.size(); ++k) {
      group_->finish(work[k], "gradient all-reduce");  // wait first, then average
      flats[k].mul_(inv);
      buckets_[k].scatter(flats[k], grads_);
    }
  }

 private:
  std::shared_ptr<process_group> group_;
  std::vector<at::Tensor> params_, grads_;
  std::vector<process_group::bucket> buckets_;
};

}  // namespace cebm::train
