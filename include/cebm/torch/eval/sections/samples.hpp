#pragma once
/// @file
/// Section 6a of `evaluate`: samples. Long-run chains from the sampler's initialisation
/// (`samples_long_run.png`) and the replay buffer (`samples_buffer.png`), each with the fraction
/// of chains still stuck (the long run in rounds when `long_run_rounds` > 0: CLEL's published
/// protocol); a model with an ancestral sampler `sample(n, gen)` (VAE, BIGAN) gets its
/// draws instead (`samples_ancestral.png`). Leaves the samples for the Fréchet distance.
/// `buffer_samples` alone is a learning curve's point. Report: `samples`.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cebm/sampling/generator.hpp"
#include "cebm/sampling/langevin.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/stuck_chains.hpp"

namespace cebm::eval {

/// The evaluation's sampler streams: host draws (fresh starts, buffer rows) from `host`, the
/// chains' noise from a generator of the model's device (the same stream on the CPU).
struct sampling_streams {
  at::Generator host, chains;
  sampling_streams(std::uint64_t seed, at::Device device)
      : host(at::detail::createCPUGenerator(seed)), chains(device.is_cpu() ? host : make_generator(device, seed)) {}
};

namespace detail {
inline constexpr const char* stuck_criterion =
    "a chain is stuck when its neighbour correlation (correlation of each pixel with its right and lower "
    "neighbours, about the image mean) is below the midpoint between that of fresh draws from the "
    "initialisation and that of test images";

inline std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", 100 * p);
  return buf;
}
}  // namespace detail

/// What `stuck_chains` compares chains with: 500 fresh draws from the sampler's initialisation and
/// the first 500 test images, in the model's scale (CPU).
struct stuck_references {
  at::Tensor noise, data;
  stuck_references(evaluation_run& r, sampling_streams& streams)
      : noise(r.ctx.fresh_chains(500, streams.host).cpu()), data(r.model_input(detail::first(r.test, 500).images)) {}
};

/// The replay buffer's chains, when the context holds some: their stuck fraction and (with `image`)
/// their grid, as report["samples"]["buffer"].
inline void buffer_samples(evaluation_run& r, const stuck_references& refs, bool image) {
  r.has_buffer = r.ctx.buffer.defined() && r.ctx.buffer.size(0) > 0;
  if (!r.has_buffer) return;
  const at::Tensor buffer = r.ctx.buffer.cpu();
  nlohmann::json& samples = r.report["samples"];
  samples["buffer"] = {{"chains", buffer.size(0)}, {"stuck", detail::to_json(stuck_chains(buffer, refs.noise, refs.data))}};
  if (image) samples["buffer"]["image"] = r.grid(buffer, "samples_buffer.png");
  samples["stuck_criterion"] = detail::stuck_criterion;
}

inline void samples_section(evaluation_run& r, sampling_streams& streams) {
  const evaluation_options& o = r.o;
  nlohmann::json& samples = r.report["samples"];
  if (r.model.sample) {
    r.announce("samples: " + std::to_string(o.long_run_chains()) + " ancestral draws");
    c10::NoGradGuard no_grad;
    r.samples = r.model.sample(o.long_run_chains(), streams.chains).cpu();
    r.samples_name = "ancestral";
    samples["ancestral"] = {{"count", r.samples.size(0)}, {"image", r.grid(r.samples, "samples_ancestral.png")}};
  } else {
    const std::int64_t rounds = o.long_run_rounds(), steps = o.long_run().steps();
    if (rounds < 0 || !(o.round_restart() >= 0 && o.round_restart() <= 1))
      throw std::invalid_argument("cebm::eval::evaluate: long_run_rounds must be >= 0 and round_restart in [0, 1], got " +
                                  std::to_string(rounds) + " and " + std::to_string(o.round_restart()));
    const std::string protocol =
        rounds == 0 ? std::to_string(steps) + " Langevin steps from the initialisation"
                    : std::to_string(rounds) + " rounds of (" + detail::percent(o.round_restart()) + " restarts" +
                          (r.ctx.augmentation ? ", the augmentation, " : ", ") + std::to_string(steps) +
                          " Langevin steps) from the initialisation";
    r.announce("samples: " + std::to_string(o.long_run_chains()) + " chains, " + protocol);
    const stuck_references refs(r, streams);
    const std::function<at::Tensor(const at::Tensor&)>& energy = r.model.energy;
    const std::int64_t total = std::max<std::int64_t>(rounds, 1) * steps;
    std::int64_t round = 0;
    auto opts = langevin_options(o.long_run()).hook([&](langevin_step& s) { r.progress("long run", round * steps + s.step + 1, total); });
    at::Tensor x = r.ctx.fresh_chains(o.long_run_chains(), streams.host).to(r.ctx.device);
    if (rounds == 0) x = langevin(energy, x, opts, streams.chains).samples;
    for (; round < rounds; ++round) {
      const at::Tensor restart = at::rand({x.size(0)}, streams.host) < o.round_restart();
      const at::Tensor fresh = r.ctx.fresh_chains(x.size(0), streams.host).to(r.ctx.device);
      std::vector<std::int64_t> per_chain(static_cast<std::size_t>(x.dim()), 1);
      per_chain[0] = -1;
      x = at::where(restart.to(r.ctx.device).view(per_chain), fresh, x);
      if (r.ctx.augmentation) x = r.ctx.augmentation(x, streams.chains);
      x = langevin(energy, x, opts, streams.chains).samples;
    }
    r.samples = x.cpu();
    samples["long_run"] = {{"chains", r.samples.size(0)},
                           {"steps", total},
                           {"protocol", protocol},
                           {"image", r.grid(r.samples, "samples_long_run.png")},
                           {"stuck", detail::to_json(stuck_chains(r.samples, refs.noise, refs.data))}};
    samples["stuck_criterion"] = detail::stuck_criterion;
    buffer_samples(r, refs, true);
  }
}

}  // namespace cebm::eval
