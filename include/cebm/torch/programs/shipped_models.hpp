#pragma once
/// @file
/// `models()`: the model registry of the bundled programs, holding the shipped kinds:
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
/// Presets per dataset (reference notes §1.3–1.7, §4): on CIFAR-10 and SVHN the encoder is Table
/// 5(b)'s, GMM-CEBM takes 20 components, lr 5e-5 and L2 5e-3 on the data energy, IGEBM lr 1e-4 and
/// L2 0.1; on MNIST and Fashion-MNIST the Table 5(a) encoder and the settings of
/// `ebm_trainer_options::preset`. Families other than the Gaussian train with the Gaussian's
/// settings (the papers train no other).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cebm/families/categorical.hpp"
#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/models/bigan.hpp"
#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/models/harmonium.hpp"
#include "cebm/torch/models/igebm.hpp"
#include "cebm/torch/models/vae.hpp"
#include "cebm/torch/programs/model_registry.hpp"
#include "cebm/torch/train/bigan_trainer_options.hpp"
#include "cebm/torch/train/clel_trainer_options.hpp"
#include "cebm/torch/train/vae_trainer_options.hpp"

namespace cebm::programs {

/// The Table 5 encoder for images of this geometry: (b) for 32×32 RGB, (a) otherwise (with the
/// images' channels and side).
inline nn::conv_encoder_options encoder_for(const data::image_geometry& g) {
  if (g.channels == 3 && g.size == 32) return nn::conv_encoder_options::cifar();
  auto o = nn::conv_encoder_options::mnist();
  if (g.channels > 0) o.in_channels(g.channels);
  if (g.size > 0) o.image_size(g.size);
  return o;
}

inline bool is_colour_benchmark(const std::string& dataset) { return dataset == "cifar10" || dataset == "svhn"; }

/// The Langevin trainer's options of the CEBM paper's `model` (cebm, gmm_cebm, igebm, harmonium)
/// for a preset and dataset.
inline train::ebm_trainer_options paper_ebm_options(const std::string& preset, const std::string& model,
                                                    const std::string& dataset) {
  auto o = train::ebm_trainer_options::preset(preset, model);
  if (is_colour_benchmark(dataset)) {
    if (model == "gmm_cebm") o.lr(5e-5).loss(cd_options{}.l2(5e-3).regularize(cd_regularizer::data_only));
    if (model == "igebm") o.lr(1e-4).loss(cd_options{}.l2(0.1));
  }
  return o;
}

/// The entry of `ConjugateEbm<F, Map>` with a fixed bias, or (`mixture`) with a learned mixture of
/// 10 components (20 on CIFAR-10 and SVHN).
template <class F, class Map = default_statistics_map_t<F>>
model_entry conjugate_ebm_entry(std::string description, bool mixture = false) {
  using Model = models::ConjugateEbm<F, Map>;
  const auto base = mixture ? models::gmm_cebm_options() : models::conjugate_ebm_options{};
  return ebm_model<Model>(
      models::conjugate_ebm_kind<F, Map>(mixture), std::move(description),
      [base](const nlohmann::json& j) { return Model(options_json::from_json(j, base)); },
      [base, mixture](const data::image_geometry& g, const std::string& dataset) {
        auto o = models::conjugate_ebm_options(base).encoder(encoder_for(g));
        if (mixture) o.components(is_colour_benchmark(dataset) ? 20 : 10);
        return options_json::to_json(o);
      },
      [mixture](const std::string& preset, const std::string& dataset) {
        return paper_ebm_options(preset, mixture ? "gmm_cebm" : "cebm", dataset);
      });
}

namespace detail {

inline nn::spherical_ebm_size clel_size(const std::string& size) {
  return size == "small" ? nn::spherical_ebm_size::small
                         : size == "large" ? nn::spherical_ebm_size::large : nn::spherical_ebm_size::base;
}

inline void add_shipped_models(model_registry& r) {
  const char* fixed = "fixed bias λ₀ of the family's default map";
  const char* mixed = "a learned mixture of 10 components (20 on CIFAR-10, SVHN)";
  r.add(conjugate_ebm_entry<gaussian>("CEBM: Gaussian bias N(0, 1), t = (t1, -r^2) (Wu et al. 2021)"));
  r.add(conjugate_ebm_entry<gaussian>("GMM-CEBM: learned mixture of Gaussians (Wu et al. 2021)", true));
  r.add(conjugate_ebm_entry<bernoulli>(std::string("Bernoulli latents, ") + fixed));
  r.add(conjugate_ebm_entry<bernoulli>(std::string("Bernoulli latents, ") + mixed, true));
  r.add(conjugate_ebm_entry<categorical<10>>(std::string("10-class categorical latents, ") + fixed));
  r.add(conjugate_ebm_entry<categorical<10>>(std::string("10-class categorical latents, ") + mixed, true));
  r.add(conjugate_ebm_entry<poisson>(std::string("Poisson latents, log-rate within ±log 10, ") + fixed));
  r.add(conjugate_ebm_entry<poisson>(std::string("Poisson latents, ") + mixed, true));
  r.add(conjugate_ebm_entry<gamma>(std::string("Gamma latents, shape and rate above 1 - log 2, ") + fixed));
  r.add(conjugate_ebm_entry<gamma>(std::string("Gamma latents, ") + mixed, true));
  r.add(conjugate_ebm_entry<von_mises_fisher>(std::string("a von Mises-Fisher direction on S^127, uniform ") + fixed));
  r.add(conjugate_ebm_entry<von_mises_fisher>(std::string("von Mises-Fisher directions, ") + mixed, true));

  r.add(ebm_model<models::Igebm>(
      "igebm", "IGEBM: the CEBM trunk with an MLP and a scalar energy (Du & Mordatch 2019)",
      [](const nlohmann::json& j) {
        return models::Igebm(models::igebm_options{}.trunk(
            options_json::from_json(j.value("trunk", nlohmann::json::object()), nn::conv_encoder_options::mnist())));
      },
      [](const data::image_geometry& g, const std::string&) {
        return nlohmann::json{{"trunk", options_json::to_json(encoder_for(g))}};
      },
      [](const std::string& preset, const std::string& dataset) { return paper_ebm_options(preset, "igebm", dataset); }));
  r.add(ebm_model<models::Harmonium<gaussian, bernoulli>>(
      "harmonium", "Gaussian-Bernoulli harmonium (RBM), pixels x 128 hidden (CEBM appendix A)",
      [](const nlohmann::json& j) {
        return models::Harmonium<gaussian, bernoulli>(
            models::harmonium_options{}.visible(j.value("visible", std::int64_t{784})).hidden(j.value("hidden", std::int64_t{128})),
            std::vector<double>{0.0, -0.5});
      },
      [](const data::image_geometry& g, const std::string&) {
        return nlohmann::json{{"visible", g.channels * g.size * g.size}, {"hidden", 128}};
      },
      [](const std::string& preset, const std::string& dataset) { return paper_ebm_options(preset, "harmonium", dataset); }));

  // Trained by other programs: evaluation only, from the run's config and preset.
  r.add({"clel", "CLEL: spherical latent-variable EBM with a SimCLR encoder (Lee et al. 2023); train_clel", {}, {}, {},
         [](checkpoint_evaluation& job) {
           const auto o = train::clel_trainer_options::preset(job.config.value("preset", std::string("paper")));
           const auto shape = stored_sample_shape(*job.archive, job.path);
           const double beta_test = job.settings.value("beta_test", 0.0);
           const auto m = models::clel_options{}
                              .size(clel_size(job.config.value("model_size", std::string("base"))))
                              .in_channels(shape.at(0))
                              .image_size(shape.at(1))
                              .beta_test(beta_test > 0 ? beta_test : job.config.value("beta_test", 0.1));
           // Samples as the published FID protocol: 10 rounds of (0.1% restarts, the strong
           // augmentation, the training sampler's 60 steps) from U[0, 1] (reference notes §3.6).
           return evaluate_checkpoint(models::Clel(m), job,
                                      {o.input(), o.buffer(), o.sgld(), "ema", true, 10,
                                       data::augmentation_policy::strong(m.image_size())},
                                      "clel");
         }});
  for (const std::string kind : {"vae", "gmm_vae"})
    r.add({kind, kind == "vae" ? "VAE baseline (Kingma & Welling 2014); train_baseline" : "GMM-VAE baseline; train_baseline",
           {}, {}, {},
           [kind](checkpoint_evaluation& job) {
             const auto o = train::vae_trainer_options::preset(job.config.value("preset", std::string("paper")), kind);
             const std::int64_t latent = job.config.value("latent_dim", std::int64_t{128});
             const bool colour = job.data.test.channels() == 3;
             const auto m = (colour ? models::vae_options::cifar(latent) : models::vae_options::mnist(latent))
                                .components(job.config.value("components", std::int64_t{50}))
                                .importance(variational::importance_options{}.samples(job.settings.value("is_samples", std::int64_t{1000})))
                                .seed(job.options.seed());
             const sampling_convention c{o.input(), {}, {}, "model", false};
             return kind == "vae" ? evaluate_checkpoint(models::Vae(m), job, c, kind)
                                  : evaluate_checkpoint(models::GmmVae(m), job, c, kind);
           }});
  r.add({"bigan", "BIGAN baseline (Donahue et al. 2017); train_baseline", {}, {}, {}, [](checkpoint_evaluation& job) {
           const auto o = train::bigan_trainer_options::preset(job.config.value("preset", std::string("paper")));
           return evaluate_checkpoint(models::Bigan(models::bigan_options::mnist(job.config.value("latent_dim", std::int64_t{128}))),
                                      job, {o.input(), {}, {}, "model", false}, "bigan");
         }});
}

}  // namespace detail

/// The registry the bundled programs read, with the shipped kinds; add yours before the program
/// dispatches (examples/custom_family).
inline model_registry& models() {
  static model_registry r = [] {
    model_registry m;
    detail::add_shipped_models(m);
    return m;
  }();
  return r;
}

}  // namespace cebm::programs
