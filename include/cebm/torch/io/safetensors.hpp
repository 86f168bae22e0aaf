#pragma once
/// @file
/// Weights in safetensors (huggingface/safetensors), the format Python's `safetensors.torch`
/// reads and writes, so that a model trained with cebm is loaded by PyTorch code and back:
///
///   file    = N (8 bytes, unsigned little-endian) ‖ header (N bytes of UTF-8 JSON, may end in
///             spaces) ‖ data (the tensors' bytes)
///   header  = { "__metadata__": {string: string}   (optional)
///               name: {"dtype": "F32", "shape": [d₀, …], "data_offsets": [begin, end]}, … }
///   tensor  = data[begin, end): row-major, little-endian, end − begin = numel · element size;
///             the tensors cover data exactly, without holes or overlaps.
///
///   encode_safetensors / decode_safetensors   named tensors ⇄ the bytes of a file
///   write_safetensors / read_safetensors      the same with a file (written whole or not at all)
///   save_safetensors(module, path, metadata)  a module's parameters and buffers
///   load_safetensors(module, path)            into a module: every tensor checked (present, shape,
///                                             dtype) before any is copied; errors name the first
///                                             tensor that does not fit
///
/// A `tensor_layout` renames a module's tensors (and reshapes them, same element count) for
/// another program's module: the PyTorch modules of the papers' code name and shape a few tensors
/// differently from cebm's (models/reference_layout.hpp). `load_safetensors` accepts a file in
/// either naming. Decoding refuses, by name, anything the format does not allow: a header longer
/// than the file or than 100 MB, JSON that does not parse or is not an object, an unknown dtype,
/// negative or overflowing shapes, offsets outside the data, out of order, overlapping, leaving
/// holes or not matching the shape, a non-string metadata value, a tensor named twice.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "cebm/torch/io/atomic_file.hpp"

namespace cebm::io {

using named_tensors = std::vector<std::pair<std::string, at::Tensor>>;
using safetensors_metadata = std::map<std::string, std::string>;

/// What a file holds: its tensors (on the CPU, in the file's order) and its `__metadata__`.
struct safetensors_contents {
  named_tensors tensors;
  safetensors_metadata metadata;

  const at::Tensor* find(const std::string& name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return &t;
    return nullptr;
  }
};

/// A tensor's name and shape in another program's module.
struct foreign_tensor {
  std::string name;
  std::vector<std::int64_t> shape;  ///< empty: the module's own shape
};
/// The module's name → its name (and shape) elsewhere; tensors not listed keep theirs.
using tensor_layout = std::map<std::string, foreign_tensor>;

namespace detail {

/// The header may not exceed this (the Python library's own limit).
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

struct safetensors_dtype {
  const char* name;
  at::ScalarType type;
};
inline const std::vector<safetensors_dtype>& safetensors_dtypes() {
  static const std::vector<safetensors_dtype> d = {
      {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16}, {"I64", at::kLong},
      {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},  {"U8", at::kByte},       {"BOOL", at::kBool}};
  return d;
}
inline std::string safetensors_dtype_name(at::ScalarType t, const std::string& tensor) {
  for (const auto& d : safetensors_dtypes())
    if (d.type == t) return d.name;
  throw std::invalid_argument("safetensors: tensor '" + tensor + "' has dtype " + std::string(c10::toString(t)) +
                              ", which the format's torch mapping does not hold");
}

inline bool host_is_little_endian() {
  const std::uint16_t one = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}
inline void require_little_endian() {
  if (!host_is_little_endian())
    throw std::runtime_error("safetensors: this host is big-endian; the format's data is little-endian");
}

inline std::string shape_string(at::IntArrayRef s) { return c10::str(s); }

/// A module's parameters, then its buffers, by their full dotted names (undefined ones left out).
inline named_tensors module_tensors(const torch::nn::Module& m) {
  named_tensors out;
  for (const auto& p : m.named_parameters(true))
    if (p.value().defined()) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(true))
    if (b.value().defined()) out.emplace_back(b.key(), b.value());
  return out;
}

}  // namespace detail

/// The bytes of a safetensors file holding `tensors` (any device, dtype among F64, F32, F16, BF16,
/// I64, I32, I16, I8, U8, BOOL) in the given order, and `metadata`. The header is padded with
/// spaces to a multiple of 8 bytes, as the Python library writes it.
inline std::string encode_safetensors(const named_tensors& tensors, const safetensors_metadata& metadata = {}) {
  detail::require_little_endian();
  // The header in the tensors' order (nlohmann::json sorts keys; its ordered variant would
  // instantiate the whole JSON library a second time in every unit that includes this).
  std::string json = "{";
  if (!metadata.empty()) json += "\"__metadata__\":" + nlohmann::json(metadata).dump();
  std::vector<std::string> names;
  std::vector<at::Tensor> cpu;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") throw std::invalid_argument("safetensors: invalid tensor name '" + name + "'");
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw std::invalid_argument("safetensors: tensor '" + name + "' given twice");
    if (!t.defined()) throw std::invalid_argument("safetensors: tensor '" + name + "' is undefined");
    const std::string dtype = detail::safetensors_dtype_name(t.scalar_type(), name);
    names.push_back(name);
    cpu.push_back(t.detach().to(at::kCPU).contiguous());
    const auto bytes = static_cast<std::uint64_t>(cpu.back().numel()) * cpu.back().element_size();
    const nlohmann::json entry = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    json += (json.size() > 1 ? "," : "") + nlohmann::json(name).dump() + ":" + entry.dump();
    offset += bytes;
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const std::uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += json;
  out.reserve(out.size() + offset);
  for (const at::Tensor& t : cpu)
    out.append(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()) * t.element_size());
  return out;
}

/// Decodes the bytes of a safetensors file; `source` names it in errors. The tensors are copies on
/// the CPU, in the order of their data.
inline safetensors_contents decode_safetensors(const std::uint8_t* bytes, std::size_t size, const std::string& source) {
  detail::require_little_endian();
  const auto fail = [&](const std::string& why) { return std::runtime_error(source + ": not a valid safetensors file: " + why); };
  if (size < 8) throw fail("it is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > detail::safetensors_max_header) throw fail("header length " + std::to_string(n) + " exceeds 100 MB");
  if (n > size - 8)
    throw fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
               " bytes; truncated?)");
  if (n < 2 || bytes[8] != '{') throw fail("the header does not start with '{'");
  const char* text = reinterpret_cast<const char*>(bytes + 8);

  // Parse, refusing a key given twice in the top-level object (nlohmann would keep the last).
  std::vector<std::string> seen;
  std::string duplicate;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(
        text, text + n,
        [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string()) {
            const std::string key = parsed.get<std::string>();
            if (std::find(seen.begin(), seen.end(), key) != seen.end() && duplicate.empty()) duplicate = key;
            seen.push_back(key);
          }
          return true;
        });
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("its header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw fail("its header is not a JSON object");
  if (!duplicate.empty()) throw fail("tensor '" + duplicate + "' is named twice");

  safetensors_contents out;
  struct span {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<span> spans;
  const std::uint64_t data_size = size - 8 - n;
  const std::uint8_t* data = bytes + 8 + n;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw fail("__metadata__ is not an object of strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw fail("__metadata__ value '" + k + "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const auto field = [&](const char* key) -> const nlohmann::json& {
      if (!entry.is_object() || !entry.contains(key)) throw fail("tensor '" + name + "' has no \"" + key + "\"");
      return entry.at(key);
    };
    const nlohmann::json &dtype = field("dtype"), &shape = field("shape"), &offsets = field("data_offsets");
    if (!dtype.is_string()) throw fail("tensor '" + name + "': dtype is not a string");
    const auto& known = detail::safetensors_dtypes();
    const auto d = std::find_if(known.begin(), known.end(), [&](const auto& k) { return dtype.get<std::string>() == k.name; });
    if (d == known.end()) throw fail("tensor '" + name + "' has dtype " + dtype.dump() + ", which cebm does not read");
    if (!shape.is_array()) throw fail("tensor '" + name + "': shape is not an array");
    std::vector<std::int64_t> sizes;
    std::uint64_t numel = 1;
    for (const auto& s : shape) {
      if (!s.is_number_unsigned() || s.get<std::uint64_t>() > (std::uint64_t{1} << 48))
        throw fail("tensor '" + name + "': shape " + shape.dump() + " is not a list of sizes");
      const std::uint64_t v = s.get<std::uint64_t>();
      if (v != 0 && numel > (std::uint64_t{1} << 48) / v) throw fail("tensor '" + name + "': shape " + shape.dump() + " overflows");
      numel *= v;
      sizes.push_back(static_cast<std::int64_t>(v));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw fail("tensor '" + name + "': data_offsets is not [begin, end]");
    const std::uint64_t begin = offsets[0].get<std::uint64_t>(), end = offsets[1].get<std::uint64_t>();
    if (begin > end || end > data_size)
      throw fail("tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] lie outside the " + std::to_string(data_size) + " data bytes (truncated?)");
    const std::uint64_t element = c10::elementSize(d->type);
    if (end - begin != numel * element)
      throw fail("tensor '" + name + "': " + std::to_string(end - begin) + " bytes for shape " + shape.dump() + " of " +
                 d->name + " (expected " + std::to_string(numel * element) + ")");
    spans.push_back({begin, end, name});
    at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(d->type));
    if (numel > 0) std::memcpy(t.data_ptr(), data + begin, static_cast<std::size_t>(end - begin));
    out.tensors.emplace_back(name, std::move(t));
  }
  // The data is covered exactly: sorted by offset, each tensor starts where the previous ended.
  std::vector<std::size_t> order(spans.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return spans[a].begin != spans[b].begin ? spans[a].begin < spans[b].begin : spans[a].end < spans[b].end;
  });
  std::uint64_t covered = 0;
  for (const std::size_t i : order) {
    if (spans[i].begin != covered)
      throw fail("tensor '" + spans[i].name + "' starts at data byte " + std::to_string(spans[i].begin) + ", expected " +
                 std::to_string(covered) + (spans[i].begin < covered ? " (overlaps the previous tensor)" : " (a hole)"));
    covered = spans[i].end;
  }
  if (covered != data_size)
    throw fail(std::to_string(data_size - covered) + " data bytes after the last tensor belong to none");
  named_tensors sorted;
  for (const std::size_t i : order) sorted.push_back(std::move(out.tensors[i]));
  out.tensors = std::move(sorted);
  return out;
}

/// Writes `tensors` and `metadata` to `path` whole or not at all (io/atomic_file.hpp).
inline void write_safetensors(const std::string& path, const named_tensors& tensors, const safetensors_metadata& metadata = {}) {
  train::replace_file(path, encode_safetensors(tensors, metadata), "the safetensors file");
}

/// Reads a safetensors file; errors name it.
inline safetensors_contents read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return decode_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path);
}

/// The module's parameters and buffers as `save_safetensors` writes them: renamed and reshaped by
/// `layout` where it lists them.
inline named_tensors layout_tensors(const torch::nn::Module& module, const tensor_layout& layout = {}) {
  named_tensors out;
  for (auto& [name, t] : detail::module_tensors(module)) {
    const auto it = layout.find(name);
    if (it == layout.end()) {
      out.emplace_back(name, t);
      continue;
    }
    out.emplace_back(it->second.name, it->second.shape.empty() ? t : t.reshape(it->second.shape));
  }
  return out;
}

/// Writes every parameter and buffer of `module` (recursively, by dotted name; renamed by
/// `layout`) and `metadata` to `path`.
inline void save_safetensors(const torch::nn::Module& module, const std::string& path, const safetensors_metadata& metadata = {},
                             const tensor_layout& layout = {}) {
  write_safetensors(path, layout_tensors(module, layout), metadata);
}

struct load_options {
  /// A tensor in the file that the module does not have is an error (else it is skipped).
  bool strict = true;
};

/// Copies the tensors of `contents` into `module`'s parameters and buffers (on their devices).
/// The file may name them as the module does or as `layout` renames them: the naming that matches
/// more of the module's tensors is used. Every tensor is checked first (present, same shape,
/// same dtype; with `strict`, nothing left over); the first that does not fit is named, with the
/// file's and the module's shape and dtype, and the module is left unchanged. `source` names the
/// file in errors.
inline void load_tensors(torch::nn::Module& module, const safetensors_contents& contents, const std::string& source,
                         const tensor_layout& layout = {}, const load_options& options = {}) {
  const named_tensors own = detail::module_tensors(module);
  std::size_t native = 0, renamed = 0;
  for (const auto& [name, t] : own) {
    native += contents.find(name) != nullptr;
    const auto it = layout.find(name);
    renamed += contents.find(it == layout.end() ? name : it->second.name) != nullptr;
  }
  const bool use_layout = !layout.empty() && renamed > native;
  const std::string naming = layout.empty() ? "" : use_layout ? " (read in the other program's naming)" : " (read in cebm's naming)";

  std::vector<std::pair<at::Tensor, at::Tensor>> copies;  // destination, source
  std::vector<std::string> used;
  for (const auto& [name, dst] : own) {
    const auto it = use_layout ? layout.find(name) : layout.end();
    const std::string file_name = it == layout.end() ? name : it->second.name;
    const std::vector<std::int64_t> file_shape = it == layout.end() || it->second.shape.empty() ? dst.sizes().vec() : it->second.shape;
    const at::Tensor* src = contents.find(file_name);
    const std::string what = "'" + file_name + "'" + (file_name == name ? "" : " (the module's " + name + ")");
    if (src == nullptr)
      throw std::runtime_error(source + ": holds no tensor " + what + ", expected " + detail::shape_string(file_shape) + " " +
                               std::string(c10::toString(dst.scalar_type())) + naming);
    if (src->sizes().vec() != file_shape)
      throw std::runtime_error(source + ": tensor " + what + " has shape " + detail::shape_string(src->sizes()) +
                               ", the module expects " + detail::shape_string(file_shape) + naming);
    if (src->scalar_type() != dst.scalar_type())
      throw std::runtime_error(source + ": tensor " + what + " is " + std::string(c10::toString(src->scalar_type())) +
                               ", the module's is " + std::string(c10::toString(dst.scalar_type())));
    copies.emplace_back(dst, src->reshape(dst.sizes()));
    used.push_back(file_name);
  }
  if (options.strict)
    for (const auto& [name, t] : contents.tensors)
      if (std::find(used.begin(), used.end(), name) == used.end())
        throw std::runtime_error(source + ": tensor '" + name + "' " + detail::shape_string(t.sizes()) +
                                 " belongs to no parameter or buffer of the module" + naming);
  at::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
}

/// Reads `path` into `module` (`load_tensors`); returns the file's metadata.
inline safetensors_metadata load_safetensors(torch::nn::Module& module, const std::string& path, const tensor_layout& layout = {},
                                             const load_options& options = {}) {
  const safetensors_contents contents = read_safetensors(path);
  load_tensors(module, contents, path, layout, options);
  return contents.metadata;
}

}  // namespace cebm::io
