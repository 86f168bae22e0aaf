#pragma once
// Every check of the conformance harness on a family's test parameters (family_cases.hpp), each
// reported by name when it fails; shared by the default and the release-build harness tests.
#include <catch2/catch.hpp>

#include "cebm/testing/conformance.hpp"
#include "families/family_cases.hpp"

namespace cebm_test {

template <class F>
cebm::testing::conformance_report check_conformance() {
  using C = family_case<F>;
  const auto report = cebm::testing::check_family<F>(C::lambda(1, 11), C::lambda(1, 29), *C::invalid());
  INFO(cebm::family_name<F>() << "\n" << report.to_string());
  for (const auto& c : report.checks) {
    INFO(c.name << ": " << c.detail);
    CHECK(c.passed);
  }
  return report;
}

}  // namespace cebm_test
