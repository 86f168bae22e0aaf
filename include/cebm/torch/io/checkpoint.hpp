#pragma once
/// @file
/// Checkpoint files that survive being killed mid-write, a full disk and corruption:
///
///   write_checkpoint  serialises the archive in memory and writes it with `replace_file`
///                     (atomic_file.hpp): to `<path>.tmp`, every write checked and synced, then
///                     renamed over `<path>` (atomic on POSIX file systems), so `<path>` is always
///                     the old or the new checkpoint, never a torn one. A failed write (no space
///                     left, say) removes the temporary file and throws std::runtime_error naming
///                     the file and the system's reason.
///   read_checkpoint   checks every record of the file against the CRC-32 the archive (a zip, as
///                     torch writes it) stores for it (libtorch's reader does not), then loads it;
///                     a corrupt or unreadable file is named in the error.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>

#include "cebm/torch/io/atomic_file.hpp"

namespace cebm::train {

namespace detail {

inline std::uint32_t read_le(const std::uint8_t* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t read_le64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(read_le(p, 4)) | (static_cast<std::uint64_t>(read_le(p + 4, 4)) << 32);
}

/// CRC-32 of `size` bytes (zlib takes at most 4 GiB a call).
inline std::uint32_t crc_of_stored(const std::uint8_t* p, std::uint64_t size) {
  uLong c = crc32(0L, Z_NULL, 0);
  for (std::uint64_t done = 0; done < size;) {
    const uInt chunk = static_cast<uInt>(std::min<std::uint64_t>(size - done, 1u << 30));
    c = crc32(c, p + done, chunk);
    done += chunk;
  }
  return static_cast<std::uint32_t>(c);
}

/// CRC-32 of what `size` bytes of raw deflate data inflate to (torch deflates small records such
/// as code); none when they do not inflate.
inline std::optional<std::uint32_t> crc_of_deflated(const std::uint8_t* p, std::uint64_t size) {
  z_stream s{};
  if (size > 0xFFFFFFFFu || inflateInit2(&s, -MAX_WBITS) != Z_OK) return std::nullopt;
  s.next_in = const_cast<Bytef*>(p);
  s.avail_in = static_cast<uInt>(size);
  uLong c = crc32(0L, Z_NULL, 0);
  unsigned char out[1 << 15];
  int status = Z_OK;
  while (status == Z_OK) {
    s.next_out = out;
    s.avail_out = sizeof out;
    status = inflate(&s, Z_NO_FLUSH);
    c = crc32(c, out, static_cast<uInt>(sizeof out - s.avail_out));
  }
  inflateEnd(&s);
  if (status != Z_STREAM_END) return std::nullopt;
  return static_cast<std::uint32_t>(c);
}

}  // namespace detail

/// Checks every record of a checkpoint file (a zip archive, as torch writes it) against the CRC-32
/// the archive stores for it; throws std::runtime_error naming the file and the first record that
/// does not match, or what is malformed. libtorch's reader does not check them.
inline void verify_checkpoint_checksums(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  auto bad = [&](const std::string& why) { return std::runtime_error(path + ": corrupt checkpoint (" + why + ")"); };
  const std::size_t n = bytes.size();
  const std::uint8_t* b = bytes.data();
  // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the end.
  std::size_t eocd = std::string::npos;
  if (n >= 22)
    for (std::size_t i = n - 22, lowest = n - 22 > 65535 ? n - 22 - 65535 : 0;; --i) {
      if (detail::read_le(b + i, 4) == 0x06054b50) {
        eocd = i;
        break;
      }
      if (i == lowest) break;
    }
  if (eocd == std::string::npos) throw bad("no zip end-of-central-directory record");
  std::uint64_t entries = detail::read_le(b + eocd + 10, 2), dir_offset = detail::read_le(b + eocd + 16, 4);
  if (entries == 0xFFFF || dir_offset == 0xFFFFFFFF) {  // zip64: the locator sits just before
    if (eocd < 20 || detail::read_le(b + eocd - 20, 4) != 0x07064b50) throw bad("zip64 locator missing");
    const std::uint64_t z64 = detail::read_le64(b + eocd - 20 + 8);
    if (z64 + 56 > n || detail::read_le(b + z64, 4) != 0x06064b50) throw bad("zip64 end record missing");
    entries = detail::read_le64(b + z64 + 32);
    dir_offset = detail::read_le64(b + z64 + 48);
  }
  std::uint64_t p = dir_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (p + 46 > n || detail::read_le(b + p, 4) != 0x02014b50) throw bad("central directory entry " + std::to_string(e));
    const std::uint32_t crc = detail::read_le(b + p + 16, 4), method = detail::read_le(b + p + 10, 2);
    std::uint64_t size = detail::read_le(b + p + 20, 4), local = detail::read_le(b + p + 42, 4);
    const std::uint32_t name_len = detail::read_le(b + p + 28, 2), extra_len = detail::read_le(b + p + 30, 2),
                        comment_len = detail::read_le(b + p + 32, 2);
    if (p + 46 + name_len + extra_len > n) throw bad("central directory entry " + std::to_string(e));
    const std::string name(reinterpret_cast<const char*>(b + p + 46), name_len);
    if (size == 0xFFFFFFFF || local == 0xFFFFFFFF) {  // zip64 extra field: sizes, then the offset
      const std::uint8_t* x = b + p + 46 + name_len;
      const std::uint8_t* end = x + extra_len;
      while (x + 4 <= end && detail::read_le(x, 2) != 0x0001) x += 4 + detail::read_le(x + 2, 2);
      if (x + 4 > end) throw bad(name + ": zip64 sizes missing");
      const std::uint8_t* f = x + 4;
      if (detail::read_le(b + p + 24, 4) == 0xFFFFFFFF) f += 8;  // uncompressed size first
      if (size == 0xFFFFFFFF) {
        size = detail::read_le64(f);
        f += 8;
      }
      if (local == 0xFFFFFFFF) local = detail::read_le64(f);
    }
    if (method != 0 && method != 8) throw bad(name + ": compression method " + std::to_string(method));
    if (local + 30 > n || detail::read_le(b + local, 4) != 0x04034b50) throw bad(name + ": local header missing");
    const std::uint64_t data = local + 30 + detail::read_le(b + local + 26, 2) + detail::read_le(b + local + 28, 2);
    if (data + size > n) throw bad(name + ": record runs past the end of the file");
    const std::optional<std::uint32_t> c =
        method == 0 ? detail::crc_of_stored(b + data, size) : detail::crc_of_deflated(b + data, size);
    if (!c) throw bad("record " + name + " does not inflate");
    if (*c != crc) throw bad("record " + name + " fails its CRC-32 check");
    p += 46 + name_len + extra_len + comment_len;
  }
}

/// The message of a library error without libtorch's stack trace.
inline std::string error_text(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

inline void write_checkpoint(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream buffer;
  try {
    archive.save_to(buffer);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": cannot serialise the checkpoint (" + error_text(e) + ")");
  }
  replace_file(path, buffer.str(), "the checkpoint");
}

inline torch::serialize::InputArchive read_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such checkpoint");
  std::ifstream file(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file.eof() && file.fail()) throw std::runtime_error(path + ": cannot read (" + std::strerror(errno) + ")");
  verify_checkpoint_checksums(path, bytes);
  torch::serialize::InputArchive archive;
  try {
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    archive.load_from(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a readable checkpoint (" + error_text(e).substr(0, 200) + ")");
  }
  return archive;
}

}  // namespace cebm::train
