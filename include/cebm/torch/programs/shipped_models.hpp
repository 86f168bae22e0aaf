#pragma once
/// @file
/// `models()`: the model registry of the bundled programs (programs/model_registry.hpp), holding
/// the shipped kinds:
///
///   conjugate EBMs (train_cebm --latent F, `conjugate_ebm_entry<F, Map>`), each with a fixed bias
///   and as a learned mixture:
///     gaussian            cebm, gmm_cebm (the published CEBM and GMM-CEBM)
///     bernoulli           cebm_bernoulli, mixture_cebm_bernoulli
///     categorical<10>     cebm_categorical, mixture_cebm_categorical
///     poisson             cebm_poisson, mixture_cebm_poisson
///     gamma               cebm_gamma, mixture_cebm_gamma
///     von_mises_fisher    cebm_von_mises_fisher, mixture_cebm_von_mises_fisher
///   igebm, harmonium      the other Langevin-trained models of train_cebm
///   clel, vae, gmm_vae, bigan   trained by train_clel and train_baseline; evaluated here
///
/// The shipped kinds' trainers and evaluations are compiled once, in the library cebm::programs
/// (src/shipped/, one translation unit per family or model); this header only declares the
/// registry, so including it costs a program nothing beyond the registry's types. Link
/// cebm::programs to call it.
#include "cebm/torch/programs/model_registry.hpp"

namespace cebm::programs {

/// The registry the bundled programs read, with the shipped kinds; add yours before the program
/// dispatches (examples/custom_family). Defined in cebm::programs (src/shipped/models.cpp).
model_registry& models();

}  // namespace cebm::programs
