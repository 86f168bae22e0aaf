#pragma once
/// @file
/// What a trainer does when training diverges, i.e. when a loss is non-finite or larger than the
/// options' `divergence_threshold` (the CEBM authors aborted above 1e8; reference notes §1.6, §5):
///
///   abort     stop: write a `DIVERGED` note into the run directory, leave `checkpoints/last.pt`
///             untouched and throw `divergence_error`;
///   rollback  reload `last.pt`, reseed the random streams, scale the learning rates by
///             `rollback_lr_scale` and continue (what users of the reference code did by hand),
///             at most `max_rollbacks` times, then abort.
#include <stdexcept>

namespace cebm::train {

enum class divergence_policy { abort, rollback };

/// Thrown when a run diverges and the policy (or the rollback budget) says stop.
struct divergence_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace cebm::train
