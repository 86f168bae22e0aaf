#pragma once
/// @file
/// SVHN, cropped digits (format 2): `train_32x32.mat` (73,257 images), `test_32x32.mat` (26,032)
/// and `extra_32x32.mat` (531,131) from http://ufldl.stanford.edu/housenumbers/. Each is a MATLAB
/// level-5 MAT-file holding
///
///   X   uint8, 32 × 32 × 3 × N   (height × width × RGB × image, column-major like all MATLAB arrays)
///   y   double, N × 1            (labels 1…10, where 10 stands for the digit 0)
///
/// returned as uint8 [N, 3, 32, 32] with labels 0…9.
///
/// The MAT-file reader below implements the part of the level-5 format these files use (MathWorks,
/// "MAT-File Format", the chapter on Level 5 MAT-files): the 128-byte header (text, subsystem
/// offset, version 0x0100, endian indicator "IM"/"MI"), data elements with 8-byte tags and the
/// 4-byte small-element form, miCOMPRESSED elements (a zlib stream holding one element), and
/// miMATRIX elements for real numeric arrays (array flags, dimensions, name, real part). The real
/// part may be stored in a narrower type than the array's class (MATLAB stores a double array of
/// small integers as miUINT8); values are converted to the class. Files of either byte order are
/// read. Cell, struct, object, char and sparse arrays, complex data and v7.3 (HDF5) files are
/// refused with a message that says so.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <zlib.h>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

namespace detail {

/// Data types of MAT-file level-5 data elements.
enum mat_type : std::uint32_t {
  mi_int8 = 1, mi_uint8 = 2, mi_int16 = 3, mi_uint16 = 4, mi_int32 = 5, mi_uint32 = 6, mi_single = 7,
  mi_double = 9, mi_int64 = 12, mi_uint64 = 13, mi_matrix = 14, mi_compressed = 15, mi_utf8 = 16,
  mi_utf16 = 17, mi_utf32 = 18
};

/// MATLAB array classes (low byte of the array flags).
enum mat_class : std::uint8_t {
  mx_cell = 1, mx_struct = 2, mx_object = 3, mx_char = 4, mx_sparse = 5, mx_double = 6, mx_single = 7,
  mx_int8 = 8, mx_uint8 = 9, mx_int16 = 10, mx_uint16 = 11, mx_int32 = 12, mx_uint32 = 13, mx_int64 = 14,
  mx_uint64 = 15
};

/// One decoded numeric array.
struct mat_variable {
  std::string name;
  std::uint8_t class_id = 0;        ///< a mat_class
  std::vector<std::int64_t> dims;   ///< MATLAB dimensions, at least two
  at::Tensor data;                  ///< 1-D, column-major element order, dtype from mat_class_dtype
};

/// What `read_mat_v5` found.
struct mat_file {
  std::vector<std::string> names;       ///< every top-level variable, in file order
  std::vector<mat_variable> variables;  ///< the requested ones that were present

  const mat_variable* find(const std::string& name) const {
    for (const auto& v : variables)
      if (v.name == name) return &v;
    return nullptr;
  }
};

inline const char* mat_class_name(std::uint32_t c) {
  switch (c) {
    case mx_cell: return "cell array";
    case mx_struct: return "struct array";
    case mx_object: return "object";
    case mx_char: return "char array";
    case mx_sparse: return "sparse array";
    case mx_double: return "double";
    case mx_single: return "single";
    case mx_int8: return "int8";
    case mx_uint8: return "uint8";
    case mx_int16: return "int16";
    case mx_uint16: return "uint16";
    case mx_int32: return "int32";
    case mx_uint32: return "uint32";
    case mx_int64: return "int64";
    case mx_uint64: return "uint64";
    default: return "unknown class";
  }
}

/// Tensor type holding a class (libtorch 1.13 has no uint16/32/64: they widen to a signed type).
inline at::ScalarType mat_class_dtype(std::uint8_t c) {
  switch (c) {
    case mx_double: return at::kDouble;
    case mx_single: return at::kFloat;
    case mx_int8: return at::kChar;
    case mx_uint8: return at::kByte;
    case mx_int16: return at::kShort;
    case mx_uint16: return at::kInt;
    case mx_int32: return at::kInt;
    case mx_uint32: return at::kLong;
    case mx_int64: return at::kLong;
    case mx_uint64: return at::kLong;
    default: throw std::logic_error("mat_class_dtype: not a numeric class");
  }
}

inline std::string mat_dims_string(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "×" : "") + std::to_string(dims[i]);
  return s;
}

/// Reads elements of one byte order; `source` is the file name for messages.
class mat_v5_parser {
 public:
  mat_v5_parser(std::string source, std::vector<std::string> wanted)
      : source_(std::move(source)), wanted_(std::move(wanted)) {}

  mat_file parse(const std::uint8_t* bytes, std::size_t size) {
    check_header(bytes, size);
    walk(bytes, size, 128, "");
    return std::move(file_);
  }

 private:
  struct element {
    std::uint32_t type = 0;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;   ///< bytes of data
    std::size_t total = 0;  ///< bytes from the tag to the next element
  };

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw std::runtime_error(source_ + ": " + (where.empty() ? std::string() : where + ": ") + what);
  }

  static bool host_little_endian() {
    const std::uint16_t one = 1;
    std::uint8_t first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
  }

  template <class T>
  T load(const std::uint8_t* p) const {
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, p, sizeof(T));
    if (swap_) std::reverse(b, b + sizeof(T));
    T v;
    std::memcpy(&v, b, sizeof(T));
    return v;
  }

  void check_header(const std::uint8_t* p, std::size_t n) {
    static const std::uint8_t hdf5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    const std::string v73 =
        "this is a MATLAB v7.3 MAT-file (HDF5), which this reader does not read; re-save it as a v7 MAT-file "
        "(MATLAB: save(file, '-v7', ...); Python: scipy.io.savemat)";
    if ((n >= 8 && std::memcmp(p, hdf5_magic, 8) == 0) || (n >= 520 && std::memcmp(p + 512, hdf5_magic, 8) == 0))
      fail("", v73);
    if (n < 128)
      fail("", "too short for a MAT-file (" + std::to_string(n) + " bytes, the level-5 header alone is 128)");
    if (p[126] == 'I' && p[127] == 'M') {
      swap_ = !host_little_endian();
    } else if (p[126] == 'M' && p[127] == 'I') {
      swap_ = host_little_endian();
    } else {
      const bool v4 = p[0] == 0 || p[1] == 0 || p[2] == 0 || p[3] == 0;
      fail("", std::string("not a MATLAB level-5 MAT-file: bytes 126–127 are not the endian indicator \"IM\" or \"MI\"") +
                   (v4 ? " (a level-4 MAT-file? re-save it with MATLAB save(file, '-v7', ...) or scipy.io.savemat)" : ""));
    }
    const std::uint16_t version = load<std::uint16_t>(p + 124);
    if (version == 0x0200) fail("", v73);
    if (version != 0x0100) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%04x", static_cast<unsigned>(version));
      fail("", std::string("unsupported MAT-file version ") + hex + " in the header, expected 0x0100 (level 5)");
    }
  }

  /// The element whose tag starts at `p`, with `avail` bytes from there to the end of its container.
  element read_element(const std::uint8_t* p, std::size_t avail, const std::string& where) const {
    if (avail < 8) fail(where, "truncated: " + std::to_string(avail) + " bytes left where an 8-byte element tag was expected");
    element e;
    const std::uint32_t word = load<std::uint32_t>(p);
    if ((word >> 16) != 0) {  // small element: 2-byte size, 2-byte type, data in the tag's second half
      e.type = word & 0xffffu;
      e.size = word >> 16;
      if (e.size > 4) fail(where, "small data element declares " + std::to_string(e.size) + " bytes, at most 4 fit");
      e.data = p + 4;
      e.total = 8;
      return e;
    }
    e.type = word;
    e.size = load<std::uint32_t>(p + 4);
    if (e.size > avail - 8)
      fail(where, "truncated: element of type " + std::to_string(e.type) + " declares " + std::to_string(e.size) +
                      " bytes but only " + std::to_string(avail - 8) + " remain");
    e.data = p + 8;
    // Elements are padded to 8 bytes, except compressed ones; a final element may lack its padding.
    const std::size_t padded = e.type == mi_compressed ? e.size : (e.size + 7) / 8 * 8;
    e.total = 8 + std::min(padded, avail - 8);
    return e;
  }

  /// Top-level elements of [begin, size) of `bytes`; `inside` is non-empty within a compressed element.
  void walk(const std::uint8_t* bytes, std::size_t size, std::size_t begin, const std::string& inside) {
    std::size_t pos = begin;
    while (pos < size) {
      const std::string where = inside + "element at byte " + std::to_string(pos);
      if (size - pos < 8 && std::all_of(bytes + pos, bytes + size, [](std::uint8_t b) { return b == 0; })) break;
      const element e = read_element(bytes + pos, size - pos, where);
      if (e.type == mi_compressed) {
        if (!inside.empty()) fail(where, "compressed element inside a compressed element");
        const std::vector<std::uint8_t> inner = inflate(e.data, e.size, where);
        walk(inner.data(), inner.size(), 0, where + " (compressed), decompressed ");
      } else if (e.type == mi_matrix) {
        matrix(e, where);
      } else {
        fail(where, "unexpected top-level element of type " + std::to_string(e.type) +
                        ", expected miMATRIX (14) or miCOMPRESSED (15)");
      }
      pos += e.total;
    }
  }

  /// Decompresses one miCOMPRESSED element: exactly the data element it holds.
  std::vector<std::uint8_t> inflate(const std::uint8_t* data, std::size_t size, const std::string& where) const {
    struct stream_guard {
      z_stream zs{};
      bool live = false;
      ~stream_guard() {
        if (live) inflateEnd(&zs);
      }
    } g;
    if (size > std::numeric_limits<uInt>::max()) fail(where, "compressed element too large for zlib");
    if (inflateInit(&g.zs) != Z_OK) fail(where, "zlib initialisation failed");
    g.live = true;
    g.zs.next_in = const_cast<Bytef*>(data);
    g.zs.avail_in = static_cast<uInt>(size);
    bool ended = false;
    auto pump = [&](std::uint8_t* dst, std::size_t len) {
      std::size_t done = 0;
      while (done < len && !ended) {
        const std::size_t chunk = std::min<std::size_t>(len - done, std::size_t(1) << 30);
        g.zs.next_out = dst + done;
        g.zs.avail_out = static_cast<uInt>(chunk);
        const int rc = ::inflate(&g.zs, Z_NO_FLUSH);
        done += chunk - g.zs.avail_out;
        if (rc == Z_STREAM_END) {
          ended = true;
        } else if (rc == Z_BUF_ERROR || (rc == Z_OK && g.zs.avail_in == 0 && g.zs.avail_out != 0)) {
          fail(where, "truncated compressed data (the zlib stream ends early)");
        } else if (rc != Z_OK) {
          fail(where, std::string("corrupt compressed data (zlib: ") + (g.zs.msg ? g.zs.msg : "error") + ")");
        }
      }
      return done;
    };
    std::vector<std::uint8_t> out(8);
    const std::size_t got = pump(out.data(), 8);
    if (got < 8) fail(where, "compressed data holds " + std::to_string(got) + " bytes, not a whole data element");
    const std::uint32_t word = load<std::uint32_t>(out.data());
    if ((word >> 16) != 0) return out;  // a small element: nothing more to read
    const std::size_t declared = load<std::uint32_t>(out.data() + 4);
    // Deflate cannot expand data more than about 1032-fold: a larger claim is corruption, refused
    // before allocating for it.
    const std::size_t most = size * 1032 + 1024;
    if (declared > most)
      fail(where, "the compressed element claims to hold " + std::to_string(declared) + " bytes, impossible for " +
                      std::to_string(size) + " bytes of compressed data");
    out.resize(8 + declared);
    const std::size_t rest = pump(out.data() + 8, declared);
    if (rest < declared)
      fail(where, "compressed data decompresses to " + std::to_string(8 + rest) + " bytes but the element inside declares " +
                      std::to_string(8 + declared));
    return out;
  }

  /// One miMATRIX element: flags, dimensions, name, then (for numeric classes) the real part.
  void matrix(const element& m, const std::string& where) {
    if (m.size == 0) return;  // an empty (0-element) array
    const std::uint8_t* p = m.data;
    std::size_t left = m.size;
    auto next = [&](const char* what) {
      const element e = read_element(p, left, where + " (miMATRIX " + what + ")");
      p += e.total;
      left -= e.total;
      return e;
    };

    const element flags = next("array flags");
    if (flags.type != mi_uint32 || flags.size != 8)
      fail(where, "miMATRIX array flags must be 8 bytes of type miUINT32 (6), got " + std::to_string(flags.size) +
                      " bytes of type " + std::to_string(flags.type));
    const std::uint32_t flag_word = load<std::uint32_t>(flags.data);
    const std::uint8_t cls = flag_word & 0xffu;
    const bool complex = (flag_word & 0x0800u) != 0;

    const element dim_el = next("dimensions");
    if (dim_el.type != mi_int32 || dim_el.size % 4 != 0 || dim_el.size < 8)
      fail(where, "miMATRIX dimensions must be at least two miINT32 (5) values, got " + std::to_string(dim_el.size) +
                      " bytes of type " + std::to_string(dim_el.type));
    std::vector<std::int64_t> dims;
    for (std::size_t i = 0; i < dim_el.size / 4; ++i) {
      const std::int32_t d = load<std::int32_t>(dim_el.data + 4 * i);
      if (d < 0) fail(where, "negative dimension " + std::to_string(d));
      dims.push_back(d);
    }

    const element name_el = next("array name");
    if (name_el.type != mi_int8 && name_el.type != mi_uint8 && name_el.type != mi_utf8)
      fail(where, "miMATRIX array name must be of type miINT8 (1), got type " + std::to_string(name_el.type));
    const std::string name(reinterpret_cast<const char*>(name_el.data), name_el.size);
    const std::string var = "variable '" + name + "'";
    if (std::find(file_.names.begin(), file_.names.end(), name) != file_.names.end())
      fail(where, var + " appears twice");
    file_.names.push_back(name);
    const bool numeric = cls >= mx_double && cls <= mx_uint64 && !complex;
    const bool named = std::find(wanted_.begin(), wanted_.end(), name) != wanted_.end();
    if (!named && !(wanted_.empty() && numeric)) return;

    if (cls < mx_double || cls > mx_uint64)
      fail(where, var + " is a " + mat_class_name(cls) + " (class " + std::to_string(cls) +
                      "); only real numeric arrays are read");
    if (complex) fail(where, var + " is complex; only real numeric arrays are read");

    std::size_t count = 1;
    for (const auto d : dims) {
      if (d != 0 && count > std::numeric_limits<std::size_t>::max() / static_cast<std::size_t>(d))
        fail(where, var + " has impossible dimensions " + mat_dims_string(dims));
      count *= static_cast<std::size_t>(d);
    }
    const element real = next("real part");
    mat_variable v{name, cls, dims, decode(real, count, cls, where + ": " + var)};
    file_.variables.push_back(std::move(v));
  }

  template <class Raw, class Stored>
  at::Tensor numbers(const std::uint8_t* p, std::size_t count, at::ScalarType dtype) const {
    at::Tensor t = at::empty({static_cast<std::int64_t>(count)}, at::TensorOptions().dtype(dtype));
    Stored* out = t.data_ptr<Stored>();
    if constexpr (std::is_same_v<Raw, Stored>) {
      if (!swap_ || sizeof(Raw) == 1) {
        if (count) std::memcpy(out, p, count * sizeof(Raw));
        return t;
      }
    }
    for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<Stored>(load<Raw>(p + i * sizeof(Raw)));
    return t;
  }

  /// The real part as a tensor of the class's type.
  at::Tensor decode(const element& e, std::size_t count, std::uint8_t cls, const std::string& where) const {
    std::size_t width = 0;
    switch (e.type) {
      case mi_int8: case mi_uint8: width = 1; break;
      case mi_int16: case mi_uint16: width = 2; break;
      case mi_int32: case mi_uint32: case mi_single: width = 4; break;
      case mi_double: case mi_int64: case mi_uint64: width = 8; break;
      default:
        fail(where, "real part has type " + std::to_string(e.type) + ", not a numeric type");
    }
    if (e.size % width != 0 || e.size / width != count)
      fail(where, "real part holds " + std::to_string(e.size) + " bytes, expected " + std::to_string(count) +
                      " values of " + std::to_string(width) + " bytes for the dimensions");
    at::Tensor raw;
    switch (e.type) {
      case mi_int8: raw = numbers<std::int8_t, std::int8_t>(e.data, count, at::kChar); break;
      case mi_uint8: raw = numbers<std::uint8_t, std::uint8_t>(e.data, count, at::kByte); break;
      case mi_int16: raw = numbers<std::int16_t, std::int16_t>(e.data, count, at::kShort); break;
      case mi_uint16: raw = numbers<std::uint16_t, std::int32_t>(e.data, count, at::kInt); break;
      case mi_int32: raw = numbers<std::int32_t, std::int32_t>(e.data, count, at::kInt); break;
      case mi_uint32: raw = numbers<std::uint32_t, std::int64_t>(e.data, count, at::kLong); break;
      case mi_single: raw = numbers<float, float>(e.data, count, at::kFloat); break;
      case mi_double: raw = numbers<double, double>(e.data, count, at::kDouble); break;
      case mi_int64: raw = numbers<std::int64_t, std::int64_t>(e.data, count, at::kLong); break;
      case mi_uint64: {
        for (std::size_t i = 0; i < count; ++i)
          if (load<std::uint64_t>(e.data + 8 * i) > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            fail(where, "uint64 value at index " + std::to_string(i) + " exceeds the int64 range");
        raw = numbers<std::int64_t, std::int64_t>(e.data, count, at::kLong);
        break;
      }
    }
    const at::ScalarType target = mat_class_dtype(cls);
    if (raw.scalar_type() == target) return raw;
    if (!at::isFloatingType(target) && count > 0) {
      // Storage wider than the class (or non-integral) would wrap silently in a cast.
      const at::Tensor d = raw.to(at::kDouble);
      const double lo = cls == mx_int8 ? -128.0 : cls == mx_int16 ? -32768.0 : cls == mx_int32 ? -2147483648.0
                      : (cls == mx_int64 ? -9223372036854775808.0 : 0.0);
      const double hi = cls == mx_int8 ? 127.0 : cls == mx_uint8 ? 255.0 : cls == mx_int16 ? 32767.0
                      : cls == mx_uint16 ? 65535.0 : cls == mx_int32 ? 2147483647.0 : cls == mx_uint32 ? 4294967295.0
                      : 9223372036854775807.0;
      if (!at::isfinite(d).all().item<bool>() || !(d == d.round()).all().item<bool>() ||
          d.min().item<double>() < lo || d.max().item<double>() > hi)
        fail(where, std::string("values stored as type ") + std::to_string(e.type) + " do not fit its class " +
                        mat_class_name(cls));
    }
    return raw.to(target);
  }

  std::string source_;
  std::vector<std::string> wanted_;
  bool swap_ = false;
  mat_file file_;
};

/// Parses a level-5 MAT-file held in memory, decoding the variables named in `wanted` (all numeric
/// ones when empty); `source` names the file in messages. Throws std::runtime_error on anything it
/// cannot read.
inline mat_file read_mat_v5(const std::uint8_t* bytes, std::size_t size, const std::string& source,
                            std::vector<std::string> wanted = {}) {
  return mat_v5_parser(source, std::move(wanted)).parse(bytes, size);
}

/// SVHN's X and y as an image_dataset; `source` names the file in messages.
inline image_dataset svhn_from_mat(const mat_file& mat, const std::string& source) {
  auto need = [&](const char* name) -> const mat_variable& {
    if (const mat_variable* v = mat.find(name)) return *v;
    std::string found;
    for (const auto& n : mat.names) found += (found.empty() ? "'" : ", '") + n + "'";
    throw std::runtime_error(source + ": no variable '" + name + "' (the file holds " +
                             (found.empty() ? std::string("no variables") : found) +
                             "); an SVHN cropped-digits file has X (images) and y (labels)");
  };
  const mat_variable& x = need("X");

  // MATLAB drops a trailing singleton dimension: one image is 32×32×3.
  const auto& xd = x.dims;
  const bool shape_ok = xd.size() >= 3 && xd.size() <= 4 && xd[0] == 32 && xd[1] == 32 && xd[2] == 3;
  if (!shape_ok)
    throw std::runtime_error(source + ": variable 'X' has dimensions " + mat_dims_string(xd) +
                             ", expected 32×32×3×N (height × width × RGB × images)");
  const std::int64_t n = xd.size() == 4 ? xd[3] : 1;

  at::Tensor pixels = x.data;
  if (pixels.scalar_type() != at::kByte) {
    const at::Tensor d = pixels.to(at::kDouble);
    if (pixels.numel() > 0 && (!at::isfinite(d).all().item<bool>() || !(d == d.round()).all().item<bool>() ||
                               d.min().item<double>() < 0 || d.max().item<double>() > 255))
      throw std::runtime_error(source + ": variable 'X' is " + mat_class_name(x.class_id) +
                               " with values that are not integers in 0…255");
    pixels = d.to(at::kByte);
  }
  // Column-major (h, w, c, n) read as row-major is [n, c, w, h]: swap the last two.
  at::Tensor images = pixels.view({n, 3, 32, 32}).transpose(2, 3).contiguous();

  const mat_variable& y = need("y");
  const auto& yd = y.dims;
  const std::int64_t y_count = y.data.numel();
  if (yd.size() != 2 || (yd[0] != 1 && yd[1] != 1))
    throw std::runtime_error(source + ": variable 'y' has dimensions " + mat_dims_string(yd) + ", expected N×1");
  if (y_count != n)
    throw std::runtime_error(source + ": X holds " + std::to_string(n) + " images but y holds " +
                             std::to_string(y_count) + " labels");
  const at::Tensor yv = y.data.to(at::kDouble).contiguous();
  const double* yp = yv.data_ptr<double>();
  at::Tensor labels = at::empty({n}, at::kLong);
  auto* lp = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = yp[i];
    if (!(v >= 1 && v <= 10) || v != static_cast<double>(static_cast<std::int64_t>(v)))
      throw std::runtime_error(source + ": label y(" + std::to_string(i + 1) + ") = " + [v] {
                                 std::ostringstream os;
                                 os << v;
                                 return os.str();
                               }() +
                               ", expected an integer 1…10 (10 stands for the digit 0)");
    lp[i] = static_cast<std::int64_t>(v) % 10;
  }
  image_dataset out{images, labels, source};
  out.validate();
  return out;
}

}  // namespace detail

/// One SVHN cropped-digits file (`*_32x32.mat`) as uint8 [N, 3, 32, 32], labels 0…9 (SVHN's 10 →
/// 0). Throws std::runtime_error naming the file and the problem.
inline image_dataset read_svhn_mat(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  const detail::mat_file mat = detail::read_mat_v5(bytes.data(), bytes.size(), path, {"X", "y"});
  return detail::svhn_from_mat(mat, path);
}

/// A split of SVHN from the folder holding the `.mat` files: "train", "test", "extra", or
/// "train+extra" (the 604,388 images the CEBM reference code trains on).
inline image_dataset load_svhn(const std::string& dir, const std::string& split = "train") {
  namespace fs = std::filesystem;
  std::vector<std::string> parts;
  if (split == "train" || split == "test" || split == "extra")
    parts = {split};
  else if (split == "train+extra")
    parts = {"train", "extra"};
  else
    throw std::invalid_argument("load_svhn: split must be \"train\", \"test\", \"extra\" or \"train+extra\", got \"" +
                                split + "\"");
  std::vector<at::Tensor> images, labels;
  for (const auto& part : parts) {
    const fs::path file = fs::path(dir) / (part + "_32x32.mat");
    if (!fs::is_regular_file(file))
      throw std::runtime_error("load_svhn: " + file.string() + " not found; the " + split + " split needs " +
                               (parts.size() == 2 ? std::string("train_32x32.mat and extra_32x32.mat") : part + "_32x32.mat") +
                               " (SVHN format 2, cropped digits, from http://ufldl.stanford.edu/housenumbers/)");
    image_dataset d = read_svhn_mat(file.string());
    images.push_back(d.images);
    labels.push_back(d.labels);
  }
  image_dataset out{images.size() == 1 ? images.front() : at::cat(images, 0),
                    labels.size() == 1 ? labels.front() : at::cat(labels, 0), dir + " (SVHN " + split + ")"};
  out.validate();
  return out;
}

}  // namespace cebm::data
