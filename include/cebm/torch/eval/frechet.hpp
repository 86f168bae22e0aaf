#pragma once
/// @file
/// The Fréchet distance between two sets of features, each summarised by a Gaussian, and the
/// feature extractors that produce them.
///
/// For N(μa, Σa) and N(μb, Σb) the squared 2-Wasserstein (Fréchet) distance is
///
///   FD = ‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^{1/2})
///
/// (Dowson & Landau, 1982). ΣaΣb is not symmetric, but it is similar to the symmetric PSD matrix
/// M = Σa^{1/2} Σb Σa^{1/2} (ΣaΣb = Σa^{1/2} M Σa^{−1/2}), so tr (ΣaΣb)^{1/2} = Σᵢ √λᵢ(M). That is
/// computed here with Eigen's SelfAdjointEigenSolver in double, twice (Σa^{1/2}, then the eigenvalues
/// of M), with eigenvalues that rounding pushed below zero taken as 0 — no general matrix square
/// root, hence no complex parts to discard as scipy.linalg.sqrtm-based code must. The result is
/// clamped at 0 (rounding can give −1e−13 for equal fits).
///
/// With features from the Inception-v3 pool3 layer this is FID (Heusel et al., 2017). Which network
/// supplies the features is pluggable (`feature_extractor`):
///   - `torchscript_extractor`: any TorchScript module mapping an image batch to features, e.g. an
///     Inception network exported elsewhere. Numbers are comparable to published FIDs only if the
///     module and its preprocessing (resizing to 299×299, the pixel scale the network expects, the
///     published weights) match theirs; that is the user's responsibility, this library checks none
///     of it.
///   - `classifier_extractor`: the 128-d penultimate activations of `FeatureClassifier`, a small
///     convnet that cebm trains on the labelled dataset itself (`train_feature_classifier`). Its
///     numbers compare models with each other on one dataset under one trained classifier; they
///     are not FID, and the extractor's name says so.
///
/// Features are taken under NoGradGuard by `extract_features`, in batches.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/adam.h>
#include <torch/script.h>
#include <torch/serialize/archive.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/io/checkpoint.hpp"

namespace cebm::eval {

// --- Gaussian fit and the distance ------------------------------------------------------------

struct gaussian_fit {
  Eigen::VectorXd mean;        ///< [D]
  Eigen::MatrixXd covariance;  ///< [D, D], divisor N − 1
};

namespace detail {
CEBM_INLINE std::string frechet_shape(const at::Tensor& t);
}  // namespace detail

/// Mean and sample covariance (divisor N − 1) of `features` [N, D] (any real dtype and device,
/// N ≥ 2, finite), in double.
CEBM_INLINE gaussian_fit fit_gaussian(const at::Tensor& features);

/// ‖μa − μb‖² + tr(Σa + Σb − 2 (ΣaΣb)^{1/2}) ≥ 0; the covariances must be symmetric PSD (only their
/// lower triangles are read).
CEBM_INLINE double frechet_distance(const gaussian_fit& a, const gaussian_fit& b);

/// FD between Gaussians fitted to `features_a` [Na, D] and `features_b` [Nb, D].
CEBM_INLINE double frechet_distance(const at::Tensor& features_a, const at::Tensor& features_b);

// --- feature extractors -----------------------------------------------------------------------

/// Maps a batch of images at the model's scale [B, C, H, W] (float) to features [B, D]. Extractors
/// are chosen at run time (a file given on the command line), hence a virtual interface.
struct feature_extractor {
  virtual ~feature_extractor() = default;
  virtual at::Tensor features(const at::Tensor& model_scale_images) = 0;
  /// What the numbers are distances between, for reports.
  virtual std::string name() const = 0;
};

namespace detail {
CEBM_INLINE void check_image_batch(const at::Tensor& x, const char* where);
}  // namespace detail

/// A user-supplied TorchScript module (torch.jit.script / torch.jit.trace, then .save) whose
/// forward(x) maps the batch to a tensor [B, ...]; everything after the batch dimension is
/// flattened. The module runs in eval mode on the images' device, features come back as float.
class torchscript_extractor : public feature_extractor {
 public:
  explicit torchscript_extractor(std::string path) : path_(std::move(path)) {
    if (!std::filesystem::is_regular_file(path_))
      throw std::runtime_error("cebm::eval::torchscript_extractor: " + path_ + ": no such file");
    try {
      module_ = torch::jit::load(path_, device_);
    } catch (const std::exception& e) {
      throw std::runtime_error("cebm::eval::torchscript_extractor: " + path_ + ": not a loadable TorchScript module (" +
                               std::string(e.what()).substr(0, 300) + ")");
    }
    module_.eval();
  }

  at::Tensor features(const at::Tensor& model_scale_images) override {
    constexpr const char* where = "cebm::eval::torchscript_extractor::features";
    detail::check_image_batch(model_scale_images, where);
    if (model_scale_images.device() != device_) {
      device_ = model_scale_images.device();
      module_.to(device_);
    }
    torch::NoGradGuard no_grad;
    c10::IValue out;
    try {
      out = module_.forward({model_scale_images});
    } catch (const c10::Error& e) {
      throw std::runtime_error(std::string(where) + ": " + path_ + ": forward failed on " +
                               detail::frechet_shape(model_scale_images) + " (" + std::string(e.what_without_backtrace()).substr(0, 300) + ")");
    }
    if (!out.isTensor())
      throw std::runtime_error(std::string(where) + ": " + path_ + ": forward returned " + out.tagKind() +
                               ", expected a tensor [B, ...]");
    const at::Tensor f = out.toTensor();
    if (f.dim() < 1 || f.size(0) != model_scale_images.size(0) || f.is_complex())
      throw std::runtime_error(std::string(where) + ": " + path_ + ": forward returned " + detail::frechet_shape(f) +
                               " for a batch of " + std::to_string(model_scale_images.size(0)) + ", expected real [B, ...]");
    return f.reshape({f.size(0), -1}).to(at::kFloat);
  }

  std::string name() const override { return "TorchScript module " + path_; }

 private:
  std::string path_;
  at::Device device_ = at::kCPU;
  torch::jit::Module module_;
};

// --- a classifier trained by cebm, for features ------------------------------------------------

struct feature_classifier_options {
  CEBM_ARG(std::int64_t, in_channels) = 1;
  CEBM_ARG(std::int64_t, image_size) = 28;  ///< square side; 28 and 32 are the datasets' sizes
  CEBM_ARG(std::int64_t, classes) = 10;
  CEBM_ARG(std::int64_t, hidden) = 128;     ///< the feature dimension
};

/// conv 3×3 32 → ReLU → conv 3×3 64 stride 2 → ReLU → conv 3×3 64 stride 2 → ReLU (padding 1
/// throughout: 28 → 28 → 14 → 7, 32 → 32 → 16 → 8) → flatten → Linear(hidden) → ReLU →
/// Linear(classes). `features` is the hidden layer after its ReLU, the input of the last Linear.
class FeatureClassifierImpl : public torch::nn::Cloneable<FeatureClassifierImpl> {
 public:
  explicit FeatureClassifierImpl(feature_classifier_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.in_channels() < 1 || o_.image_size() < 4 || o_.classes() < 2 || o_.hidden() < 1)
      throw std::invalid_argument("cebm::eval::FeatureClassifier: need in_channels >= 1, image_size >= 4, classes >= 2, "
                                  "hidden >= 1");
    const std::int64_t s = (((o_.image_size() - 1) / 2 + 1) - 1) / 2 + 1;
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(o_.in_channels(), 32, 3).padding(1)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).stride(2).padding(1)));
    conv3_ = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3).stride(2).padding(1)));
    fc1_ = register_module("fc1", torch::nn::Linear(64 * s * s, o_.hidden()));
    fc2_ = register_module("fc2", torch::nn::Linear(o_.hidden(), o_.classes()));
  }

  /// PyTorch's default initialisation (weights and biases U(−1/√fan_in, 1/√fan_in), which is
  /// kaiming_uniform with a = √5 for the weights), drawn from `gen` so training is reproducible.
  void reset_parameters(at::Generator& gen) {
    torch::NoGradGuard no_grad;
    const auto params = named_parameters();
    for (const auto& p : params) {
      const std::string& key = p.key();
      const bool bias = key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0;
      const at::Tensor weight = bias ? params[key.substr(0, key.size() - 4) + "weight"] : p.value();
      const double bound = 1.0 / std::sqrt(static_cast<double>(weight.numel() / weight.size(0)));  // 1/√fan_in
      p.value().uniform_(-bound, bound, gen);
    }
  }

  at::Tensor features(const at::Tensor& x) {
    if (x.dim() != 4 || x.size(1) != o_.in_channels() || x.size(2) != o_.image_size() || x.size(3) != o_.image_size())
      throw std::invalid_argument("cebm::eval::FeatureClassifier: expected images [B, " + std::to_string(o_.in_channels()) +
                                  ", " + std::to_string(o_.image_size()) + ", " + std::to_string(o_.image_size()) +
                                  "], got " + detail::frechet_shape(x));
    at::Tensor h = at::relu(conv1_->forward(x));
    h = at::relu(conv2_->forward(h));
    h = at::relu(conv3_->forward(h));
    return at::relu(fc1_->forward(h.flatten(1)));
  }
  /// Class logits [B, classes].
  at::Tensor forward(const at::Tensor& x) { return fc2_->forward(features(x)); }

  const feature_classifier_options& options() const { return o_; }

 private:
  feature_classifier_options o_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(FeatureClassifier);

struct classifier_training_options {
  CEBM_ARG(std::int64_t, epochs) = 1;
  CEBM_ARG(std::int64_t, batch_size) = 128;
  CEBM_ARG(double, learning_rate) = 1e-3;  ///< Adam, default betas
  CEBM_ARG(double, held_out_fraction) = 0.1;
  CEBM_ARG(std::uint64_t, seed) = 0;       ///< split, shuffling, initialisation, input noise
  CEBM_ARG(std::int64_t, classes) = 0;     ///< 0: max label + 1
  CEBM_ARG(std::string, dataset_name) = "an unnamed dataset";
  CEBM_ARG(at::Device, device) = at::Device(at::kCPU);
};

/// One optimisation step, for progress displays.
struct classifier_training_step {
  std::int64_t epoch = 0, step = 0, steps = 0;  ///< step counts from 1 over all epochs
  double loss = 0;                              ///< this batch's cross-entropy
};

struct trained_feature_classifier {
  FeatureClassifier model{nullptr};
  data::image_transform_options input;  ///< how images were brought to the model's scale
  std::string dataset_name;
  double held_out_accuracy = 0;  ///< on the split-off images, never trained on
  std::int64_t held_out_size = 0;
};

/// Trains `FeatureClassifier` on `images_uint8` [N, C, H, W] with `labels` int64 [N] in [0, classes):
/// a random held_out_fraction of the images (at least one) is set aside, the rest is trained on for
/// `epochs` passes of shuffled batches (cross-entropy, Adam), each batch brought to the model's
/// scale by `data::to_model_input(·, input, ·)`; the held-out accuracy is measured the same way.
/// `progress`, if given, is called after every step (reading the loss, a device sync, only then).
CEBM_INLINE trained_feature_classifier train_feature_classifier(
    const at::Tensor& images_uint8, const at::Tensor& labels, const data::image_transform_options& input,
    const classifier_training_options& o = {},
    const std::function<void(const classifier_training_step&)>& progress = nullptr);

/// Writes the classifier (architecture, weights, input transform, dataset name, held-out accuracy)
/// to `path`, atomically (see `train::write_checkpoint`).
CEBM_INLINE void save_feature_classifier(const trained_feature_classifier& c, const std::string& path);

/// Reads what `save_feature_classifier` wrote; the model comes back on the CPU in eval mode.
CEBM_INLINE trained_feature_classifier load_feature_classifier(const std::string& path);

/// The hidden-layer activations [B, hidden] of a `FeatureClassifier` (eval mode, on the images'
/// device). Images must be at the scale and geometry the classifier was trained with (`input`).
class classifier_extractor : public feature_extractor {
 public:
  explicit classifier_extractor(trained_feature_classifier c) : c_(std::move(c)) {
    if (!c_.model) throw std::invalid_argument("cebm::eval::classifier_extractor: no model");
    c_.model->eval();
  }
  /// From a file written by `save_feature_classifier`.
  explicit classifier_extractor(const std::string& path) : classifier_extractor(load_feature_classifier(path)) {}

  at::Tensor features(const at::Tensor& model_scale_images) override {
    detail::check_image_batch(model_scale_images, "cebm::eval::classifier_extractor::features");
    if (c_.model->parameters().front().device() != model_scale_images.device()) c_.model->to(model_scale_images.device());
    torch::NoGradGuard no_grad;
    return c_.model->features(model_scale_images.to(at::kFloat));
  }

  std::string name() const override { return "features of a classifier trained by cebm on " + c_.dataset_name; }

  /// The classifier's predicted labels [B] (int64, on the images' device): an external judge of
  /// which class generated images look like.
  at::Tensor predict(const at::Tensor& model_scale_images) {
    detail::check_image_batch(model_scale_images, "cebm::eval::classifier_extractor::predict");
    if (c_.model->parameters().front().device() != model_scale_images.device()) c_.model->to(model_scale_images.device());
    torch::NoGradGuard no_grad;
    return c_.model->forward(model_scale_images.to(at::kFloat)).argmax(1);
  }

  const trained_feature_classifier& classifier() const { return c_; }

 private:
  trained_feature_classifier c_;
};

/// `extractor`'s features of `images_model_scale` [N, C, H, W], `batch` images at a time, without
/// gradients: float [N, D] on the images' device.
CEBM_INLINE at::Tensor extract_features(feature_extractor& extractor, const at::Tensor& images_model_scale,
                                   std::int64_t batch = 500);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/frechet_impl.hpp"
#endif
