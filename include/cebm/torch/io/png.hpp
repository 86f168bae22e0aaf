#pragma once
/// @file
/// `write_png(path, image)` (and `encode_png(image)`, the file's bytes): uint8 [C, H, W] (C = 1 grey or 3 RGB, any device and layout) as an
/// 8-bit PNG file, encoded with zlib alone (what cebm::torch links already), so that a trainer's
/// sample grids need no image library. The file is a signature, an IHDR chunk (width, height,
/// bit depth 8, colour type 0 grey or 2 RGB), one IDAT chunk holding the zlib stream of the rows,
/// each preceded by filter byte 0 (none), and an IEND chunk; every chunk carries its CRC-32 (PNG
/// specification, ISO/IEC 15948).
#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/config.hpp"

namespace cebm::data {

namespace detail {

CEBM_INLINE void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v);

/// Appends a chunk: length, type, data, CRC-32 of type and data.
CEBM_INLINE void put_chunk(std::vector<std::uint8_t>& out, const char (&type)[5], const std::vector<std::uint8_t>& data);

}  // namespace detail

/// The PNG file's bytes of uint8 [C, H, W] (C = 1 grey or 3 RGB, any device and layout); `what`
/// names the image in errors.
CEBM_INLINE std::vector<std::uint8_t> encode_png(const at::Tensor& image, const std::string& what = "image");

/// Writes uint8 [C, H, W] (C = 1 grey or 3 RGB, any device and layout) as a PNG file.
CEBM_INLINE void write_png(const std::string& path, const at::Tensor& image);

}  // namespace cebm::data

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/io/png_impl.hpp"
#endif
