#pragma once
/// @file
/// A folder of image files as an unlabelled dataset, for out-of-distribution sets such as DTD
/// textures (`write_png`, for sample grids, is io/png.hpp's). Decoding goes through stb (target
/// `cebm::image_io`): PNG of any bit depth with 1–4 channels (grey, grey+alpha, RGB, RGBA), and
/// JPEG/BMP, which stb also reads.
///
/// Channel conversion is stb's: grey → RGB repeats the level, RGB → grey is
/// (77 R + 150 G + 29 B) / 256 (ITU-R BT.601 luma), and alpha is dropped, not composited.
/// Resizing works on the image as float and rounds back to uint8:
///   bilinear       at::upsample_bilinear2d, align_corners = false (no antialiasing: prefer `area`
///                  for large reductions)
///   area           at::adaptive_avg_pool2d, the mean over each output cell's input window (exact
///                  box filter for integer reductions; replicates pixels when enlarging)
///   crop_top_left  rows [0, H) and columns [0, W), no interpolation (CLEL's DTD protocol crops
///                  the top-left 32×32 of each texture)
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/io/png.hpp"

namespace cebm::data {

/// How `load_image_folder` brings every image to the target size.
enum class image_resize { bilinear, area, crop_top_left };

struct image_folder_options {
  using height_width = std::array<std::int64_t, 2>;
  using optional_size = std::optional<height_width>;
  using name_list = std::vector<std::string>;
  /// 1 (grey) or 3 (RGB); images with other channel counts are converted.
  CEBM_ARG(std::int64_t, channels) = 3;
  /// Target {height, width}; without one, every image must already have the same size.
  CEBM_ARG(optional_size, size) = std::nullopt;
  /// Used for images whose size differs from `size`.
  CEBM_ARG(image_resize, resize) = image_resize::bilinear;
  /// File name endings that count as images (compared case-insensitively); other files are ignored.
  CEBM_ARG(name_list, extensions) = name_list{".png", ".jpg", ".jpeg", ".bmp"};
  /// Also read the folder's subfolders.
  CEBM_ARG(bool, recursive) = false;
};

/// One image file as uint8 [channels, H, W] (`channels` 1 or 3, converted as described above).
/// Throws std::runtime_error naming the file when it cannot be read or decoded.
inline at::Tensor read_image(const std::string& path, std::int64_t channels = 3) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument("read_image: channels must be 1 (grey) or 3 (RGB), got " + std::to_string(channels));
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  if (bytes.empty()) throw std::runtime_error(path + ": empty file, not an image");
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) throw std::runtime_error(path + ": too large for the image decoder");
  int w = 0, h = 0, stored = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &stored, static_cast<int>(channels)),
      stbi_image_free);
  if (!pixels) {
    const char* why = stbi_failure_reason();
    throw std::runtime_error(path + ": cannot decode the image (" + (why ? why : "unknown reason") +
                             "); corrupt, or not a PNG/JPEG/BMP file");
  }
  // A copy in all cases: with one channel the permuted view already counts as contiguous, and
  // the decoder's buffer is freed on return.
  const at::Tensor hwc = at::from_blob(pixels.get(), {h, w, channels}, at::kByte);
  return hwc.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

namespace detail {

inline at::Tensor fit_image(const at::Tensor& chw, const image_folder_options& o, const std::string& path) {
  const auto& target = *o.size();
  const std::int64_t h = chw.size(1), w = chw.size(2), th = target[0], tw = target[1];
  if (h == th && w == tw) return chw;
  if (o.resize() == image_resize::crop_top_left) {
    if (h < th || w < tw)
      throw std::runtime_error(path + ": image is " + std::to_string(h) + "×" + std::to_string(w) +
                               ", smaller than the " + std::to_string(th) + "×" + std::to_string(tw) + " top-left crop");
    return chw.slice(1, 0, th).slice(2, 0, tw).contiguous();
  }
  const at::Tensor x = chw.unsqueeze(0).to(at::kFloat);
  const std::array<std::int64_t, 2> out_size{th, tw};
  const at::IntArrayRef out(out_size.data(), out_size.size());
  const at::Tensor y = o.resize() == image_resize::bilinear ? at::upsample_bilinear2d(x, out, /*align_corners=*/false)
                                                            : at::adaptive_avg_pool2d(x, out);
  return y.squeeze(0).round().clamp(0, 255).to(at::kByte).contiguous();
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace detail

/// Every image file of `dir` (sorted by path) as uint8 [N, channels, H, W] with labels −1.
/// Throws when the folder is missing or holds no image, an image cannot be decoded (naming the
/// file), images differ in size without a target size, or a crop is larger than an image.
inline image_dataset load_image_folder(const std::string& dir, const image_folder_options& options = {}) {
  namespace fs = std::filesystem;
  if (options.channels() != 1 && options.channels() != 3)
    throw std::invalid_argument("load_image_folder: channels must be 1 (grey) or 3 (RGB), got " +
                                std::to_string(options.channels()));
  if (options.size() && ((*options.size())[0] <= 0 || (*options.size())[1] <= 0))
    throw std::invalid_argument("load_image_folder: size must be positive, got " + std::to_string((*options.size())[0]) +
                                "×" + std::to_string((*options.size())[1]));
  if (!fs::is_directory(dir)) throw std::runtime_error("load_image_folder: " + dir + " is not a directory");

  std::vector<std::string> extensions;
  for (const auto& e : options.extensions()) extensions.push_back(detail::lower(e));
  auto is_image = [&](const fs::path& p) {
    const std::string name = detail::lower(p.filename().string());
    return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) {
      return name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
    });
  };
  std::vector<fs::path> files;
  auto consider = [&](const fs::directory_entry& entry) {
    if (entry.is_regular_file() && is_image(entry.path())) files.push_back(entry.path());
  };
  if (options.recursive())
    for (const auto& entry : fs::recursive_directory_iterator(dir)) consider(entry);
  else
    for (const auto& entry : fs::directory_iterator(dir)) consider(entry);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::string list;
    for (const auto& e : options.extensions()) list += (list.empty() ? "" : ", ") + e;
    throw std::runtime_error("load_image_folder: " + dir + " holds no image files (" + list + ")");
  }

  std::vector<at::Tensor> images;
  images.reserve(files.size());
  for (const auto& file : files) {
    at::Tensor img = read_image(file.string(), options.channels());
    if (options.size()) {
      img = detail::fit_image(img, options, file.string());
    } else if (!images.empty() && (img.size(1) != images.front().size(1) || img.size(2) != images.front().size(2))) {
      throw std::runtime_error(file.string() + ": image is " + std::to_string(img.size(1)) + "×" +
                               std::to_string(img.size(2)) + " but " + files.front().string() + " is " +
                               std::to_string(images.front().size(1)) + "×" + std::to_string(images.front().size(2)) +
                               "; give image_folder_options::size to resize or crop them to one size");
    }
    images.push_back(img);
  }
  const auto n = static_cast<std::int64_t>(images.size());
  image_dataset out{at::stack(images, 0), at::full({n}, -1, at::kLong), dir};
  out.validate();
  return out;
}

}  // namespace cebm::data
