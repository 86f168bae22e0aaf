#pragma once
/// @file
/// The bundled programs as functions: `train_cebm`, `train_clel`, `train_baseline` and `evaluate`,
/// whole — flags, presets, run directory, resume, `--distributed`, summary and exit statuses
/// (programs/exit_status.hpp). Compiled once in the library cebm::programs; a program of one's own
/// registers its kinds in `models()` (programs/shipped_models.hpp) and hands over its arguments:
///
///   int main(int argc, char** argv) {
///     cebm::programs::models().add(cebm::programs::conjugate_ebm_entry<beta, beta_map>("Beta latents"));
///     return cebm::programs::train_cebm_main(argc, argv);
///   }

namespace cebm::programs {

/// Train a conjugate EBM of any registered kind, the IGEBM or the harmonium (`train_cebm --help`).
int train_cebm_main(int argc, char** argv);
/// Train CLEL (`train_clel --help`).
int train_clel_main(int argc, char** argv);
/// Train the VAE, GMM-VAE or BIGAN baseline (`train_baseline --help`).
int train_baseline_main(int argc, char** argv);
/// Evaluate a checkpoint of any registered kind and write its report (`evaluate --help`).
int evaluate_main(int argc, char** argv);

}  // namespace cebm::programs
