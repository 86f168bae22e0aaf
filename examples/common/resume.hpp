#pragma once
// `--resume` for every training program: continue from the run's checkpoints/last.pt and say where,
// and whether the chains' noise had to restart (a run saved on another kind of device).
#include <cstdio>

namespace cebm_examples {

template <class Trainer>
void resume_run(Trainer& trainer) {
  trainer.resume(trainer.checkpoint_path("last"));
  std::fprintf(stderr, "resumed at iteration %lld\n", static_cast<long long>(trainer.iteration()));
  if (trainer.resumed_with_fresh_noise())
    std::fprintf(stderr, "note: the checkpoint's sampler state comes from another kind of device; the chains' noise "
                         "restarts from seed + 1 + iteration, so this is not an exact resume\n");
}

}  // namespace cebm_examples
