#pragma once
/// @file
/// The protocol-buffer wire format (developers.google.com/protocol-buffers/docs/encoding), as much
/// of it as TensorBoard's Event and Summary messages use, writing and reading:
///
///   a field is a key varint (field number << 3 | wire type) followed by its value:
///     wire type 0  varint: 7 bits per byte, least significant group first, high bit = more follows
///                  (int32/int64/enum/bool; a negative int64 takes ten bytes, two's complement)
///     wire type 1  8 bytes little-endian (double)
///     wire type 2  a varint length, then that many bytes (string, bytes, an embedded message, a
///                  packed repeated scalar)
///     wire type 5  4 bytes little-endian (float)
///
/// Messages are built inside out: an embedded message is written to its own `proto_writer` and
/// added as bytes. Decoding (`proto_reader`) is what the event-file reader needs to find an event's
/// step and to skip what it does not need; it refuses a truncated or malformed buffer.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cebm::tensorboard::detail {

class proto_writer {
 public:
  proto_writer& varint(int field, std::uint64_t v) {
    key(field, 0);
    put_varint(v);
    return *this;
  }
  proto_writer& int64(int field, std::int64_t v) { return varint(field, static_cast<std::uint64_t>(v)); }
  proto_writer& double_(int field, double v) {
    key(field, 1);
    put_fixed(v);
    return *this;
  }
  proto_writer& float_(int field, float v) {
    key(field, 5);
    put_fixed(v);
    return *this;
  }
  proto_writer& bytes(int field, std::string_view b) {
    key(field, 2);
    put_varint(b.size());
    out_.append(b.data(), b.size());
    return *this;
  }
  proto_writer& message(int field, const proto_writer& m) { return bytes(field, m.str()); }
  /// A packed repeated double (one length-delimited field of 8-byte values).
  proto_writer& packed_doubles(int field, const std::vector<double>& v) {
    std::string b(8 * v.size(), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) write_le(&b[8 * i], v[i]);
    return bytes(field, b);
  }
  /// A packed repeated float.
  proto_writer& packed_floats(int field, const std::vector<float>& v) {
    std::string b(4 * v.size(), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) write_le(&b[4 * i], v[i]);
    return bytes(field, b);
  }

  const std::string& str() const { return out_; }

 private:
  void key(int field, int wire_type) { put_varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire_type)); }
  void put_varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  template <class T>
  void put_fixed(T v) {
    char b[sizeof(T)];
    write_le(b, v);
    out_.append(b, sizeof(T));
  }
  template <class T>
  static void write_le(char* dst, T v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    U u;
    std::memcpy(&u, &v, sizeof u);
    for (std::size_t i = 0; i < sizeof u; ++i) dst[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
  }

  std::string out_;
};

/// Reads the fields of one message in order: `next()` moves to the next field (false at the end),
/// then `field()`, `wire_type()` and the value accessor of that wire type. Throws
/// std::runtime_error on a truncated or malformed buffer.
class proto_reader {
 public:
  explicit proto_reader(std::string_view b) : b_(b) {}

  bool next() {
    if (pos_ >= b_.size()) return false;
    const std::uint64_t k = get_varint();
    field_ = static_cast<int>(k >> 3);
    wire_ = static_cast<int>(k & 7);
    if (field_ == 0) fail("field number 0");
    switch (wire_) {
      case 0: varint_ = get_varint(); break;
      case 1: fixed_ = take(8); break;
      case 2: fixed_ = take(get_varint()); break;
      case 5: fixed_ = take(4); break;
      default: fail("wire type " + std::to_string(wire_));
    }
    return true;
  }
  int field() const { return field_; }
  int wire_type() const { return wire_; }
  std::uint64_t varint() const { return varint_; }
  std::int64_t int64() const { return static_cast<std::int64_t>(varint_); }
  std::string_view bytes() const { return fixed_; }
  double double_() const { return from_le<double, std::uint64_t>(); }
  float float_() const { return from_le<float, std::uint32_t>(); }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("malformed protocol buffer (" + what + " at byte " + std::to_string(pos_) + ")");
  }
  std::uint64_t get_varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) fail("truncated varint");
      const auto c = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    fail("varint longer than ten bytes");
  }
  std::string_view take(std::uint64_t n) {
    if (n > b_.size() - pos_) fail("a value of " + std::to_string(n) + " bytes past the end");
    const std::string_view v = b_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  template <class T, class U>
  T from_le() const {
    if (fixed_.size() != sizeof(U)) throw std::runtime_error("proto_reader: the field is not a fixed-size value of " + std::to_string(sizeof(U)) + " bytes");
    U u = 0;
    for (std::size_t i = 0; i < sizeof u; ++i) u |= static_cast<U>(static_cast<unsigned char>(fixed_[i])) << (8 * i);
    T v;
    std::memcpy(&v, &u, sizeof v);
    return v;
  }

  std::string_view b_, fixed_;
  std::size_t pos_ = 0;
  int field_ = 0, wire_ = 0;
  std::uint64_t varint_ = 0;
};

}  // namespace cebm::tensorboard::detail
