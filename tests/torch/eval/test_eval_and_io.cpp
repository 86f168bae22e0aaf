// Small pieces the trainer relies on, against hand-computed truth: 1-NN with its confusion
// matrix, the image grid layout, the metrics line format, Swish, and gzip reading.
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include <torch/torch.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include "cebm/torch/data/file_bytes.hpp"
#include "cebm/torch/io/image_grid.hpp"
#include "cebm/torch/metrics/nearest_neighbor.hpp"
#include "cebm/torch/nn/swish.hpp"
#include "cebm/torch/io/metrics_log.hpp"
#include "cebm/torch/io/progress.hpp"
#include "support/temp_dir.hpp"

TEST_CASE("1-NN: predictions, accuracy and row-normalised confusion on a hand-made case", "[eval][nn]") {
  // References on a line at 0, 10, 20 with classes 0, 1, 2; queries near them, one mislabelled.
  const auto ref = torch::tensor({0.0, 10.0, 20.0}).view({3, 1});
  const auto ref_y = torch::tensor({0, 1, 2}, torch::kLong);
  const auto q = torch::tensor({1.0, 9.0, 12.0, 19.0, 4.0}).view({5, 1});
  const auto q_y = torch::tensor({0, 1, 1, 2, 1}, torch::kLong);  // the last is nearer class 0
  const auto r = cebm::eval::nearest_neighbor(ref, ref_y, q, q_y, 3, /*chunk=*/2);
  CHECK(torch::equal(r.predicted, torch::tensor({0, 1, 1, 2, 0}, torch::kLong)));
  CHECK(r.accuracy == Approx(0.8));
  CHECK(r.confusion[1][0].item<double>() == Approx(1.0 / 3));
  CHECK(r.confusion[1][1].item<double>() == Approx(2.0 / 3));
  CHECK(r.confusion[0][0].item<double>() == 1.0);
  // The Eigen product behind the distances equals libtorch's.
  const auto a = torch::randn({37, 11}), b = torch::randn({23, 11});
  CHECK(torch::allclose(cebm::eval::detail::matmul_nt(a, b), torch::matmul(a, b.t()), 1e-5, 1e-5));
  CHECK_THROWS_WITH(cebm::eval::nearest_neighbor(ref, ref_y, torch::zeros({2, 3}), q_y, 3), Catch::Contains("[2, 3]"));
}

TEST_CASE("image grid: tiles in row-major order with padding", "[eval][grid]") {
  auto imgs = torch::zeros({5, 1, 2, 3}, torch::kByte);
  for (int i = 0; i < 5; ++i) imgs[i].fill_(10 * (i + 1));
  const auto g = cebm::eval::make_grid(imgs, /*columns=*/2, /*padding=*/1, /*pad_value=*/255);
  CHECK(g.sizes() == torch::IntArrayRef({1, 3 * 3 + 1, 2 * 4 + 1}));  // 3 rows of 2 columns
  CHECK(g[0][0][0].item<int>() == 255);
  CHECK(g[0][1][1].item<int>() == 10);  // image 0 at row 0, column 0
  CHECK(g[0][1][5].item<int>() == 20);  // image 1 at row 0, column 1
  CHECK(g[0][7][1].item<int>() == 50);  // image 4 at row 2, column 0
  CHECK(g[0][7][5].item<int>() == 255);  // the empty slot keeps the padding colour
  CHECK_THROWS_WITH(cebm::eval::make_grid(torch::zeros({2, 1, 2, 2})), Catch::Contains("uint8"));
}

TEST_CASE("metrics lines are JSON with null for non-finite values, appended per row", "[train][metrics]") {
  CHECK(cebm::train::metrics_log::format({{"b", 0.5}, {"a", NAN}, {"c", -INFINITY}}) == "{\"a\": null, \"b\": 0.5, \"c\": null}");
  cebm_test::temp_dir d;
  {
    cebm::train::metrics_log log(d.file("m.jsonl"));
    log.write({{"iteration", 1}});
  }
  cebm::train::metrics_log again(d.file("m.jsonl"));
  again.write({{"iteration", 2}});
  std::ifstream in(d.file("m.jsonl"));
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  CHECK(l1 == "{\"iteration\": 1}");
  CHECK(l2 == "{\"iteration\": 2}");
  CHECK_THROWS_WITH(cebm::train::metrics_log(d.file("no/such/dir/m.jsonl")), Catch::Contains("cannot open"));
  cebm::train::progress bar(10, 5);
  bar.update(5, 5, "x");  // plain line when stderr is not a terminal; must not throw
  CHECK(bar.rate() >= 0);
}

TEST_CASE("a progress display's rate counts from its first update", "[io]") {
  // A display created as its first item ends (an evaluation stage) used to divide that item by the
  // nanoseconds since its construction: hundreds of millions of items per second.
  cebm::train::progress bar(100, 1, "stage", /*enabled=*/false);
  bar.update(1, 1, "");
  CHECK(bar.rate() == 0);  // one point: no rate yet
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bar.update(3, 3, "");
  CHECK(bar.rate() > 0);
  CHECK(bar.rate() <= 2 / 0.020);  // 2 items in at least the 20 ms between the updates
}

TEST_CASE("Swish is x * sigmoid(x), with the matching gradient", "[nn][swish]") {
  cebm::nn::Swish swish;
  auto x = torch::linspace(-6, 6, 25, torch::kFloat64).requires_grad_();
  const auto y = swish(x);
  CHECK(torch::allclose(y, x * torch::sigmoid(x)));
  const auto g = torch::autograd::grad({y.sum()}, {x})[0];
  const auto s = torch::sigmoid(x.detach());
  CHECK(torch::allclose(g, s + x.detach() * s * (1 - s)));
}

TEST_CASE("gzip reading: concatenated members, plain files, and corrupt streams", "[data][gzip]") {
  cebm_test::temp_dir d;
  auto gz = [&](const std::string& name, const std::string& text, const char* mode) {
    gzFile f = gzopen(d.file(name).c_str(), mode);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  };
  gz("two.gz", "hello ", "wb");
  gz("two.gz", "world", "ab");  // a second gzip member appended
  const auto bytes = cebm::data::read_file_bytes(d.file("two.gz"));
  CHECK(std::string(bytes.begin(), bytes.end()) == "hello world");
  std::ofstream(d.file("plain")) << "as is";
  const auto plain = cebm::data::read_file_bytes(d.file("plain"));
  CHECK(std::string(plain.begin(), plain.end()) == "as is");
  std::ofstream(d.file("bad.gz"), std::ios::binary) << std::string("\x1f\x8b\x08\x00garbage", 12);
  CHECK_THROWS_WITH(cebm::data::read_file_bytes(d.file("bad.gz")), Catch::Contains("bad.gz") && Catch::Contains("gzip"));
}
