#pragma once
/// @file
/// The definitions of learning_curve.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/learning_curve.hpp"

namespace cebm::eval {

CEBM_INLINE std::vector<std::pair<std::int64_t, double>> metric_history(const std::vector<std::map<std::string, double>>& rows,
                                                                   const std::string& key) {
  std::vector<std::pair<std::int64_t, double>> out;
  for (const auto& row : rows) {
    const auto it = row.find(key), at = row.find("iteration");
    if (it != row.end() && at != row.end() && std::isfinite(it->second))
      out.emplace_back(static_cast<std::int64_t>(std::llround(at->second)), it->second);
  }
  return out;
}

CEBM_INLINE nlohmann::json learning_curve_point(const nlohmann::json& report, std::int64_t iteration, const std::string& checkpoint) {
  nlohmann::json p = {{"iteration", iteration}, {"checkpoint", checkpoint}, {"buffer_stuck", nullptr}};
  for (const char* table : {"representation", "representation_standardized"}) {
    nlohmann::json& out = p["few_label"][table];
    out = nlohmann::json::object();
    if (!report.contains("few_label") || !report["few_label"].contains(table)) continue;
    for (const auto& row : report["few_label"][table]["rows"])
      out[row["setting"].get<std::string>()] = {{"mean", row["mean"]}, {"std", row["std"]}};
  }
  if (report.contains("samples") && report["samples"].contains("buffer"))
    p["buffer_stuck"] = report["samples"]["buffer"]["stuck"]["fraction"];
  return p;
}

CEBM_INLINE at::Tensor learning_curve_chart(const learning_curve& c, const std::string& labels) {
  std::vector<line_series> series;
  line_series probe{"probe: 1-NN (training images)", {}, {}, 0};
  for (const auto& [it, v] : c.probe) probe.x.push_back(static_cast<double>(it)), probe.y.push_back(v);
  line_series published{labels + " labels per class: published", {}, {}, 1};
  line_series standardized{labels + " labels per class: standardised", {}, {}, 2};
  line_series stuck{"replay buffer: stuck fraction", {}, {}, 3};
  for (const auto& p : c.points) {
    const double x = p["iteration"].get<double>();
    const auto& few = p["few_label"];
    if (few["representation"].contains(labels))
      published.x.push_back(x), published.y.push_back(few["representation"][labels]["mean"].get<double>());
    if (few["representation_standardized"].contains(labels))
      standardized.x.push_back(x), standardized.y.push_back(few["representation_standardized"][labels]["mean"].get<double>());
    if (p["buffer_stuck"].is_number()) stuck.x.push_back(x), stuck.y.push_back(p["buffer_stuck"].get<double>());
  }
  for (auto* s : {&probe, &published, &standardized, &stuck})
    if (!s->x.empty()) series.push_back(std::move(*s));
  return line_chart(series, line_chart_options{}
                                .title("Learning curve")
                                .x_title("training iteration")
                                .y_title("accuracy / fraction"));
}

CEBM_INLINE nlohmann::json learning_curve_section(const learning_curve& c, const std::string& dir) {
  nlohmann::json probe = nlohmann::json::array();
  for (const auto& [it, v] : c.probe) probe.push_back({it, v});
  nlohmann::json out = {{"probe", probe}, {"points", c.points}};
  if (c.probe.empty() && c.points.empty()) return out;
  std::filesystem::create_directories(dir);
  data::write_png((std::filesystem::path(dir) / "learning_curve.png").string(), learning_curve_chart(c));
  out["image"] = "learning_curve.png";
  return out;
}

}  // namespace cebm::eval
