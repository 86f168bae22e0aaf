#pragma once
// The shipped kinds of `cebm::programs::models()`, added by one function each: conjugate_kinds.cpp
// and langevin_baselines.cpp define those train_cebm trains (models::EnergyModel; their trainer
// and evaluation are cebm::compiled's), clel.cpp, vae.cpp and bigan.cpp those other programs train
// (their evaluation).
#include "cebm/torch/programs/model_registry.hpp"

namespace cebm::programs::shipped {

/// How the conjugate kinds describe their bias.
inline constexpr const char* fixed_bias = "fixed bias λ₀ of the family's default map";
inline constexpr const char* learned_mixture = "a learned mixture of 10 components (20 on CIFAR-10, SVHN)";

void add_gaussian(model_registry& r);          // cebm, gmm_cebm
void add_bernoulli(model_registry& r);         // cebm_bernoulli, mixture_cebm_bernoulli
void add_categorical(model_registry& r);       // cebm_categorical, mixture_cebm_categorical (10 classes)
void add_poisson(model_registry& r);           // cebm_poisson, mixture_cebm_poisson
void add_gamma(model_registry& r);             // cebm_gamma, mixture_cebm_gamma
void add_von_mises_fisher(model_registry& r);  // cebm_von_mises_fisher, mixture_cebm_von_mises_fisher
void add_igebm(model_registry& r);
void add_harmonium(model_registry& r);
void add_clel(model_registry& r);              // evaluation only: train_clel trains it
void add_vae(model_registry& r);               // evaluation only: train_baseline trains it
void add_gmm_vae(model_registry& r);           // evaluation only: train_baseline trains it
void add_bigan(model_registry& r);             // evaluation only: train_baseline trains it

}  // namespace cebm::programs::shipped
