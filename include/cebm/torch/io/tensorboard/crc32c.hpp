#pragma once
/// @file
/// CRC-32C (Castagnoli), the checksum of TFRecord files and so of TensorBoard's event files.
///
///   crc32c(data)        the CRC with the reflected polynomial 0x82F63B78 (x³² + x²⁸ + x²⁷ + x²⁶ +
///                       x²⁵ + x²³ + x²² + x²⁰ + x¹⁹ + x¹⁸ + x¹⁴ + x¹³ + x¹¹ + x¹⁰ + x⁹ + x⁸ + x⁶ + 1),
///                       initial value and final XOR 0xFFFFFFFF (RFC 3720, §B.4, which lists test
///                       vectors; "123456789" gives 0xE3069283).
///   masked_crc32c(data) ((c >> 15) | (c << 17)) + 0xA282EAD8 for c = crc32c(data): TFRecord stores
///                       this rotation so that a CRC of data that itself holds CRCs stays informative.
///
/// A byte-at-a-time table; its 1 KiB table is computed at compile time.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cebm::tensorboard {

namespace detail {
constexpr std::array<std::uint32_t, 256> crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> crc32c_lookup = crc32c_table();
}  // namespace detail

/// CRC-32C of `size` bytes at `data`; `crc` continues an earlier call's result over more bytes.
inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = detail::crc32c_lookup[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

/// The masked CRC-32C that TFRecord stores beside a record's length and its data.
inline std::uint32_t masked_crc32c(const void* data, std::size_t size) {
  const std::uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}
inline std::uint32_t masked_crc32c(std::string_view bytes) { return masked_crc32c(bytes.data(), bytes.size()); }

}  // namespace cebm::tensorboard
