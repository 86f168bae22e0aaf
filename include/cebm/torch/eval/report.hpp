#pragma once
/// @file
/// `write_report(report, dir)`: `report.json` as is, and `report.md` with the tables of
/// `evaluation.hpp`'s report, the published CEBM numbers beside ours where dataset, model and
/// setting match (published.hpp), and the PNGs inline.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "cebm/config.hpp"
#include "cebm/torch/eval/published.hpp"

namespace cebm::eval {

namespace detail {

CEBM_INLINE std::string fixed(double v, int digits);

CEBM_INLINE std::string number(const nlohmann::json& v, int digits);

CEBM_INLINE std::string paper(const std::string& dataset, const std::string& model, const std::string& metric,
                         const std::string& setting, int digits);

CEBM_INLINE const nlohmann::json* few_label_row(const nlohmann::json& table, const std::string& setting);

CEBM_INLINE std::string percent_cell(const nlohmann::json* row);

}  // namespace detail

/// The learning-curve section of the markdown report (learning_curve.hpp's `learning_curve` key).
CEBM_INLINE std::string learning_curve_markdown(const nlohmann::json& lc);

/// The markdown report of an `evaluate` JSON report.
CEBM_INLINE std::string markdown_report(const nlohmann::json& r);

/// Writes `report.json` and `report.md` into `dir`, each whole or not at all (io/atomic_file.hpp):
/// a failed write leaves the previous file as it was and throws, naming the file.
CEBM_INLINE void write_report(const nlohmann::json& report, const std::string& dir);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/report_impl.hpp"
#endif
