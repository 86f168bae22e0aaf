#pragma once
/// @file
/// The names and shapes the papers' PyTorch modules give cebm's tensors, so that weights exported
/// from cebm load with `load_state_dict` there, and weights saved there load here
/// (io/safetensors.hpp's `tensor_layout`). The modules are those of the authors' code as the
/// performance references transcribe them (CEBM: `GaussianCebm(CebmEncoder(head="split"))`;
/// CLEL: `SmallEbm` and `CifarResNetEncoder` as the attributes `ebm` and `encoder` of one module).
///
///   CEBM (any conjugate bias, conv encoder)
///     encoder.trunk.convs.{2i}.*          → encoder.convs.{i}.*       (cebm keeps Swish between)
///     encoder.head{s}.0.* / .2.*          → encoder.fc1{a,b,…}.* / encoder.fc2{a,b,…}.*   split heads
///     encoder.head.0.* / .2.*             → encoder.fc1.* / encoder.fc2.*                shared head
///     bias_{s}                            → lam{s}                    (λ, the bias's natural parameters)
///   IGEBM
///     trunk.convs.{2i}.*                  → convs.{i}.*               (fc1, fc2, out unchanged)
///   CLEL (one trunk: the small and base sizes)
///     ebm_f.normalize.mean / std  [C]     → ebm.trunk.0.mean / std  [1, C, 1, 1]
///     ebm_f.trunks.0.stem.*               → ebm.trunk.1.*
///     ebm_f.trunks.0.stages.{i}.{j}.*     → ebm.trunk.{2 + (items of stages before i) + j}.*
///                                           (stage i > 0 begins with its AvgPool2d, as the reference's)
///     ebm_f.head.* / ebm_g.mlp.*          → ebm.head.* / ebm.g.*
///     spectral norm: weight_orig, weight_u, weight_v
///                                         → parametrizations.weight.original, .0._u, .0._v
///                                           (torch.nn.utils.parametrizations.spectral_norm)
///     encoder.normalize.mean / std  [C]   → encoder.trunk.0.mean / std  [1, C, 1, 1]
///     encoder.conv1.* / encoder.bn1.*     → encoder.trunk.1.* / encoder.trunk.2.*
///     encoder.layer{L}.{b}.*              → encoder.trunk.{4 + (blocks of layers before L) + b}.*
///     ….downsample.*                      → ….shortcut.*
///     encoder.fc.*                        → encoder.proj.*
///
/// Where the computations differ rather than the names: cebm's CLEL pools with ceil_mode (the
/// reference floors), which agrees for the 32×32 images the reference takes; CLEL's large size
/// (three trunks) has no reference module and keeps cebm's names.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cebm/torch/io/safetensors.hpp"

namespace cebm::models {

namespace detail {

/// The components of a dotted tensor name ("encoder.trunk.convs.0.weight" → 5).
inline std::vector<std::string> name_parts(const std::string& name) {
  std::vector<std::string> parts(1);
  for (const char c : name) {
    if (c == '.') parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}
/// parts[from..] joined with dots.
inline std::string joined(const std::vector<std::string>& parts, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i) out += (i > from ? "." : "") + parts[i];
  return out;
}
inline bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 9 && s.find_first_not_of("0123456789") == std::string::npos;
}
inline bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

/// Number of direct children of the submodule `prefix` (a Sequential's length).
inline std::int64_t children_of(const torch::nn::Module& m, const std::string& prefix) {
  std::int64_t n = 0;
  for (const auto& sub : m.named_modules("", false)) {
    const std::string& name = sub.key();
    if (name.size() > prefix.size() + 1 && starts_with(name, prefix + ".") && name.find('.', prefix.size() + 1) == std::string::npos)
      ++n;
  }
  return n;
}

/// Applies `rename(parts, tensor)` to every parameter and buffer of `m`; names it returns
/// unchanged (and without a shape) are left out.
template <class Rename>
io::tensor_layout layout_of(const torch::nn::Module& m, Rename&& rename) {
  io::tensor_layout out;
  for (const auto& [name, t] : io::detail::module_tensors(m)) {
    io::foreign_tensor f = rename(name_parts(name), t);
    if (f.name != name || !f.shape.empty()) out[name] = std::move(f);
  }
  return out;
}

/// torch's parametrized spectral norm for a cebm SpectralConv2d's tensor `leaf`.
inline std::string spectral_leaf(const std::string& leaf) {
  if (leaf == "weight_orig") return "parametrizations.weight.original";
  if (leaf == "weight_u") return "parametrizations.weight.0._u";
  if (leaf == "weight_v") return "parametrizations.weight.0._v";
  return leaf;
}

}  // namespace detail

/// The reference layout of a conjugate EBM (`ConjugateEbm<F, Map>`, any family): see the file comment.
inline io::tensor_layout conjugate_ebm_reference_layout(const torch::nn::Module& m) {
  using namespace detail;
  return layout_of(m, [](const std::vector<std::string>& p, const at::Tensor&) -> io::foreign_tensor {
    if (p.size() >= 5 && p[0] == "encoder" && p[1] == "trunk" && p[2] == "convs" && is_index(p[3]))
      return {"encoder.convs." + std::to_string(std::stoi(p[3]) / 2) + "." + joined(p, 4), {}};
    if (p.size() >= 4 && p[0] == "encoder" && starts_with(p[1], "head") && (p[2] == "0" || p[2] == "2")) {
      const std::string s = p[1].substr(4), layer = p[2] == "0" ? "1" : "2";
      if (s.empty()) return {"encoder.fc" + layer + "." + joined(p, 3), {}};  // the shared head
      if (is_index(s) && std::stoi(s) >= 1 && std::stoi(s) <= 26)
        return {"encoder.fc" + layer + static_cast<char>('a' + std::stoi(s) - 1) + "." + joined(p, 3), {}};
    }
    if (p.size() == 1 && starts_with(p[0], "bias_") && is_index(p[0].substr(5))) return {"lam" + p[0].substr(5), {}};
    return {joined(p, 0), {}};
  });
}

/// The reference layout of the IGEBM: its trunk's convolutions without the Swish slots.
inline io::tensor_layout igebm_reference_layout(const torch::nn::Module& m) {
  using namespace detail;
  return layout_of(m, [](const std::vector<std::string>& p, const at::Tensor&) -> io::foreign_tensor {
    if (p.size() >= 4 && p[0] == "trunk" && p[1] == "convs" && is_index(p[2]))
      return {"convs." + std::to_string(std::stoi(p[2]) / 2) + "." + joined(p, 3), {}};
    return {joined(p, 0), {}};
  });
}

/// The reference layout of CLEL (f, g and h; one trunk); empty (cebm's names) for the large size.
inline io::tensor_layout clel_reference_layout(const torch::nn::Module& m) {
  using namespace detail;
  if (children_of(m, "ebm_f.trunks") != 1) return {};
  // The flat index in the reference's Sequential of each cebm stage's first item, and of each layer's first block.
  std::vector<std::int64_t> stage_start, layer_start;
  for (std::int64_t i = 0, at = 2, n = children_of(m, "ebm_f.trunks.0.stages"); i < n; ++i) {
    stage_start.push_back(at);
    at += children_of(m, "ebm_f.trunks.0.stages." + std::to_string(i));
  }
  for (std::int64_t l = 1, at = 4; l <= 4; ++l) {
    layer_start.push_back(at);
    at += children_of(m, "encoder.layer" + std::to_string(l));
  }
  return layout_of(m, [&](const std::vector<std::string>& p, const at::Tensor& t) -> io::foreign_tensor {
    const std::size_t n = p.size();
    if (n == 3 && (p[0] == "ebm_f" || p[0] == "encoder") && p[1] == "normalize")
      return {(p[0] == "ebm_f" ? "ebm" : "encoder") + std::string(".trunk.0.") + p[2], {1, t.numel(), 1, 1}};
    if (n == 5 && p[0] == "ebm_f" && p[1] == "trunks" && p[2] == "0" && p[3] == "stem")
      return {"ebm.trunk.1." + spectral_leaf(p[4]), {}};
    if (n == 8 && p[0] == "ebm_f" && p[1] == "trunks" && p[2] == "0" && p[3] == "stages" && is_index(p[4]) && is_index(p[5]))
      return {"ebm.trunk." + std::to_string(stage_start.at(static_cast<std::size_t>(std::stoi(p[4]))) + std::stoi(p[5])) + "." +
                  p[6] + "." + spectral_leaf(p[7]),
              {}};
    if (n >= 3 && p[0] == "ebm_f" && p[1] == "head") return {"ebm.head." + joined(p, 2), {}};
    if (n >= 3 && p[0] == "ebm_g" && p[1] == "mlp") return {"ebm.g." + joined(p, 2), {}};
    if (n >= 3 && p[0] == "encoder" && (p[1] == "conv1" || p[1] == "bn1"))
      return {"encoder.trunk." + std::string(p[1] == "conv1" ? "1." : "2.") + joined(p, 2), {}};
    if (n >= 4 && p[0] == "encoder" && starts_with(p[1], "layer") && is_index(p[1].substr(5)) && is_index(p[2])) {
      std::vector<std::string> rest(p.begin() + 3, p.end());
      if (rest[0] == "downsample") rest[0] = "shortcut";
      const auto l = static_cast<std::size_t>(std::stoi(p[1].substr(5)) - 1);
      return {"encoder.trunk." + std::to_string(layer_start.at(l) + std::stoi(p[2])) + "." + joined(rest, 0), {}};
    }
    if (n >= 3 && p[0] == "encoder" && p[1] == "fc") return {"encoder.proj." + joined(p, 2), {}};
    return {joined(p, 0), {}};
  });
}

}  // namespace cebm::models
