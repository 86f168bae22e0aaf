#pragma once
/// @file
/// The definitions of png.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/io/png.hpp"

namespace cebm::data::detail {

CEBM_INLINE void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

CEBM_INLINE void put_chunk(std::vector<std::uint8_t>& out, const char (&type)[5], const std::vector<std::uint8_t>& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, static_cast<std::uint32_t>(crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start))));
}

}  // namespace cebm::data::detail

namespace cebm::data {

CEBM_INLINE std::vector<std::uint8_t> encode_png(const at::Tensor& image, const std::string& path) {
  if (!image.defined() || image.scalar_type() != at::kByte || image.dim() != 3)
    throw std::invalid_argument("encode_png: " + path + ": image must be uint8 [C, H, W], got " +
                                (image.defined() ? std::string(c10::str(image.sizes())) + " " +
                                                       std::string(c10::toString(image.scalar_type()))
                                                 : std::string("an undefined tensor")));
  const std::int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  if (c != 1 && c != 3)
    throw std::invalid_argument("encode_png: " + path + ": image has " + std::to_string(c) +
                                " channels, expected 1 (grey) or 3 (RGB)");
  if (h <= 0 || w <= 0 || h > INT_MAX / 4 || w > INT_MAX / (4 * c))
    throw std::invalid_argument("encode_png: " + path + ": cannot write an image of " + std::to_string(h) + "×" +
                                std::to_string(w) + " pixels");
  const at::Tensor hwc = image.to(at::kCPU).permute({1, 2, 0}).contiguous();
  const std::uint8_t* pixels = hwc.data_ptr<std::uint8_t>();
  const std::size_t row = static_cast<std::size_t>(w * c);
  std::vector<std::uint8_t> raw;  // each row after its filter byte
  raw.reserve(static_cast<std::size_t>(h) * (row + 1));
  for (std::int64_t y = 0; y < h; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels + y * row, pixels + (y + 1) * row);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::runtime_error("encode_png: " + path + ": zlib could not compress the image");
  packed.resize(packed_size);

  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, header;
  detail::put_u32(header, static_cast<std::uint32_t>(w));
  detail::put_u32(header, static_cast<std::uint32_t>(h));
  header.insert(header.end(), {8, static_cast<std::uint8_t>(c == 1 ? 0 : 2), 0, 0, 0});  // depth, colour, methods
  detail::put_chunk(png, "IHDR", header);
  detail::put_chunk(png, "IDAT", packed);
  detail::put_chunk(png, "IEND", {});
  return png;
}

CEBM_INLINE void write_png(const std::string& path, const at::Tensor& image) {
  const std::vector<std::uint8_t> png = encode_png(image, path);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error("write_png: " + path + ": cannot open for writing (" + std::strerror(errno) + ")");
  file.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  file.close();
  if (!file) throw std::runtime_error("write_png: " + path + ": write failed (" + std::strerror(errno) + ")");
}

}  // namespace cebm::data
