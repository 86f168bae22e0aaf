#pragma once
/// @file
/// Section 6a of `evaluate`: samples. Long-run chains from the sampler's initialisation
/// (`samples_long_run.png`) and the replay buffer (`samples_buffer.png`), each with the fraction
/// of chains still stuck; a model with an ancestral sampler `sample(n, gen)` (VAE, BIGAN) gets its
/// draws instead (`samples_ancestral.png`). Leaves the samples for the Fréchet distance.
/// Report: `samples`.
#include <string>

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

template <class Model>
void samples_section(evaluation_run<Model>& r, sampling_streams& streams) {
  using run = evaluation_run<Model>;
  const evaluation_options& o = r.o;
  nlohmann::json& samples = r.report["samples"];
  if constexpr (run::ancestral) {
    r.announce("samples: " + std::to_string(o.long_run_chains()) + " ancestral draws");
    c10::NoGradGuard no_grad;
    r.samples = r.model->sample(o.long_run_chains(), streams.chains).cpu();
    r.samples_name = "ancestral";
    samples["ancestral"] = {{"count", r.samples.size(0)}, {"image", r.grid(r.samples, "samples_ancestral.png")}};
  } else {
    r.announce("samples: " + std::to_string(o.long_run_chains()) + " chains, " + std::to_string(o.long_run().steps()) +
               " Langevin steps from the initialisation");
    const at::Tensor data_reference = r.model_input(detail::first(r.test, 500).images);
    const at::Tensor noise_reference = r.ctx.fresh_chains(500, streams.host).cpu();
    auto energy = [&](const at::Tensor& x) { return r.model->energy(x); };
    auto opts = langevin_options(o.long_run()).hook([&](langevin_step& s) { r.progress("long run", s.step + 1, o.long_run().steps()); });
    const at::Tensor start = r.ctx.fresh_chains(o.long_run_chains(), streams.host).to(r.ctx.device);
    r.samples = langevin(energy, start, opts, streams.chains).samples.cpu();
    samples["long_run"] = {{"chains", r.samples.size(0)},
                           {"steps", o.long_run().steps()},
                           {"image", r.grid(r.samples, "samples_long_run.png")},
                           {"stuck", detail::to_json(stuck_chains(r.samples, noise_reference, data_reference))}};
    r.has_buffer = r.ctx.buffer.defined() && r.ctx.buffer.size(0) > 0;
    if (r.has_buffer) {
      const at::Tensor buffer = r.ctx.buffer.cpu();
      samples["buffer"] = {{"chains", buffer.size(0)},
                           {"image", r.grid(buffer, "samples_buffer.png")},
                           {"stuck", detail::to_json(stuck_chains(buffer, noise_reference, data_reference))}};
    }
    samples["stuck_criterion"] =
        "a chain is stuck when its neighbour correlation (correlation of each pixel with its right and lower "
        "neighbours, about the image mean) is below the midpoint between that of fresh draws from the "
        "initialisation and that of test images";
  }
}

}  // namespace cebm::eval
