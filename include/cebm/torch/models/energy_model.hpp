#pragma once
/// @file
/// `EnergyModel`: the interface of the models the Langevin trainer trains,
///
///   E(x) -> [B]          `energy`
///   φ(x) -> [B, D]       `representation` (what the 1-NN probe and the evaluation read)
///   its kind             `kind` (stored in checkpoints, checked on load)
///
/// as a torch module with virtual functions. `ConjugateEbm<F, Map>`, `Igebm` and `Harmonium`
/// implement it, and so may a user's model. Code written against it — `ebm_trainer<EnergyModel>`
/// and the evaluation — is compiled once for every such model (cebm::compiled), instead of once
/// per model type: a model adds only its own functions to the program.
///
/// A holder of a concrete model converts: `EnergyModel(cebm_model.ptr())` shares the module (its
/// parameters, buffers and names), so checkpoints are the same whichever holder wrote them.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace cebm::models {

class EnergyModelImpl : public torch::nn::Module {
 public:
  /// The kind a trainer stores in checkpoints ("cebm", "igebm", ...).
  virtual std::string kind() const = 0;
  /// E(x), [B].
  virtual at::Tensor energy(const at::Tensor& x) = 0;
  /// The representation φ(x), [B, D].
  virtual at::Tensor representation(const at::Tensor& x) = 0;
};

/// The module holder of any `EnergyModelImpl`: from a concrete model's holder (sharing its module)
/// or from a pointer. It never builds a module itself (the interface has no constructor to call).
class EnergyModel : public torch::nn::ModuleHolder<EnergyModelImpl> {
  using holder = torch::nn::ModuleHolder<EnergyModelImpl>;

 public:
  using Impl = EnergyModelImpl;
  EnergyModel(std::nullptr_t) : holder(nullptr) {}  // NOLINT: as every module holder
  EnergyModel(std::shared_ptr<EnergyModelImpl> module) : holder(std::move(module)) {}  // NOLINT
  /// A holder of a concrete model (`ConjugateEbm<F, Map>`, `Igebm`, ...), sharing its module.
  template <class Holder, class = decltype(std::shared_ptr<EnergyModelImpl>(std::declval<const Holder&>().ptr()))>
  EnergyModel(const Holder& concrete) : holder(std::shared_ptr<EnergyModelImpl>(concrete.ptr())) {}  // NOLINT
};

}  // namespace cebm::models
