// The user's exponential family (exponential_rate.hpp) through the bundled programs, whole: every
// flag, preset, resume, run-directory guarantee, --distributed and the full evaluation report of
// `train_cebm` and `evaluate`, with the kind registered first.
//
//   custom_family_programs train --model cebm_exponential_rate_shifted_softplus --preset ci --out runs/rate
//   custom_family_programs evaluate --run runs/rate
//
// Links cebm::programs (or cebm::program_train_cebm and cebm::program_evaluate): the trainer, the
// evaluation and the shipped kinds come compiled; this file instantiates only the family's model.
#include <cstdio>
#include <string>

#include <cebm/torch/programs/conjugate_ebm_entry.hpp>
#include <cebm/torch/programs/entry_points.hpp>
#include <cebm/torch/programs/shipped_models.hpp>

#include "exponential_rate.hpp"

int main(int argc, char** argv) {
  cebm::programs::models().add(
      cebm::programs::conjugate_ebm_entry<exponential_rate, exponential_map>("exponential latents, bias rate 1"));
  const std::string program = argc > 1 ? argv[1] : "";
  if (program == "train") return cebm::programs::train_cebm_main(argc - 1, argv + 1);
  if (program == "evaluate") return cebm::programs::evaluate_main(argc - 1, argv + 1);
  std::fprintf(stderr, "usage: %s train|evaluate [flags of train_cebm or evaluate; --help lists them]\n", argv[0]);
  return 1;
}
