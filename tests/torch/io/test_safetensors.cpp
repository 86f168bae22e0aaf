// safetensors (io/safetensors.hpp) and the papers' module layouts (models/reference_layout.hpp).
// The oracle for the format is a file written by the Python library itself; that Python reads
// cebm's files and that the layouts load into the reference modules is tests/interop/'s CTest.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "cebm/families/gaussian.hpp"
#include "cebm/torch/io/safetensors.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/models/conjugate_ebm.hpp"
#include "cebm/torch/models/igebm.hpp"
#include "cebm/torch/models/reference_layout.hpp"
#include "support/byte_fuzz.hpp"
#include "support/temp_dir.hpp"

using Catch::Matchers::Contains;
using bytes_t = std::vector<std::uint8_t>;

namespace {

/// `safetensors.torch.save({"w": [[1.5, -2, 0.25]] F32, "n": [7, -1] I64, "h": [1, 0.5] BF16},
/// metadata={"format": "pt", "note": "x"})`, safetensors 0.8.0: 256 bytes.
bytes_t python_file() {
  const std::string header =
      R"({"__metadata__":{"note":"x","format":"pt"},"n":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
      R"("w":{"dtype":"F32","shape":[1,3],"data_offsets":[16,28]},"h":{"dtype":"BF16","shape":[2],"data_offsets":[28,32]}})"
      "      ";
  bytes_t b = {0xd8, 0, 0, 0, 0, 0, 0, 0};
  b.insert(b.end(), header.begin(), header.end());
  const bytes_t data = {0x07, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // I64 7, -1
                        0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0x80, 0x3e,                          // F32 1.5, -2, 0.25
                        0x80, 0x3f, 0x00, 0x3f};                                                    // BF16 1, 0.5
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

cebm::io::safetensors_contents decode(const bytes_t& b) { return cebm::io::decode_safetensors(b.data(), b.size(), "t.safetensors"); }
cebm::io::safetensors_contents decode(const std::string& s) {
  return cebm::io::decode_safetensors(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), "t.safetensors");
}

/// A file with this header text (8-byte length prefix) and `data`.
std::string with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

struct small_net : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  small_net() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
};

std::set<std::string> keys(const cebm::io::named_tensors& t) {
  std::set<std::string> k;
  for (const auto& [n, v] : t) k.insert(n);
  return k;
}

}  // namespace

TEST_CASE("io: safetensors reads the bytes Python's safetensors wrote", "[safetensors]") {
  const auto c = decode(python_file());
  REQUIRE(c.tensors.size() == 3);
  CHECK(c.tensors[0].first == "n");  // in the order of their data
  CHECK(c.tensors[1].first == "w");
  CHECK(c.tensors[2].first == "h");
  CHECK(c.find("n")->scalar_type() == at::kLong);
  CHECK(c.find("n")->equal(at::tensor({7, -1}, at::kLong)));
  CHECK(c.find("w")->sizes().vec() == std::vector<std::int64_t>{1, 3});
  CHECK(c.find("w")->equal(at::tensor({1.5f, -2.0f, 0.25f}).view({1, 3})));
  CHECK(c.find("h")->scalar_type() == at::kBFloat16);
  CHECK(c.find("h")->to(at::kFloat).equal(at::tensor({1.0f, 0.5f})));
  CHECK(c.metadata == cebm::io::safetensors_metadata{{"format", "pt"}, {"note", "x"}});
}

TEST_CASE("io: safetensors writes the format's layout and reads every dtype and shape back", "[safetensors]") {
  const at::Tensor strided = at::arange(12, at::kFloat).view({3, 4}).t();  // not contiguous
  const cebm::io::named_tensors in = {
      {"f64", at::tensor({1.0, -0.5}, at::kDouble)},  {"f32", strided},
      {"f16", at::tensor({0.5f, 2.0f}).to(at::kHalf)}, {"bf16", at::tensor({3.0f}).to(at::kBFloat16)},
      {"i64", at::tensor({-3, 4}, at::kLong)},         {"i32", at::tensor({5}, at::kInt)},
      {"i16", at::tensor({-6}, at::kShort)},           {"i8", at::tensor({-7}, at::kChar)},
      {"u8", at::tensor({200}, at::kByte)},            {"bool", at::tensor({1, 0}, at::kInt).to(at::kBool)},
      {"scalar", at::scalar_tensor(2.5)},              {"empty", at::zeros({0, 3})}};
  const std::string bytes = cebm::io::encode_safetensors(in, {{"kind", "test"}});
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
  CHECK((8 + n) % 8 == 0);  // padded with spaces, as the Python library pads
  CHECK(bytes[8] == '{');
  CHECK(bytes[8 + n - 1] == ' ');
  const auto c = decode(bytes);
  CHECK(c.metadata.at("kind") == "test");
  REQUIRE(c.tensors.size() == in.size());
  for (const auto& [name, t] : in) {
    INFO(name);
    const at::Tensor* back = c.find(name);
    REQUIRE(back != nullptr);
    CHECK(back->scalar_type() == t.scalar_type());
    CHECK(back->sizes() == t.sizes());
    CHECK(back->equal(t));
  }
  CHECK_THROWS_WITH(cebm::io::encode_safetensors({{"c", at::tensor({1.0}).to(at::kComplexFloat)}}), Contains("'c'"));
  CHECK_THROWS_WITH(cebm::io::encode_safetensors({{"a", at::ones({1})}, {"a", at::ones({1})}}), Contains("given twice"));
}

TEST_CASE("io: safetensors refuses, by name, what the format does not allow", "[safetensors]") {
  const std::string t = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string eight(8, '\x01');
  REQUIRE_NOTHROW(decode(with_header(t, eight)));
  const auto refused = [](const std::string& file, const std::string& why) {
    CHECK_THROWS_WITH(decode(file), Contains("t.safetensors") && Contains(why));
  };
  refused(with_header(t, eight).substr(0, 5), "shorter than the 8-byte header length");
  refused(with_header(t, eight).substr(0, 30), "runs past the end");
  refused(with_header(t, eight.substr(0, 4)), "outside the 4 data bytes");
  refused(with_header(t, eight + "xx"), "belong to none");
  refused(with_header("[1,2]", ""), "does not start with '{'");
  refused(with_header("{\"a\":", ""), "not JSON");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
          "'a' is named twice");
  refused(with_header(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", eight), "dtype \"C64\"");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight), "not a list of sizes");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight), "expected 12");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[2]}})", eight), "no \"data_offsets\"");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "a hole");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
          "overlaps");
  refused(with_header(R"({"__metadata__":{"k":1}})", ""), "not a string");
  refused(with_header(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight), "overflows");
  std::string huge = with_header(t, eight);
  huge[5] = '\x01';  // a header length of 2^40
  refused(huge, "exceeds 100 MB");

  // Every truncation of a valid file is refused (the length no longer fits, or the data is short).
  const bytes_t good = python_file();
  for (std::size_t k = 0; k < good.size(); ++k) {
    const bytes_t cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(k));
    CHECK_THROWS(decode(cut));
  }
}

TEST_CASE("io: safetensors under random corruption: a valid file or a clear refusal", "[safetensors][fuzz]") {
  const bytes_t good = python_file();
  std::mt19937_64 rng(36);
  cebm_test::fuzz_tally tally;
  const std::size_t n = cebm_test::fuzz_iterations(20000);
  for (std::size_t i = 0; i < n; ++i) {
    bytes_t input = good;
    cebm_test::mutate(input, rng);
    try {
      const auto c = decode(input);
      for (const auto& [name, t] : c.tensors) REQUIRE(t.defined());
      ++tally.parsed;
    } catch (const std::runtime_error& e) {
      REQUIRE_THAT(e.what(), Contains("t.safetensors"));
      ++tally.refused;
    }
  }
  tally.check_both_outcomes(n);
}

TEST_CASE("io: save_safetensors and load_safetensors carry a module's parameters and buffers", "[safetensors]") {
  cebm_test::temp_dir dir;
  const std::string path = dir.file("net.safetensors");
  small_net a, b;
  a.bn->forward(at::randn({8, 2}));  // running statistics and the batch count away from their start
  cebm::io::save_safetensors(a, path, {{"kind", "small_net"}});
  CHECK(keys(cebm::io::read_safetensors(path).tensors) ==
        std::set<std::string>{"fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                              "bn.num_batches_tracked"});
  CHECK(cebm::io::load_safetensors(b, path).at("kind") == "small_net");
  CHECK(b.fc->weight.equal(a.fc->weight));
  CHECK(b.bn->running_var.equal(a.bn->running_var));
  CHECK(b.bn->num_batches_tracked.item<std::int64_t>() == 1);

  // What does not fit is named, and the module is left as it was.
  small_net c;
  const at::Tensor before = c.fc->weight.clone();
  cebm::io::write_safetensors(path, {{"fc.weight", at::zeros({2, 4})}});
  CHECK_THROWS_WITH(cebm::io::load_safetensors(c, path), Contains(path) && Contains("'fc.weight' has shape [2, 4]") &&
                                                             Contains("expects [2, 3]"));
  cebm::io::write_safetensors(path, cebm::io::layout_tensors(a));
  auto contents = cebm::io::read_safetensors(path);
  contents.tensors.erase(contents.tensors.begin() + 1);  // fc.bias
  CHECK_THROWS_WITH(cebm::io::load_tensors(c, contents, "f"), Contains("holds no tensor 'fc.bias'"));
  contents = cebm::io::read_safetensors(path);
  contents.tensors[0].second = contents.tensors[0].second.to(at::kDouble);
  CHECK_THROWS_WITH(cebm::io::load_tensors(c, contents, "f"), Contains("'fc.weight' is Double") && Contains("the module's is Float"));
  contents = cebm::io::read_safetensors(path);
  contents.tensors.emplace_back("extra", at::ones({1}));
  CHECK_THROWS_WITH(cebm::io::load_tensors(c, contents, "f"), Contains("'extra' [1] belongs to no parameter"));
  CHECK(c.fc->weight.equal(before));
  REQUIRE_NOTHROW(cebm::io::load_tensors(c, contents, "f", {}, {/*strict=*/false}));
  CHECK(c.fc->weight.equal(a.fc->weight));
}

TEST_CASE("io: a tensor_layout renames and reshapes, and loading takes either naming", "[safetensors]") {
  cebm_test::temp_dir dir;
  small_net a, b, c;
  const cebm::io::tensor_layout layout = {{"fc.weight", {"linear.w", {3, 2}}}, {"bn.bias", {"norm.b", {}}}};
  const auto renamed = cebm::io::layout_tensors(a, layout);
  CHECK(keys(renamed).count("linear.w") == 1);
  CHECK(keys(renamed).count("fc.weight") == 0);
  cebm::io::write_safetensors(dir.file("r.safetensors"), renamed);
  CHECK(cebm::io::read_safetensors(dir.file("r.safetensors")).find("linear.w")->sizes().vec() == std::vector<std::int64_t>{3, 2});
  cebm::io::load_safetensors(b, dir.file("r.safetensors"), layout);
  CHECK(b.fc->weight.equal(a.fc->weight));  // reshaped back, element order kept
  CHECK(b.bn->bias.equal(a.bn->bias));
  cebm::io::save_safetensors(a, dir.file("n.safetensors"));  // cebm's own names, loaded with the layout at hand
  cebm::io::load_safetensors(c, dir.file("n.safetensors"), layout);
  CHECK(c.fc->weight.equal(a.fc->weight));
}

TEST_CASE("io: the CEBM and IGEBM reference layouts are the names of the authors' modules", "[safetensors]") {
  using Cebm = cebm::models::ConjugateEbm<cebm::gaussian>;
  Cebm m;
  std::set<std::string> names;
  for (const auto& [n, t] : cebm::io::layout_tensors(*m, cebm::models::conjugate_ebm_reference_layout(*m))) names.insert(n);
  // GaussianCebm(CebmEncoder(head="split")).state_dict().keys() of the reference implementation.
  std::set<std::string> reference = {"lam1", "lam2"};
  for (int i = 0; i < 4; ++i)
    for (const char* p : {"weight", "bias"}) reference.insert("encoder.convs." + std::to_string(i) + "." + p);
  for (const char* l : {"fc1a", "fc2a", "fc1b", "fc2b"})
    for (const char* p : {"weight", "bias"}) reference.insert(std::string("encoder.") + l + "." + p);
  CHECK(names == reference);

  Cebm shared(cebm::models::conjugate_ebm_options{}.encoder(cebm::nn::conv_encoder_options{}.head(cebm::nn::encoder_head::shared)));
  names.clear();
  for (const auto& [n, t] : cebm::io::layout_tensors(*shared, cebm::models::conjugate_ebm_reference_layout(*shared))) names.insert(n);
  CHECK(names.count("encoder.fc1.weight") == 1);
  CHECK(names.count("encoder.fc2.bias") == 1);

  cebm::models::Igebm ig;
  names.clear();
  for (const auto& [n, t] : cebm::io::layout_tensors(*ig, cebm::models::igebm_reference_layout(*ig))) names.insert(n);
  CHECK(names == std::set<std::string>{"convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias", "convs.2.weight",
                                       "convs.2.bias", "convs.3.weight", "convs.3.bias", "fc1.weight", "fc1.bias",
                                       "fc2.weight", "fc2.bias", "out.weight", "out.bias"});
}

TEST_CASE("io: the CLEL reference layout follows the reference's flat Sequentials", "[safetensors]") {
  cebm::models::Clel m(cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::small));
  const auto layout = cebm::models::clel_reference_layout(*m);
  const auto at = [&](const std::string& n) { return layout.at(n).name; };
  CHECK(at("ebm_f.normalize.mean") == "ebm.trunk.0.mean");
  CHECK(layout.at("ebm_f.normalize.mean").shape == std::vector<std::int64_t>{1, 3, 1, 1});
  CHECK(at("ebm_f.trunks.0.stem.weight_orig") == "ebm.trunk.1.parametrizations.weight.original");
  CHECK(at("ebm_f.trunks.0.stem.weight_u") == "ebm.trunk.1.parametrizations.weight.0._u");
  CHECK(at("ebm_f.trunks.0.stages.0.0.conv1.weight_v") == "ebm.trunk.2.conv1.parametrizations.weight.0._v");
  // Stage 1 is [AvgPool2d, ResBlock]: the reference's items 3 and 4; stage 3's block is item 8.
  CHECK(at("ebm_f.trunks.0.stages.1.1.conv2.bias") == "ebm.trunk.4.conv2.bias");
  CHECK(at("ebm_f.trunks.0.stages.2.1.shortcut.weight_orig") == "ebm.trunk.6.shortcut.parametrizations.weight.original");
  CHECK(at("ebm_f.trunks.0.stages.3.1.conv1.bias") == "ebm.trunk.8.conv1.bias");
  CHECK(at("ebm_f.head.2.weight") == "ebm.head.2.weight");
  CHECK(at("ebm_g.mlp.0.weight") == "ebm.g.0.weight");
  CHECK(at("encoder.conv1.weight") == "encoder.trunk.1.weight");
  CHECK(at("encoder.bn1.running_var") == "encoder.trunk.2.running_var");
  CHECK(at("encoder.layer1.0.conv1.weight") == "encoder.trunk.4.conv1.weight");
  CHECK(at("encoder.layer2.0.downsample.1.running_mean") == "encoder.trunk.6.shortcut.1.running_mean");
  CHECK(at("encoder.layer4.1.bn2.weight") == "encoder.trunk.11.bn2.weight");
  CHECK(at("encoder.fc.3.bias") == "encoder.proj.3.bias");
  // Every tensor gets a distinct name.
  CHECK(keys(cebm::io::layout_tensors(*m, layout)).size() == cebm::io::detail::module_tensors(*m).size());

  cebm::models::Clel large(cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::large));
  CHECK(cebm::models::clel_reference_layout(*large).empty());  // three trunks: no reference module
}
