#pragma once
/// @file
/// `batch_loader`: shuffled minibatches of an `image_dataset` without copying it per epoch (an
/// epoch is a permutation of indices; a batch gathers only its rows), sharded by rank for
/// data-parallel training. Every rank must shuffle with an identically seeded generator so that
/// the shards of an epoch are disjoint; each rank then reads every `world_size`-th index of the
/// permutation, trimmed to equal length on all ranks.
///
/// The loader's position (epoch, permutation, next batch) saves to a torch archive, so a resumed
/// run reads exactly the batches an uninterrupted run would. The whole permutation is saved with
/// the shard, so a checkpoint written by one rank resumes every rank on its own shard.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

struct loader_options {
  CEBM_ARG(std::int64_t, batch_size) = 100;
  CEBM_ARG(bool, shuffle) = true;
  CEBM_ARG(bool, drop_last) = true;
  CEBM_ARG(std::int64_t, rank) = 0;
  CEBM_ARG(std::int64_t, world_size) = 1;
};

struct image_batch {
  at::Tensor images;   ///< uint8 [b, C, H, W]
  at::Tensor labels;   ///< int64 [b]
  at::Tensor indices;  ///< int64 [b], rows of the dataset
};

class batch_loader {
 public:
  batch_loader(image_dataset data, loader_options o) : data_(std::move(data)), o_(std::move(o)) {
    data_.validate();
    if (o_.batch_size() <= 0) throw std::invalid_argument("cebm::data::batch_loader: batch_size must be positive");
    if (o_.world_size() <= 0 || o_.rank() < 0 || o_.rank() >= o_.world_size())
      throw std::invalid_argument("cebm::data::batch_loader: rank " + std::to_string(o_.rank()) + " of world size " +
                                  std::to_string(o_.world_size()) + " is invalid");
    if (shard_size() == 0 || (o_.drop_last() && shard_size() < o_.batch_size()))
      throw std::invalid_argument("cebm::data::batch_loader: " + data_.source + " has " + std::to_string(data_.size()) +
                                  " images, too few for batches of " + std::to_string(o_.batch_size()) + " on " +
                                  std::to_string(o_.world_size()) + " rank(s)");
  }

  const image_dataset& dataset() const { return data_; }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t shard_size() const { return data_.size() / o_.world_size(); }
  std::int64_t batches_per_epoch() const {
    return o_.drop_last() ? shard_size() / o_.batch_size() : (shard_size() + o_.batch_size() - 1) / o_.batch_size();
  }

  /// The next batch; starts a new epoch (a new permutation from `gen`) when the current one is done.
  image_batch next(at::Generator& gen) {
    if (!order_.defined() || position_ >= batches_per_epoch()) start_epoch(gen);
    const std::int64_t begin = position_ * o_.batch_size();
    const std::int64_t count = std::min(o_.batch_size(), shard_size() - begin);
    ++position_;
    const at::Tensor idx = order_.narrow(0, begin, count);
    return {data_.images.index_select(0, idx), data_.labels.index_select(0, idx), idx};
  }

  void save(torch::serialize::OutputArchive& archive) const {
    archive.write("order", order_.defined() ? order_ : at::empty({0}, at::kLong), true);
    archive.write("permutation", permutation_.defined() ? permutation_ : at::empty({0}, at::kLong), true);
    archive.write("position", at::tensor(position_), true);
    archive.write("epoch", at::tensor(epoch_), true);
  }
  void load(torch::serialize::InputArchive& archive) {
    at::Tensor order, permutation, position, epoch;
    archive.read("order", order, true);
    archive.read("position", position, true);
    archive.read("epoch", epoch, true);
    if (archive.try_read("permutation", permutation, true) && permutation.numel() != 0) {
      if (permutation.numel() != data_.size())
        throw std::runtime_error("cebm::data::batch_loader::load: the saved permutation has " + std::to_string(permutation.numel()) +
                                 " indices, " + data_.source + " has " + std::to_string(data_.size()) + " images (another dataset?)");
      order = shard(permutation);
    }
    if (order.numel() != 0 && order.numel() != shard_size())
      throw std::runtime_error("cebm::data::batch_loader::load: the saved epoch has " + std::to_string(order.numel()) +
                               " indices, this loader's shard has " + std::to_string(shard_size()) +
                               " (another dataset or world size?)");
    order_ = order.numel() ? order : at::Tensor();
    permutation_ = permutation.defined() && permutation.numel() ? permutation : at::Tensor();
    position_ = position.item<std::int64_t>();
    epoch_ = epoch.item<std::int64_t>();
  }

 private:
  void start_epoch(at::Generator& gen) {
    const std::int64_t n = data_.size();
    permutation_ = o_.shuffle() ? at::randperm(n, gen, at::kLong) : at::arange(n, at::kLong);
    order_ = shard(permutation_);
    position_ = 0;
    ++epoch_;
  }

  /// This rank's indices of an epoch's permutation: every world_size-th, trimmed to equal length.
  at::Tensor shard(const at::Tensor& permutation) const {
    return permutation.narrow(0, 0, shard_size() * o_.world_size()).view({shard_size(), o_.world_size()}).select(1, o_.rank()).contiguous();
  }

  image_dataset data_;
  loader_options o_;
  at::Tensor permutation_, order_;
  std::int64_t position_ = 0;
  std::int64_t epoch_ = 0;
};

}  // namespace cebm::data
