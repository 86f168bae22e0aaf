#pragma once
// Number flags that refuse NaN and infinities and say what they expected in plain words
// (CLI11's PositiveNumber and NonNegativeNumber accept "nan" and print their bound as a 309-digit
// number).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace cebm::programs::cli {

namespace detail {
/// A validator of finite numbers that `ok` accepts; `expected` completes "must be …".
inline CLI::Validator finite_number(const std::string& expected, bool (*ok)(double)) {
  return CLI::Validator(
      [expected, ok](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end == text.c_str() || *end != '\0') return "'" + text + "' is not a number";
        if (!std::isfinite(v) || errno == ERANGE) return "must be a finite number, got " + text;
        if (!ok(v)) return "must be " + expected + ", got " + text;
        return "";
      },
      "NUMBER " + expected);
}
}  // namespace detail

/// A finite number > 0.
inline const CLI::Validator positive = detail::finite_number("> 0", [](double v) { return v > 0; });
/// A finite number >= 0.
inline const CLI::Validator non_negative = detail::finite_number(">= 0", [](double v) { return v >= 0; });

}  // namespace cebm::programs::cli
