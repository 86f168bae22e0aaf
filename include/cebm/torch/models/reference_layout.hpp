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
#include <regex>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cebm/torch/io/safetensors.hpp"

namespace cebm::models {

namespace detail {

/// Number of direct children of the submodule `prefix` (a Sequential's length).
inline std::int64_t children_of(const torch::nn::Module& m, const std::string& prefix) {
  std::int64_t n = 0;
  for (const auto& sub : m.named_modules("", false)) {
    const std::string& name = sub.key();
    if (name.size() > prefix.size() + 1 && name.compare(0, prefix.size() + 1, prefix + ".") == 0 &&
        name.find('.', prefix.size() + 1) == std::string::npos)
      ++n;
  }
  return n;
}

/// Applies `rename` to every parameter and buffer name of `m`; names it returns unchanged are left out.
template <class Rename>
io::tensor_layout layout_of(const torch::nn::Module& m, Rename&& rename) {
  io::tensor_layout out;
  for (const auto& [name, t] : io::detail::module_tensors(m)) {
    io::foreign_tensor f = rename(name, t);
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
  static const std::regex conv(R"(encoder\.trunk\.convs\.(\d+)\.(.+))"), split(R"(encoder\.head(\d+)\.([02])\.(.+))"),
      shared(R"(encoder\.head\.([02])\.(.+))"), bias(R"(bias_(\d+))");
  return detail::layout_of(m, [](const std::string& name, const at::Tensor&) -> io::foreign_tensor {
    std::smatch g;
    if (std::regex_match(name, g, conv)) return {"encoder.convs." + std::to_string(std::stoi(g[1]) / 2) + "." + g[2].str(), {}};
    if (std::regex_match(name, g, split))
      return {"encoder.fc" + std::string(g[2] == "0" ? "1" : "2") + static_cast<char>('a' + std::stoi(g[1]) - 1) + "." + g[3].str(), {}};
    if (std::regex_match(name, g, shared)) return {"encoder.fc" + std::string(g[1] == "0" ? "1" : "2") + "." + g[2].str(), {}};
    if (std::regex_match(name, g, bias)) return {"lam" + g[1].str(), {}};
    return {name, {}};
  });
}

/// The reference layout of the IGEBM: its trunk's convolutions without the Swish slots.
inline io::tensor_layout igebm_reference_layout(const torch::nn::Module& m) {
  static const std::regex conv(R"(trunk\.convs\.(\d+)\.(.+))");
  return detail::layout_of(m, [](const std::string& name, const at::Tensor&) -> io::foreign_tensor {
    std::smatch g;
    if (std::regex_match(name, g, conv)) return {"convs." + std::to_string(std::stoi(g[1]) / 2) + "." + g[2].str(), {}};
    return {name, {}};
  });
}

/// The reference layout of CLEL (f, g and h; one trunk); empty (cebm's names) for the large size.
inline io::tensor_layout clel_reference_layout(const torch::nn::Module& m) {
  if (detail::children_of(m, "ebm_f.trunks") != 1) return {};
  // The flat index in the reference's Sequential of each cebm stage's first item, and of each layer's first block.
  std::vector<std::int64_t> stage_start, layer_start;
  for (std::int64_t i = 0, at = 2, n = detail::children_of(m, "ebm_f.trunks.0.stages"); i < n; ++i) {
    stage_start.push_back(at);
    at += detail::children_of(m, "ebm_f.trunks.0.stages." + std::to_string(i));
  }
  for (std::int64_t l = 1, at = 4; l <= 4; ++l) {
    layer_start.push_back(at);
    at += detail::children_of(m, "encoder.layer" + std::to_string(l));
  }
  static const std::regex normalize(R"((ebm_f|encoder)\.normalize\.(mean|std))"), stem(R"(ebm_f\.trunks\.0\.stem\.(\w+))"),
      stage(R"(ebm_f\.trunks\.0\.stages\.(\d+)\.(\d+)\.(\w+)\.(\w+))"), head(R"(ebm_f\.head\.(.+))"), g_mlp(R"(ebm_g\.mlp\.(.+))"),
      stem_h(R"(encoder\.(conv1|bn1)\.(.+))"), block(R"(encoder\.layer(\d)\.(\d+)\.(.+))"), fc(R"(encoder\.fc\.(.+))");
  return detail::layout_of(m, [&](const std::string& name, const at::Tensor& t) -> io::foreign_tensor {
    std::smatch g;
    if (std::regex_match(name, g, normalize))
      return {(g[1] == "ebm_f" ? "ebm" : "encoder") + std::string(".trunk.0.") + g[2].str(), {1, t.numel(), 1, 1}};
    if (std::regex_match(name, g, stem)) return {"ebm.trunk.1." + detail::spectral_leaf(g[1]), {}};
    if (std::regex_match(name, g, stage)) {
      const auto i = static_cast<std::size_t>(std::stoi(g[1]));
      return {"ebm.trunk." + std::to_string(stage_start.at(i) + std::stoi(g[2])) + "." + g[3].str() + "." +
                  detail::spectral_leaf(g[4]),
              {}};
    }
    if (std::regex_match(name, g, head)) return {"ebm.head." + g[1].str(), {}};
    if (std::regex_match(name, g, g_mlp)) return {"ebm.g." + g[1].str(), {}};
    if (std::regex_match(name, g, stem_h)) return {"encoder.trunk." + std::string(g[1] == "conv1" ? "1." : "2.") + g[2].str(), {}};
    if (std::regex_match(name, g, block)) {
      std::string rest = g[3].str();
      if (rest.compare(0, 11, "downsample.") == 0) rest = "shortcut." + rest.substr(11);
      const auto l = static_cast<std::size_t>(std::stoi(g[1]) - 1);
      return {"encoder.trunk." + std::to_string(layer_start.at(l) + std::stoi(g[2])) + "." + rest, {}};
    }
    if (std::regex_match(name, g, fc)) return {"encoder.proj." + g[1].str(), {}};
    return {name, {}};
  });
}

}  // namespace cebm::models
