// IDX files (plain and gzip), the real Fashion-MNIST, input conventions, OOD sets and the batch
// loader; a randomized-corruption run of the IDX parser.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <torch/torch.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include "cebm/torch/data/batch_loader.hpp"
#include "cebm/torch/data/idx.hpp"
#include "cebm/torch/data/ood.hpp"
#include "cebm/torch/data/transforms.hpp"

namespace fs = std::filesystem;
using cebm::data::image_dataset;

namespace {

using cebm_test::temp_dir;


std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(d >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}
void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void write_gz(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}
std::vector<std::uint8_t> iota_bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return v;
}

}  // namespace

TEST_CASE("IDX round trip, plain and gzip", "[data][idx]") {
  temp_dir dir;
  const auto pixels = iota_bytes(5 * 3 * 4);
  const std::vector<std::uint8_t> labels{3, 1, 4, 1, 5};
  write_bytes(dir.path / "img", idx_bytes({5, 3, 4}, pixels));
  write_gz(dir.path / "img.gz", idx_bytes({5, 3, 4}, pixels));
  write_gz(dir.path / "lab.gz", idx_bytes({5}, labels));
  for (const char* name : {"img", "img.gz"}) {
    const image_dataset d = cebm::data::load_idx((dir.path / name).string(), (dir.path / "lab.gz").string());
    CHECK(d.images.sizes() == torch::IntArrayRef({5, 1, 3, 4}));
    CHECK(d.images[2][0][1][3].item<int>() == pixels[2 * 12 + 1 * 4 + 3]);
    CHECK(torch::equal(d.labels, torch::tensor({3, 1, 4, 1, 5}, torch::kLong)));
  }
}

TEST_CASE("IDX errors name the file and the fault", "[data][idx][errors]") {
  temp_dir dir;
  const auto p = [&](const char* n) { return (dir.path / n).string(); };
  write_bytes(dir.path / "lab", idx_bytes({5}, {0, 1, 2, 3, 4}));
  CHECK_THROWS_WITH(cebm::data::load_idx(p("missing"), p("lab")), Catch::Contains("missing") && Catch::Contains("cannot open"));
  write_bytes(dir.path / "magic", {1, 2, 3, 4, 0, 0, 0, 1, 9});
  CHECK_THROWS_WITH(cebm::data::read_idx(p("magic")), Catch::Contains("magic") && Catch::Contains("not an IDX file"));
  write_bytes(dir.path / "float", {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK_THROWS_WITH(cebm::data::read_idx(p("float")), Catch::Contains("0x0d"));
  auto trunc = idx_bytes({5, 3, 4}, iota_bytes(60));
  trunc.resize(trunc.size() - 7);
  write_bytes(dir.path / "trunc", trunc);
  CHECK_THROWS_WITH(cebm::data::read_idx(p("trunc")), Catch::Contains("trunc") && Catch::Contains("truncated"));
  write_bytes(dir.path / "img4", idx_bytes({4, 3, 4}, iota_bytes(48)));
  CHECK_THROWS_WITH(cebm::data::load_idx(p("img4"), p("lab")), Catch::Contains("5 labels for 4 images"));
  CHECK_THROWS_WITH(cebm::data::load_idx(p("lab"), p("lab")), Catch::Contains("rank 3"));
  auto gz = idx_bytes({5}, {0, 1, 2, 3, 4});
  write_gz(dir.path / "cut.gz", gz);
  fs::resize_file(dir.path / "cut.gz", fs::file_size(dir.path / "cut.gz") - 6);
  CHECK_THROWS_WITH(cebm::data::read_idx(p("cut.gz")), Catch::Contains("cut.gz") && Catch::Contains("gzip"));
  CHECK_THROWS_WITH(cebm::data::load_fashion_mnist(dir.path.string(), "train"), Catch::Contains("dataset-fashion-mnist"));
  CHECK_THROWS_WITH(cebm::data::load_fashion_mnist(dir.path.string(), "valid"), Catch::Contains("split"));
}

TEST_CASE("randomized corruption of IDX files never crashes the parser", "[data][idx][fuzz]") {
  // Valid files (plain and gzip), then random byte flips, truncations and insertions: every input
  // must parse or throw std::exception. CEBM_FUZZ_ITERATIONS raises the count for sanitizer runs.
  temp_dir dir;
  const auto plain = idx_bytes({6, 5, 4}, iota_bytes(120));
  std::ostringstream gz_buf;
  write_gz(dir.path / "seed.gz", plain);
  std::ifstream in(dir.path / "seed.gz", std::ios::binary);
  const std::vector<std::uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const char* env = std::getenv("CEBM_FUZZ_ITERATIONS");
  const long iterations = env ? std::atol(env) : 3000;
  std::mt19937_64 rng(20211);
  long parsed = 0, rejected = 0;
  const fs::path target = dir.path / "case";
  for (long i = 0; i < iterations; ++i) {
    std::vector<std::uint8_t> bytes = (i % 2) ? gz : plain;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0: if (!bytes.empty()) bytes[rng() % bytes.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255); break;
        case 1: bytes.resize(rng() % (bytes.size() + 1)); break;
        case 2: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(rng() % (bytes.size() + 1)), static_cast<std::uint8_t>(rng())); break;
      }
    }
    write_bytes(target, bytes);
    try {
      const auto t = cebm::data::read_idx(target.string());
      parsed += t.numel() >= 0;
    } catch (const std::exception&) {
      ++rejected;
    }
  }
  CHECK(parsed + rejected == iterations);
  CHECK(rejected > iterations / 2);
}

TEST_CASE("the real Fashion-MNIST: 60,000 / 10,000 images, 6,000 / 1,000 per class", "[data][idx][fashion]") {
  if (!fs::exists(cebm::data::default_fashion_mnist_dir())) {
    WARN("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); skipped");
    return;
  }
  const image_dataset train = cebm::data::load_fashion_mnist();
  const image_dataset test = cebm::data::load_fashion_mnist(cebm::data::default_fashion_mnist_dir(), "test");
  CHECK(train.images.sizes() == torch::IntArrayRef({60000, 1, 28, 28}));
  CHECK(test.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  CHECK(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kLong)));
  CHECK(torch::equal(torch::bincount(test.labels), torch::full({10}, 1000, torch::kLong)));
  CHECK(train.images.max().item<int>() == 255);
}

TEST_CASE("input conventions: scales, dequantisation, noise, geometry, and back to pixels", "[data][transforms]") {
  auto gen = at::detail::createCPUGenerator(3);
  const auto px = torch::arange(256, torch::kLong).to(torch::kByte).view({1, 1, 16, 16});
  SECTION("[-1, 1]: 0 -> -1, 255 -> 1, and to_pixels inverts it exactly") {
    const auto x = cebm::data::to_model_input(px, cebm::data::image_transform_options{}, gen);
    CHECK(x.min().item<float>() == -1.0f);
    CHECK(x.max().item<float>() == 1.0f);
    CHECK(torch::equal(cebm::data::to_pixels(x, cebm::data::pixel_scale::minus_one_one), px));
  }
  SECTION("dequantised: k/256 + U(0, 1/256), inverted by floor") {
    const auto x = cebm::data::to_model_input(px, cebm::data::image_transform_options::clel(), gen);
    const auto k = px.to(torch::kFloat);
    CHECK(torch::all(x >= k / 256).item<bool>());
    CHECK(torch::all(x < (k + 1) / 256).item<bool>());
    CHECK(torch::equal(cebm::data::to_pixels(x, cebm::data::pixel_scale::unit_dequantized), px));
  }
  SECTION("Gaussian noise of the requested std") {
    const auto flat = torch::full({64, 1, 28, 28}, 128, torch::kByte);
    const auto x = cebm::data::to_model_input(flat, cebm::data::image_transform_options::cebm(), gen);
    const auto noise = x - (128 / 127.5 - 1);
    const double n = static_cast<double>(noise.numel());
    CHECK(std::abs(noise.std().item<double>() - 0.03) < 4 * 0.03 / std::sqrt(2 * n));
    CHECK(std::abs(noise.mean().item<double>()) < 4 * 0.03 / std::sqrt(n));
  }
  SECTION("28 -> 32 by padding, grey -> RGB by replication, RGB -> grey by luma") {
    const auto img = torch::full({2, 1, 28, 28}, 200, torch::kByte);
    const auto y = cebm::data::reshape_images(img, cebm::data::image_transform_options{}.size(32).channels(3));
    CHECK(y.sizes() == torch::IntArrayRef({2, 3, 32, 32}));
    CHECK(y[1][2][0][0].item<int>() == 0);
    CHECK(y[1][2][2][2].item<int>() == 200);
    CHECK(y.sum().item<long>() == 2L * 3 * 28 * 28 * 200);
    auto rgb = torch::zeros({3, 3, 1, 1}, torch::kByte);
    rgb[0][0] = 255;
    rgb[1][1] = 255;
    rgb[2][2] = 255;
    const auto grey = cebm::data::reshape_images(rgb, cebm::data::image_transform_options{}.channels(1));
    CHECK(grey.flatten().to(torch::kLong).equal(torch::tensor({76, 150, 29}, torch::kLong)));  // 0.299, 0.587, 0.114 of 255
    CHECK(cebm::data::reshape_images(img, cebm::data::image_transform_options{}.size(14).resize(cebm::data::resize_mode::bilinear))
              .sizes() == torch::IntArrayRef({2, 1, 14, 14}));
    CHECK_THROWS_WITH(cebm::data::reshape_images(img, cebm::data::image_transform_options{}.size(20)), Catch::Contains("bilinear"));
    CHECK_THROWS_WITH(cebm::data::reshape_images(img.to(torch::kFloat), {}), Catch::Contains("uint8"));
  }
}

TEST_CASE("OOD sets: constant, uniform noise, interpolations", "[data][ood]") {
  auto gen = at::detail::createCPUGenerator(4);
  const auto c = cebm::data::constant_images(50, 3, 8, 8, gen);
  c.validate();
  CHECK(torch::all(c.images.flatten(2).amax(2) == c.images.flatten(2).amin(2)).item<bool>());
  CHECK(torch::all(c.labels == -1).item<bool>());
  CHECK(c.images.flatten(1).to(torch::kFloat).std(0).mean().item<double>() > 0);  // colours differ between images
  const auto u = cebm::data::uniform_noise_images(100, 1, 28, 28, gen);
  CHECK(std::abs(u.images.to(torch::kFloat).mean().item<double>() - 127.5) < 1.0);
  image_dataset d{torch::arange(6, torch::kLong).to(torch::kByte).mul(10).view({6, 1, 1, 1}), torch::arange(6, torch::kLong), "six"};
  const auto interp = cebm::data::interpolated_images(d, 2);
  CHECK(torch::equal(interp.images.flatten(), torch::tensor({10, 20, 30, 40}, torch::kLong).to(torch::kByte)));
  CHECK_THROWS_WITH(cebm::data::interpolated_images(d, 6), Catch::Contains("offset"));
}

TEST_CASE("batch loader: epochs cover every image once, shards are disjoint, nothing is copied", "[data][loader]") {
  const std::int64_t n = 103;
  image_dataset d{torch::arange(n, torch::kLong).to(torch::kByte).view({n, 1, 1, 1}), torch::arange(n, torch::kLong), "ramp"};
  auto gen = at::detail::createCPUGenerator(5);
  cebm::data::batch_loader full(d, cebm::data::loader_options{}.batch_size(10).drop_last(false));
  CHECK(full.dataset().images.data_ptr() == d.images.data_ptr());
  std::vector<torch::Tensor> seen;
  for (std::int64_t b = 0; b < full.batches_per_epoch(); ++b) seen.push_back(full.next(gen).indices);
  CHECK(full.batches_per_epoch() == 11);
  CHECK(torch::equal(std::get<0>(torch::sort(torch::cat(seen))), torch::arange(n, torch::kLong)));
  CHECK(full.epoch() == 1);
  full.next(gen);
  CHECK(full.epoch() == 2);

  auto g0 = at::detail::createCPUGenerator(9), g1 = at::detail::createCPUGenerator(9);
  cebm::data::batch_loader r0(d, cebm::data::loader_options{}.batch_size(5).rank(0).world_size(2));
  cebm::data::batch_loader r1(d, cebm::data::loader_options{}.batch_size(5).rank(1).world_size(2));
  std::vector<torch::Tensor> a, b;
  for (std::int64_t i = 0; i < r0.batches_per_epoch(); ++i) {
    a.push_back(r0.next(g0).indices);
    b.push_back(r1.next(g1).indices);
  }
  const auto both = torch::cat({torch::cat(a), torch::cat(b)});
  CHECK(std::get<0>(torch::_unique(both)).numel() == both.numel());  // disjoint
  CHECK(both.numel() == 100);  // 51 per rank, 10 batches of 5 each

  CHECK_THROWS_WITH(cebm::data::batch_loader(d, cebm::data::loader_options{}.batch_size(200)), Catch::Contains("too few"));
  CHECK_THROWS_WITH(cebm::data::batch_loader(d, cebm::data::loader_options{}.rank(2).world_size(2)), Catch::Contains("rank 2"));
}

TEST_CASE("batch loader: save and load resume at the same batch", "[data][loader][checkpoint]") {
  const std::int64_t n = 40;
  image_dataset d{torch::zeros({n, 1, 2, 2}, torch::kByte), torch::arange(n, torch::kLong), "zeros"};
  auto gen = at::detail::createCPUGenerator(6);
  cebm::data::batch_loader loader(d, cebm::data::loader_options{}.batch_size(8));
  loader.next(gen);
  loader.next(gen);
  std::stringstream stream;
  torch::serialize::OutputArchive out;
  loader.save(out);
  out.save_to(stream);
  const auto gen_state = gen.get_state();
  std::vector<torch::Tensor> expected;
  for (int i = 0; i < 6; ++i) expected.push_back(loader.next(gen).indices);  // crosses into epoch 2

  cebm::data::batch_loader resumed(d, cebm::data::loader_options{}.batch_size(8));
  torch::serialize::InputArchive in;
  in.load_from(stream);
  resumed.load(in);
  auto gen2 = at::detail::createCPUGenerator(0);
  gen2.set_state(gen_state);
  for (int i = 0; i < 6; ++i) CHECK(torch::equal(resumed.next(gen2).indices, expected[i]));
}
