#pragma once
/// @file
/// The definitions of frechet.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/frechet.hpp"

namespace cebm::eval::detail {

CEBM_INLINE std::string frechet_shape(const at::Tensor& t) {
  return t.defined() ? std::string(c10::str(t.sizes())) : std::string("undefined");
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE gaussian_fit fit_gaussian(const at::Tensor& features) {
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

CEBM_INLINE double frechet_distance(const gaussian_fit& a, const gaussian_fit& b) {
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

CEBM_INLINE double frechet_distance(const at::Tensor& features_a, const at::Tensor& features_b) {
  if (features_a.defined() && features_b.defined() && features_a.dim() == 2 && features_b.dim() == 2 &&
      features_a.size(1) != features_b.size(1))
    throw std::invalid_argument("cebm::eval::frechet_distance: feature dimensions differ: " +
                                detail::frechet_shape(features_a) + " and " + detail::frechet_shape(features_b));
  return frechet_distance(fit_gaussian(features_a), fit_gaussian(features_b));
}

}  // namespace cebm::eval

namespace cebm::eval::detail {

CEBM_INLINE void check_image_batch(const at::Tensor& x, const char* where) {
  if (!x.defined() || x.dim() != 4 || x.size(0) == 0 || !at::isFloatingType(x.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": expected a non-empty floating batch [B, C, H, W], got " +
                                frechet_shape(x) + (x.defined() ? " " + std::string(c10::toString(x.scalar_type())) : ""));
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE trained_feature_classifier train_feature_classifier(
    const at::Tensor& images_uint8, const at::Tensor& labels, const data::image_transform_options& input,
    const classifier_training_options& o,
    const std::function<void(const classifier_training_step&)>& progress) {
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

CEBM_INLINE void save_feature_classifier(const trained_feature_classifier& c, const std::string& path) {
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

CEBM_INLINE trained_feature_classifier load_feature_classifier(const std::string& path) {
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

CEBM_INLINE at::Tensor extract_features(feature_extractor& extractor, const at::Tensor& images_model_scale,
                                   std::int64_t batch) {
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
