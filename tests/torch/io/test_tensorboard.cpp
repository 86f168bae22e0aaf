// TensorBoard event files: CRC-32C against RFC 3720's vectors, the wire format against the
// protocol-buffer documentation's worked examples, the summaries against counts done by hand, and
// the event file's framing, cut-off records and step truncation. (TensorBoard's own reader is the
// oracle of tests/train/tensorboard_check.py.)
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/io/tensorboard/crc32c.hpp"
#include "cebm/torch/io/tensorboard/event_file.hpp"
#include "cebm/torch/io/tensorboard/summaries.hpp"
#include "cebm/torch/io/tensorboard/summary_writer.hpp"

namespace tb = cebm::tensorboard;
namespace fs = std::filesystem;

namespace {
std::string scratch(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("cebm_tensorboard_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
/// The first field `field` of a message, as bytes (length-delimited).
std::string field_bytes(std::string_view message, int field) {
  tb::detail::proto_reader r(message);
  while (r.next())
    if (r.field() == field) return std::string(r.bytes());
  FAIL("no field " << field);
  return {};
}
std::vector<double> packed_doubles(std::string_view b) {
  std::vector<double> v;
  for (std::size_t i = 0; i + 8 <= b.size(); i += 8) {
    const std::string field = std::string("\x09", 1) + std::string(b.substr(i, 8));  // field 1, fixed64
    tb::detail::proto_reader r(field);
    r.next();
    v.push_back(r.double_());
  }
  return v;
}
}  // namespace

TEST_CASE("crc32c: RFC 3720's test vectors and the check value", "[tensorboard]") {
  std::string zeros(32, '\0'), ones(32, '\xFF'), up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  CHECK(tb::crc32c(zeros) == 0x8A9136AAu);
  CHECK(tb::crc32c(ones) == 0x62A8AB43u);
  CHECK(tb::crc32c(up) == 0x46DD794Eu);
  CHECK(tb::crc32c(down) == 0x113FDB5Cu);
  CHECK(tb::crc32c("123456789") == 0xE3069283u);
  // Continuing over a split gives the CRC of the whole.
  CHECK(tb::crc32c(up.data() + 10, 22, tb::crc32c(up.data(), 10)) == 0x46DD794Eu);
  // The mask is a rotation plus a constant: undone, it gives the CRC back.
  const std::uint32_t m = tb::masked_crc32c("123456789") - 0xA282EAD8u;
  CHECK(((m >> 17) | (m << 15)) == 0xE3069283u);
}

TEST_CASE("protobuf: the encoding guide's examples, and reading back", "[tensorboard]") {
  using tb::detail::proto_writer;
  CHECK(proto_writer().varint(1, 150).str() == std::string("\x08\x96\x01"));
  CHECK(proto_writer().bytes(2, "testing").str() == std::string("\x12\x07testing"));
  CHECK(proto_writer().int64(1, -1).str() == std::string("\x08\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 11));
  CHECK(proto_writer().double_(1, 1.0).str() == std::string("\x09\x00\x00\x00\x00\x00\x00\xF0\x3F", 9));
  CHECK(proto_writer().float_(2, 1.0f).str() == std::string("\x15\x00\x00\x80\x3F", 5));

  const std::string m = proto_writer().int64(2, -7).double_(1, 0.1).bytes(3, "x").float_(4, -2.5f).str();
  tb::detail::proto_reader r(m);
  REQUIRE(r.next());
  CHECK((r.field() == 2 && r.int64() == -7));
  REQUIRE(r.next());
  CHECK((r.field() == 1 && r.double_() == 0.1));
  REQUIRE(r.next());
  CHECK((r.field() == 3 && r.bytes() == "x"));
  REQUIRE(r.next());
  CHECK((r.field() == 4 && r.float_() == -2.5f));
  CHECK_FALSE(r.next());
  // Cut short anywhere inside a field: refused, never read past the end.
  for (std::size_t n : {1, 5, 13, 22, 25}) {
    tb::detail::proto_reader cut(std::string_view(m).substr(0, n));
    CHECK_THROWS_WITH([&] { while (cut.next()) {} }(), Catch::Contains("malformed protocol buffer"));
  }
}

TEST_CASE("summaries: a histogram and a PR curve counted by hand", "[tensorboard]") {
  const std::string h = field_bytes(tb::histogram_summary("h", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NAN}, 5), 5);
  tb::detail::proto_reader r(h);
  std::vector<double> scalars;
  std::string limits, counts;
  while (r.next()) {
    if (r.field() <= 5) scalars.push_back(r.double_());
    if (r.field() == 6) limits = r.bytes();
    if (r.field() == 7) counts = r.bytes();
  }
  CHECK(scalars == std::vector<double>{0, 9, 10, 45, 285});  // min, max, count (NaN left out), sum, sum of squares
  CHECK(packed_doubles(limits) == std::vector<double>{1.8, 3.6, 5.4, 7.2, 9});
  CHECK(packed_doubles(counts) == std::vector<double>{2, 2, 2, 2, 2});
  CHECK_THROWS_WITH(tb::histogram_summary("h", {1}, 0), Catch::Contains("bins must be >= 1"));

  // Scores 0.1 0.4 (negatives), 0.35 0.8 (positives); thresholds 0, 0.5, 1.
  const std::string tensor = field_bytes(tb::pr_curve_summary("pr", {false, false, true, true}, {0.1, 0.4, 0.35, 0.8}, 3), 8);
  tb::detail::proto_reader t(tensor);
  std::vector<float> rows;
  while (t.next())
    if (t.field() == 5)
      for (std::size_t i = 0; i < t.bytes().size(); i += 4) {
        const std::string field = std::string("\x0D", 1) + std::string(t.bytes().substr(i, 4));  // field 1, fixed32
        tb::detail::proto_reader f(field);
        f.next();
        rows.push_back(f.float_());
      }
  CHECK(rows == std::vector<float>{2, 1, 0,      // TP
                                   2, 0, 0,      // FP
                                   0, 2, 2,      // TN
                                   0, 1, 2,      // FN
                                   0.5f, 1, 0,   // precision
                                   1, 0.5f, 0}); // recall
  CHECK_THROWS_WITH(tb::pr_curve_summary("pr", {true}, {1.5}), Catch::Contains("expected one in [0, 1]"));
  CHECK_THROWS_WITH(tb::pr_curve_summary("pr", {true, false}, {0.5}), Catch::Contains("as many labels as scores"));
}

TEST_CASE("event_file: framing, a cut-off record, steps kept up to a resume, names in order", "[tensorboard]") {
  const std::string dir = scratch("events");
  std::string first;
  {
    tb::event_file f(dir);
    first = f.path();
    for (int step = 1; step <= 4; ++step) f.write_summary(step, tb::scalar_summary("loss", 1.0 / step));
  }
  std::vector<tb::event_record> records = tb::read_event_records(first);
  REQUIRE(records.size() == 5);
  CHECK(field_bytes(records[0].event, 3) == "brain.Event:2");
  for (int step = 1; step <= 4; ++step) CHECK(records[step].step == step);

  // The framing by hand: length, masked CRC of the length, the event, masked CRC of the event.
  const std::string bytes = slurp(first);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  CHECK(n == records[0].event.size());
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  CHECK(crc == tb::masked_crc32c(bytes.data(), 8));

  // A process killed in the middle of its last record: the records before it are read.
  fs::resize_file(first, bytes.size() - 3);
  std::size_t whole = 0;
  CHECK(tb::read_event_records(first, &whole).size() == 4);
  CHECK(whole < bytes.size() - 3);

  // Resumed at step 2: later steps and the cut-off record go; the next file sorts after.
  tb::event_file::keep_steps_up_to(dir, 2);
  records = tb::read_event_records(first, &whole);
  CHECK(records.size() == 3);
  CHECK(whole == fs::file_size(first));
  tb::event_file second(dir);
  CHECK(second.path() > first);
  CHECK(tb::event_files(dir) == std::vector<std::string>{first, second.path()});
  second.session_start(3);
  const auto again = tb::read_event_records(second.path());
  REQUIRE(again.size() == 2);
  CHECK(again[1].step == 3);
  CHECK(field_bytes(again[1].event, 7) == std::string("\x08\x01", 2));  // SessionLog{status: START}
  fs::remove_all(dir);
}

TEST_CASE("summary_writer: embeddings for the projector, images, refusals", "[tensorboard]") {
  const std::string dir = scratch("writer");
  tb::summary_writer w(dir);
  const at::Tensor features = at::arange(12, at::kFloat).reshape({4, 3});
  const at::Tensor thumbs = at::full({4, 1, 2, 3}, 7, at::kByte);
  w.add_embedding("latent", features, {"a", "b", "a", "c"}, thumbs, 5);
  w.add_embedding("latent", features, {"a", "b", "a", "c"}, thumbs, 5);  // the same tag and step: replaced
  w.add_embedding("latent", features, {}, at::Tensor(), 9);
  const std::string config = slurp(dir + "/projector_config.pbtxt");
  CHECK(config ==
        "embeddings {\n  tensor_name: \"latent:5\"\n  tensor_path: \"embeddings/latent/5/tensors.tsv\"\n"
        "  metadata_path: \"embeddings/latent/5/metadata.tsv\"\n  sprite {\n    image_path: \"embeddings/latent/5/sprite.png\"\n"
        "    single_image_dim: 3\n    single_image_dim: 2\n  }\n}\n"
        "embeddings {\n  tensor_name: \"latent:9\"\n  tensor_path: \"embeddings/latent/9/tensors.tsv\"\n}\n");
  CHECK(slurp(dir + "/embeddings/latent/5/tensors.tsv") == "0\t1\t2\n3\t4\t5\n6\t7\t8\n9\t10\t11\n");
  CHECK(slurp(dir + "/embeddings/latent/5/metadata.tsv") == "a\nb\na\nc\n");
  CHECK(fs::exists(dir + "/embeddings/latent/5/sprite.png"));
  CHECK_THROWS_WITH(w.add_embedding("latent", features, {"a"}, at::Tensor(), 1), Catch::Contains("1 labels for 4 points"));
  CHECK_THROWS_WITH(w.add_embedding("a/b", features, {}, at::Tensor(), 1), Catch::Contains("letters, digits"));
  CHECK_THROWS_WITH(w.add_image("img", at::zeros({2, 4, 4}, at::kByte), 1), Catch::Contains("expected 1 (grey) or 3 (RGB)"));
  CHECK_THROWS_WITH(w.add_pr_curve("pr", at::ones({2}), at::tensor({0.5, NAN}), 1), Catch::Contains("score 1 is not finite"));
  w.add_image("img", at::zeros({3, 4, 5}, at::kByte), 2);
  w.add_histogram("h", at::randn({100}, at::kDouble), 2);
  w.add_pr_curve("pr", at::tensor({1, 0, 1}), at::tensor({-3.0, 2.0, 7.0}), 2);
  const auto records = tb::read_event_records(w.path());
  CHECK(records.size() == 4);  // the version, then one event per call
  fs::remove_all(dir);
}
