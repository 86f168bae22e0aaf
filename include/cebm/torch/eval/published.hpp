#pragma once
/// @file
/// The CEBM paper's published numbers (Wu et al., ICML 2021), for reports that set a measured
/// value beside the published one when the setting matches:
///   Table 1  OOD AUROC, scores log p(x) ("ood_auroc_logp") and ‖∇ₓ log p(x)‖ ("ood_auroc_grad");
///            Fashion-MNIST against MNIST / E-MNIST / constant, CIFAR-10 against SVHN / Texture / constant.
///   Table 2  few-label test accuracy in % ("few_label"), 1, 10, 100 labels per class and "full".
///   Table 3  KL(aggregate posterior ‖ bias) ("kl") and mutual information ("mi"), nats.
/// Datasets: mnist, fashion_mnist, cifar10, svhn. Models: vae, gmm_vae, bigan, igebm, cebm, gmm_cebm.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cebm::eval {

struct published_value {
  std::string_view source, dataset, model, metric, setting;
  double value;
};

inline const std::vector<published_value>& published_results() {
  static const std::vector<published_value> table = [] {
    std::vector<published_value> t;
    const char* models[] = {"vae", "gmm_vae", "bigan", "igebm", "cebm", "gmm_cebm"};
    const char* datasets[] = {"mnist", "fashion_mnist", "cifar10", "svhn"};
    const char* settings[] = {"1", "10", "100", "full"};
    // Table 2, rows = models, 16 columns = 4 datasets × 4 settings.
    const double accuracy[6][16] = {
        {42, 85, 92, 95, 41, 63, 72, 81, 16, 22, 31, 38, 13, 13, 16, 36},
        {53, 86, 93, 97, 49, 68, 79, 84, 19, 23, 33, 39, 13, 14, 23, 56},
        {33, 67, 85, 91, 46, 65, 75, 81, 18, 30, 43, 52, 11, 20, 42, 56},
        {63, 89, 95, 97, 50, 70, 79, 83, 16, 26, 33, 42, 10, 16, 35, 49},
        {67, 89, 95, 97, 52, 70, 77, 83, 19, 30, 42, 53, 12, 25, 48, 70},
        {67, 91, 97, 98, 52, 70, 80, 85, 16, 29, 42, 52, 10, 17, 39, 60}};
    for (int m = 0; m < 6; ++m)
      for (int d = 0; d < 4; ++d)
        for (int s = 0; s < 4; ++s)
          t.push_back({"CEBM Table 2", datasets[d], models[m], "few_label", settings[s], accuracy[m][4 * d + s]});
    // Table 1: models VAE, IGEBM, CEBM, GMM-CEBM; per dataset block: log p (3 sets), grad (3 sets).
    const char* ood_models[] = {"vae", "igebm", "cebm", "gmm_cebm"};
    const double auroc[4][12] = {{.50, .39, .09, .61, .57, .01, .42, .58, .41, .38, .51, .37},
                                 {.35, .36, .90, .78, .82, .96, .45, .31, .64, .33, .17, .62},
                                 {.37, .34, .90, .82, .89, .98, .47, .32, .66, .31, .17, .54},
                                 {.56, .56, .92, .56, .80, .95, .55, .30, .62, .40, .23, .62}};
    const char* fmnist_sets[] = {"mnist", "emnist", "constant"};
    const char* cifar_sets[] = {"svhn", "texture", "constant"};
    for (int m = 0; m < 4; ++m)
      for (int s = 0; s < 3; ++s) {
        t.push_back({"CEBM Table 1", "fashion_mnist", ood_models[m], "ood_auroc_logp", fmnist_sets[s], auroc[m][s]});
        t.push_back({"CEBM Table 1", "fashion_mnist", ood_models[m], "ood_auroc_grad", fmnist_sets[s], auroc[m][3 + s]});
        t.push_back({"CEBM Table 1", "cifar10", ood_models[m], "ood_auroc_logp", cifar_sets[s], auroc[m][6 + s]});
        t.push_back({"CEBM Table 1", "cifar10", ood_models[m], "ood_auroc_grad", cifar_sets[s], auroc[m][9 + s]});
      }
    // Table 3: VAE, CEBM, GMM-CEBM; KL and MI per dataset.
    const char* kl_models[] = {"vae", "cebm", "gmm_cebm"};
    const double kl_mi[4][6] = {{11.5, 9.1, 0.9, 0.3, 18.7, 4.7},
                                {3.5, 9.0, 0.6, 0.4, 8.1, 3.9},
                                {21.5, 9.2, 0.1, 0.2, 4.5, 2.7},
                                {8.6, 10.1, 0.1, 0.1, 5.6, 2.2}};
    for (int d = 0; d < 4; ++d)
      for (int m = 0; m < 3; ++m) {
        t.push_back({"CEBM Table 3", datasets[d], kl_models[m], "kl", "", kl_mi[d][2 * m]});
        t.push_back({"CEBM Table 3", datasets[d], kl_models[m], "mi", "", kl_mi[d][2 * m + 1]});
      }
    // 1-NN mean diagonal of the CIFAR-10 confusion matrices (paper Fig. 3, slides).
    t.push_back({"CEBM Fig. 3", "cifar10", "pixels", "nn1", "", 0.35});
    t.push_back({"CEBM Fig. 3", "cifar10", "vae", "nn1", "", 0.38});
    t.push_back({"CEBM Fig. 3", "cifar10", "cebm", "nn1", "", 0.45});
    return t;
  }();
  return table;
}

/// The published value for this setting, if the paper has one.
inline std::optional<published_value> published(std::string_view dataset, std::string_view model, std::string_view metric,
                                                 std::string_view setting = "") {
  for (const auto& v : published_results())
    if (v.dataset == dataset && v.model == model && v.metric == metric && v.setting == setting) return v;
  return std::nullopt;
}

}  // namespace cebm::eval
