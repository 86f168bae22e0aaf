#pragma once
// Trainer tests: every named parameter and buffer of one module equals another's bit for bit
// (each checked under its name), and quiet run-loop options for any trainer.
#include <string>

#include <torch/torch.h>

#include <catch2/catch.hpp>

namespace cebm_test {

inline void check_same_state(const torch::nn::Module& a, const torch::nn::Module& b, const std::string& label = "") {
  auto pb = b.named_parameters(), bb = b.named_buffers();
  for (const auto& p : a.named_parameters()) {
    INFO(label << p.key());
    REQUIRE(pb.contains(p.key()));
    CHECK(torch::equal(p.value(), pb[p.key()]));
  }
  for (const auto& p : a.named_buffers()) {
    INFO(label << p.key());
    REQUIRE(bb.contains(p.key()));
    CHECK(torch::equal(p.value(), bb[p.key()]));
  }
}

/// A trainer's options for tests: `out`, a small batch and probe, a row and `last.pt` every
/// iteration, no probe or sample grid in between.
template <class O>
O quiet_run(O o, const std::string& out, std::int64_t batch = 8) {
  return o.out_dir(out).batch_size(batch).probe_reference(40).probe_query(20).log_every(1).checkpoint_every(1)
      .sample_every(100).probe_every(100);
}

}  // namespace cebm_test
