#pragma once
/// @file
/// `replay_buffer`: persistent chains for contrastive divergence (PCD). Holds `capacity` detached
/// samples on a device. Each training step draws a batch (indices with replacement as CEBM does, or
/// distinct as CLEL does), restarts each drawn chain from the init distribution with probability
/// `reinit_prob`, optionally augments the batch (CLEL), and after sampling writes the chains back to
/// the drawn indices, restarted ones included. With duplicates the last write wins.
///
/// Storage can be uint8 (256 levels over `uint8_range`, 4× smaller for float32 images); values
/// outside the range are clamped on write. The buffer saves to and loads from a torch archive, so
/// it travels inside checkpoints. All randomness comes from the generator passed to each call.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

#include "cebm/core/arg.hpp"

namespace cebm {

/// Where fresh chains come from.
struct buffer_init {
  enum class kind { uniform, gaussian, data };
  kind type = kind::uniform;
  double a = -1.0, b = 1.0;  ///< uniform: [a, b]; gaussian: mean a, std b
  at::Tensor data;           ///< data: rows drawn at random (shape [N, sample shape...])

  static buffer_init uniform(double lo, double hi) { return {kind::uniform, lo, hi, {}}; }
  static buffer_init gaussian(double mean, double std) { return {kind::gaussian, mean, std, {}}; }
  static buffer_init from_data(at::Tensor rows) { return {kind::data, 0, 0, std::move(rows)}; }
};

struct replay_buffer_options {
  using range = std::pair<double, double>;
  CEBM_ARG(std::int64_t, capacity) = 5000;
  CEBM_ARG(double, reinit_prob) = 0.05;
  CEBM_ARG(bool, with_replacement) = true;
  CEBM_ARG(buffer_init, init) = buffer_init::uniform(-1.0, 1.0);
  CEBM_ARG(bool, store_uint8) = false;
  CEBM_ARG(range, uint8_range) = std::make_pair(-1.0, 1.0);

 public:
  /// CEBM (authors' code): 5000 chains, U[−1, 1], restart 5%, indices with replacement.
  static replay_buffer_options cebm() { return replay_buffer_options{}; }
  /// CLEL (authors' code): 10000 chains, U[0, 1], restart 0.1%, distinct indices.
  static replay_buffer_options clel() {
    return replay_buffer_options{}.capacity(10000).reinit_prob(0.001).with_replacement(false).init(
        buffer_init::uniform(0.0, 1.0)).uint8_range(std::make_pair(0.0, 1.0));
  }
};

class replay_buffer {
 public:
  using augmentation = std::function<at::Tensor(const at::Tensor&, at::Generator&)>;

  struct batch {
    at::Tensor indices;          ///< [n] int64, where to write back
    at::Tensor samples;          ///< [n, sample shape...], float, detached
    at::Tensor reinit;           ///< [n] bool, chains restarted from the init distribution
    at::Tensor reinit_fraction;  ///< 0-dim
  };

  /// `sample_shape` excludes the batch axis (e.g. {1, 28, 28}); `options` gives dtype and device of
  /// the samples handed out.
  replay_buffer(replay_buffer_options o, std::vector<std::int64_t> sample_shape, at::TensorOptions options,
                at::Generator& gen)
      : o_(std::move(o)), shape_(std::move(sample_shape)), options_(options) {
    if (o_.capacity() <= 0) throw std::invalid_argument("cebm::replay_buffer: capacity must be positive");
    if (!(o_.reinit_prob() >= 0 && o_.reinit_prob() <= 1))
      throw std::invalid_argument("cebm::replay_buffer: reinit_prob must be in [0, 1], got " +
                                  std::to_string(o_.reinit_prob()));
    if (o_.store_uint8() && !(o_.uint8_range().first < o_.uint8_range().second))
      throw std::invalid_argument("cebm::replay_buffer: uint8_range must have first < second");
    if (o_.init().type == buffer_init::kind::data) {
      const at::Tensor& d = o_.init().data;
      if (!d.defined() || d.dim() != static_cast<std::int64_t>(shape_.size()) + 1 || d.size(0) == 0 ||
          d.sizes().slice(1) != at::IntArrayRef(shape_))
        throw std::invalid_argument("cebm::replay_buffer: init data must be [N, " + shape_text() + "] with N > 0, got " +
                                    (d.defined() ? std::string(c10::str(d.sizes())) : std::string("an undefined tensor")));
    }
    storage_ = encode(fresh(o_.capacity(), gen));
  }

  std::int64_t capacity() const { return o_.capacity(); }
  const replay_buffer_options& options() const { return o_; }
  const std::vector<std::int64_t>& sample_shape() const { return shape_; }

  /// Applied to every drawn batch (after restarts), before the sampler runs (CLEL's augmentation).
  void set_augmentation(augmentation aug) { augment_ = std::move(aug); }

  /// Every chain restarted from the init distribution (a data-parallel rank's own buffer).
  void reset(at::Generator& gen) { storage_ = encode(fresh(o_.capacity(), gen)); }

  /// n samples from the init distribution.
  at::Tensor fresh(std::int64_t n, at::Generator& gen) const {
    std::vector<std::int64_t> shape{n};
    shape.insert(shape.end(), shape_.begin(), shape_.end());
    const buffer_init& init = o_.init();
    switch (init.type) {
      case buffer_init::kind::uniform:
        return at::rand(shape, gen, options_) * (init.b - init.a) + init.a;
      case buffer_init::kind::gaussian:
        return at::normal(init.a, init.b, shape, gen, options_);
      case buffer_init::kind::data: {
        const at::Tensor rows = at::randint(init.data.size(0), {n}, gen, options_.dtype(at::kLong));
        return init.data.to(options_).index_select(0, rows);
      }
    }
    throw std::logic_error("cebm::replay_buffer: unknown init kind");
  }

  batch draw(std::int64_t n, at::Generator& gen) {
    if (n <= 0) throw std::invalid_argument("cebm::replay_buffer::draw: n must be positive");
    if (!o_.with_replacement() && n > o_.capacity())
      throw std::invalid_argument("cebm::replay_buffer::draw: cannot draw " + std::to_string(n) +
                                  " distinct chains from a buffer of " + std::to_string(o_.capacity()));
    const auto long_opts = options_.dtype(at::kLong);
    at::Tensor idx = o_.with_replacement() ? at::randint(o_.capacity(), {n}, gen, long_opts)
                                           : at::randperm(o_.capacity(), gen, long_opts).slice(0, 0, n);
    at::Tensor reinit = at::rand({n}, gen, options_) < o_.reinit_prob();
    std::vector<std::int64_t> mask_shape(shape_.size() + 1, 1);
    mask_shape[0] = n;
    at::Tensor samples = at::where(reinit.reshape(mask_shape), fresh(n, gen), decode(storage_.index_select(0, idx)));
    if (augment_) samples = augment_(samples, gen);
    return {idx, samples.detach(), reinit, reinit.to(options_.dtype()).mean()};
  }

  void write_back(const at::Tensor& indices, const at::Tensor& samples) {
    if (indices.dim() != 1 || samples.dim() != static_cast<std::int64_t>(shape_.size()) + 1 ||
        samples.size(0) != indices.size(0) || samples.sizes().slice(1) != at::IntArrayRef(shape_))
      throw std::invalid_argument("cebm::replay_buffer::write_back: expected indices [n] and samples [n, " + shape_text() +
                                  "], got " + std::string(c10::str(indices.sizes())) + " and " +
                                  std::string(c10::str(samples.sizes())));
    storage_.index_copy_(0, indices.to(storage_.device()), encode(samples.detach()));
  }

  /// Every chain, decoded to the sample dtype: [capacity, sample shape...].
  at::Tensor contents() const { return decode(storage_); }

  void save(torch::serialize::OutputArchive& archive) const {
    archive.write("storage", storage_.cpu(), /*is_buffer=*/true);
    archive.write("store_uint8", at::tensor(static_cast<std::int64_t>(o_.store_uint8())), true);
  }
  void load(torch::serialize::InputArchive& archive) {
    at::Tensor stored, uint8_flag;
    archive.read("storage", stored, /*is_buffer=*/true);
    archive.read("store_uint8", uint8_flag, true);
    std::vector<std::int64_t> expect{o_.capacity()};
    expect.insert(expect.end(), shape_.begin(), shape_.end());
    if (stored.sizes() != at::IntArrayRef(expect) || (uint8_flag.item<std::int64_t>() != 0) != o_.store_uint8())
      throw std::runtime_error("cebm::replay_buffer::load: the checkpoint holds a buffer of shape " +
                               std::string(c10::str(stored.sizes())) + (uint8_flag.item<std::int64_t>() ? " (uint8)" : "") +
                               ", this buffer is " + std::string(c10::str(at::IntArrayRef(expect))) +
                               (o_.store_uint8() ? " (uint8)" : ""));
    storage_ = stored.to(storage_.device());
  }

 private:
  at::Tensor encode(const at::Tensor& x) const {
    if (!o_.store_uint8()) return x.to(options_).clone();
    const auto [lo, hi] = o_.uint8_range();
    return ((x.to(options_) - lo) * (255.0 / (hi - lo))).round().clamp(0, 255).to(at::kByte);
  }
  at::Tensor decode(const at::Tensor& stored) const {
    if (!o_.store_uint8()) return stored;
    const auto [lo, hi] = o_.uint8_range();
    return stored.to(options_) * ((hi - lo) / 255.0) + lo;
  }
  std::string shape_text() const {
    std::string s;
    for (std::size_t i = 0; i < shape_.size(); ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
    return s;
  }

  replay_buffer_options o_;
  std::vector<std::int64_t> shape_;
  at::TensorOptions options_;
  at::Tensor storage_;
  augmentation augment_;
};

}  // namespace cebm
