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
inline std::string frechet_shape(const at::Tensor& t) {
  return t.defined() ? std::string(c10::str(t.sizes())) : std::string("undefined");
}
}  // namespace detail

/// Mean and sample covariance (divisor N − 1) of `features` [N, D] (any real dtype and device,
/// N ≥ 2, finite), in double.
inline gaussian_fit fit_gaussian(const at::Tensor& features) {
  constexpr const char* where = "cebm::eval::fit_gaussian";
  if (!features.defined() || features.dim() != 2 || features.size(1) == 0)
    throw std::invalid_argument(std::string(where) + ": features must be [N, D] with D >= 1, got " +
                                detail::frechet_shape(features));
  if (features.is_complex())
    throw std::invalid_argument(std::string(where) + ": features must be real, got " + c10::toString(features.scalar_type()));
  const std::int64_t n = features.size(0), d = features.size(1);
  if (n < 2) throw std::invalid_argument(std::string(where) + ": needs N >= 2 feature vectors, got " + std::to_string(n));
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const at::Tensor host = features.detach().to(at::kCPU, at::kDouble).contiguous();
  const Eigen::Map<const row_major> x(host.data_ptr<double>(), n, d);
  if (!x.allFinite()) {
    Eigen::Index i = 0;
    while (std::isfinite(x.data()[i])) ++i;
    throw std::invalid_argument(std::string(where) + ": features must be finite, element [" + std::to_string(i / d) + ", " +
                                std::to_string(i % d) + "] is " + std::to_string(x.data()[i]));
  }
  gaussian_fit g;
  g.mean = x.colwise().mean().transpose();
  const row_major centred = x.rowwise() - g.mean.transpose();
  g.covariance = Eigen::MatrixXd::Zero(d, d);
  g.covariance.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose(), 1.0 / (n - 1));
  g.covariance.triangularView<Eigen::StrictlyUpper>() = g.covariance.transpose();
  return g;
}

/// ‖μa − μb‖² + tr(Σa + Σb − 2 (ΣaΣb)^{1/2}) ≥ 0; the covariances must be symmetric PSD (only their
/// lower triangles are read).
inline double frechet_distance(const gaussian_fit& a, const gaussian_fit& b) {
  const Eigen::Index d = a.mean.size();
  if (d == 0 || b.mean.size() != d || a.covariance.rows() != d || a.covariance.cols() != d || b.covariance.rows() != d ||
      b.covariance.cols() != d)
    throw std::invalid_argument("cebm::eval::frechet_distance: the fits must have one dimension D >= 1, got means of " +
                                std::to_string(a.mean.size()) + " and " + std::to_string(b.mean.size()) +
                                " and covariances of " + std::to_string(a.covariance.rows()) + "x" +
                                std::to_string(a.covariance.cols()) + " and " + std::to_string(b.covariance.rows()) + "x" +
                                std::to_string(b.covariance.cols()));
  if (!a.mean.allFinite() || !b.mean.allFinite() || !a.covariance.allFinite() || !b.covariance.allFinite())
    throw std::invalid_argument("cebm::eval::frechet_distance: the means and covariances must be finite");
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ea(a.covariance);
  const Eigen::VectorXd root = ea.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  const Eigen::MatrixXd sqrt_a = ea.eigenvectors() * root.asDiagonal() * ea.eigenvectors().transpose();
  Eigen::MatrixXd b_full = b.covariance.selfadjointView<Eigen::Lower>();
  Eigen::MatrixXd m = sqrt_a * b_full * sqrt_a;
  m = 0.5 * (m + m.transpose()).eval();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(m, Eigen::EigenvaluesOnly);
  const double tr_sqrt = em.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fd = (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2.0 * tr_sqrt;
  return std::max(fd, 0.0);
}

/// FD between Gaussians fitted to `features_a` [Na, D] and `features_b` [Nb, D].
inline double frechet_distance(const at::Tensor& features_a, const at::Tensor& features_b) {
  if (features_a.defined() && features_b.defined() && features_a.dim() == 2 && features_b.dim() == 2 &&
      features_a.size(1) != features_b.size(1))
    throw std::invalid_argument("cebm::eval::frechet_distance: feature dimensions differ: " +
                                detail::frechet_shape(features_a) + " and " + detail::frechet_shape(features_b));
  return frechet_distance(fit_gaussian(features_a), fit_gaussian(features_b));
}

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
inline void check_image_batch(const at::Tensor& x, const char* where) {
  if (!x.defined() || x.dim() != 4 || x.size(0) == 0 || !at::isFloatingType(x.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": expected a non-empty floating batch [B, C, H, W], got " +
                                frechet_shape(x) + (x.defined() ? " " + std::string(c10::toString(x.scalar_type())) : ""));
}
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
inline trained_feature_classifier train_feature_classifier(
    const at::Tensor& images_uint8, const at::Tensor& labels, const data::image_transform_options& input,
    const classifier_training_options& o = {},
    const std::function<void(const classifier_training_step&)>& progress = nullptr) {
  constexpr const char* where = "cebm::eval::train_feature_classifier";
  if (!images_uint8.defined() || images_uint8.dim() != 4 || images_uint8.scalar_type() != at::kByte)
    throw std::invalid_argument(std::string(where) + ": images must be uint8 [N, C, H, W], got " +
                                detail::frechet_shape(images_uint8));
  const std::int64_t n = images_uint8.size(0);
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n || labels.scalar_type() != at::kLong)
    throw std::invalid_argument(std::string(where) + ": labels must be int64 [" + std::to_string(n) + "], got " +
                                detail::frechet_shape(labels));
  if (o.epochs() < 1 || o.batch_size() < 1 || !(o.learning_rate() > 0) || !(o.held_out_fraction() > 0) ||
      !(o.held_out_fraction() < 1) || o.classes() < 0)
    throw std::invalid_argument(std::string(where) +
                                ": need epochs >= 1, batch_size >= 1, learning_rate > 0, 0 < held_out_fraction < 1");
  const std::int64_t held = std::max<std::int64_t>(1, std::llround(o.held_out_fraction() * n));
  if (n - held < 1)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(n) + " images leave none to train on");
  const at::Tensor images = images_uint8.cpu(), y = labels.cpu();
  const std::int64_t lo = y.min().item<std::int64_t>(), hi = y.max().item<std::int64_t>();
  const std::int64_t classes = o.classes() > 0 ? o.classes() : hi + 1;
  if (lo < 0 || hi >= classes || classes < 2)
    throw std::invalid_argument(std::string(where) + ": labels must lie in [0, classes) with classes >= 2, got labels in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "] and classes = " + std::to_string(classes));

  at::Generator gen = at::detail::createCPUGenerator(o.seed());
  const at::Tensor probe = data::reshape_images(images.narrow(0, 0, 1), input);
  FeatureClassifier model(
      feature_classifier_options{}.in_channels(probe.size(1)).image_size(probe.size(2)).classes(classes));
  if (probe.size(2) != probe.size(3))
    throw std::invalid_argument(std::string(where) + ": the classifier takes square images, got " +
                                detail::frechet_shape(probe) + " after the input transform");
  model->reset_parameters(gen);
  model->to(o.device());
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(o.learning_rate()));

  const at::Tensor perm = at::randperm(n, gen, at::kLong);
  const at::Tensor held_idx = perm.narrow(0, 0, held), train_idx = perm.narrow(0, held, n - held);
  const std::int64_t per_epoch = (train_idx.size(0) + o.batch_size() - 1) / o.batch_size();
  std::int64_t step = 0;
  model->train();
  for (std::int64_t epoch = 0; epoch < o.epochs(); ++epoch) {
    const at::Tensor order = train_idx.index_select(0, at::randperm(train_idx.size(0), gen, at::kLong));
    for (std::int64_t b = 0; b < per_epoch; ++b) {
      const at::Tensor idx = order.narrow(0, b * o.batch_size(), std::min(o.batch_size(), order.size(0) - b * o.batch_size()));
      const at::Tensor x = data::to_model_input(images.index_select(0, idx), input, gen).to(o.device(), at::kFloat);
      const at::Tensor loss =
          torch::nn::functional::cross_entropy(model->forward(x), y.index_select(0, idx).to(o.device()));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      ++step;
      if (progress) progress({epoch + 1, step, per_epoch * o.epochs(), loss.item<double>()});
    }
  }

  model->eval();
  std::int64_t correct = 0;
  {
    torch::NoGradGuard no_grad;
    for (std::int64_t start = 0; start < held; start += 500) {
      const at::Tensor idx = held_idx.narrow(0, start, std::min<std::int64_t>(500, held - start));
      const at::Tensor x = data::to_model_input(images.index_select(0, idx), input, gen).to(o.device(), at::kFloat);
      const at::Tensor predicted = model->forward(x).argmax(1).cpu();
      correct += (predicted == y.index_select(0, idx)).sum().item<std::int64_t>();
    }
  }
  trained_feature_classifier r;
  r.model = model;
  r.input = input;
  r.dataset_name = o.dataset_name();
  r.held_out_accuracy = static_cast<double>(correct) / held;
  r.held_out_size = held;
  return r;
}

/// Writes the classifier (architecture, weights, input transform, dataset name, held-out accuracy)
/// to `path`, atomically (see `train::write_checkpoint`).
inline void save_feature_classifier(const trained_feature_classifier& c, const std::string& path) {
  if (!c.model) throw std::invalid_argument("cebm::eval::save_feature_classifier: no model to save");
  torch::serialize::OutputArchive archive, weights;
  c.model->save(weights);
  archive.write("model", weights);
  const feature_classifier_options& m = c.model->options();
  archive.write("kind", c10::IValue(std::string("cebm feature classifier v1")));
  archive.write("in_channels", c10::IValue(m.in_channels()));
  archive.write("image_size", c10::IValue(m.image_size()));
  archive.write("classes", c10::IValue(m.classes()));
  archive.write("hidden", c10::IValue(m.hidden()));
  archive.write("pixel_scale", c10::IValue(static_cast<std::int64_t>(c.input.scale())));
  archive.write("noise_std", c10::IValue(c.input.noise_std()));
  archive.write("channels", c10::IValue(c.input.channels()));
  archive.write("size", c10::IValue(c.input.size()));
  archive.write("resize", c10::IValue(static_cast<std::int64_t>(c.input.resize())));
  archive.write("dataset_name", c10::IValue(c.dataset_name));
  archive.write("held_out_accuracy", c10::IValue(c.held_out_accuracy));
  archive.write("held_out_size", c10::IValue(c.held_out_size));
  train::write_checkpoint(archive, path);
}

/// Reads what `save_feature_classifier` wrote; the model comes back on the CPU in eval mode.
inline trained_feature_classifier load_feature_classifier(const std::string& path) {
  torch::serialize::InputArchive archive = train::read_checkpoint(path);
  auto value = [&](const char* key) {
    c10::IValue v;
    if (!archive.try_read(key, v))
      throw std::runtime_error("cebm::eval::load_feature_classifier: " + path + ": not a cebm feature classifier (no '" +
                               key + "')");
    return v;
  };
  if (value("kind").toStringRef() != "cebm feature classifier v1")
    throw std::runtime_error("cebm::eval::load_feature_classifier: " + path + ": unknown kind '" +
                             value("kind").toStringRef() + "'");
  trained_feature_classifier c;
  c.model = FeatureClassifier(feature_classifier_options{}
                                  .in_channels(value("in_channels").toInt())
                                  .image_size(value("image_size").toInt())
                                  .classes(value("classes").toInt())
                                  .hidden(value("hidden").toInt()));
  torch::serialize::InputArchive weights;
  archive.read("model", weights);
  c.model->load(weights);
  c.model->eval();
  c.input = data::image_transform_options{}
                .scale(static_cast<data::pixel_scale>(value("pixel_scale").toInt()))
                .noise_std(value("noise_std").toDouble())
                .channels(value("channels").toInt())
                .size(value("size").toInt())
                .resize(static_cast<data::resize_mode>(value("resize").toInt()));
  c.dataset_name = value("dataset_name").toStringRef();
  c.held_out_accuracy = value("held_out_accuracy").toDouble();
  c.held_out_size = value("held_out_size").toInt();
  return c;
}

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
inline at::Tensor extract_features(feature_extractor& extractor, const at::Tensor& images_model_scale,
                                   std::int64_t batch = 500) {
  detail::check_image_batch(images_model_scale, "cebm::eval::extract_features");
  if (batch < 1) throw std::invalid_argument("cebm::eval::extract_features: batch must be >= 1, got " + std::to_string(batch));
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  const std::int64_t n = images_model_scale.size(0);
  for (std::int64_t start = 0; start < n; start += batch) {
    const std::int64_t len = std::min(batch, n - start);
    const at::Tensor f = extractor.features(images_model_scale.narrow(0, start, len));
    if (f.dim() != 2 || f.size(0) != len)
      throw std::runtime_error("cebm::eval::extract_features: " + extractor.name() + " returned " + detail::frechet_shape(f) +
                               " for a batch of " + std::to_string(len) + ", expected [" + std::to_string(len) + ", D]");
    parts.push_back(f);
  }
  return at::cat(parts);
}

}  // namespace cebm::eval
