#pragma once
/// @file
/// `report_scalars(report)`: the numbers of an evaluation's report.json as named scalars, for a
/// metrics logger (TensorBoard): every number in an object, named by its path joined with '/'
/// ("ood/sets/mnist/logp/auroc"); an array of objects contributes each object under its "setting"
/// (few-label rows: "few_label/representation/rows/10/mean") or else its index; arrays of numbers
/// (confusion matrices, per-draw accuracies) and booleans are left out, and so is the run's
/// configuration ("config"), which describes the run rather than measures it.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace cebm::eval {

namespace detail {
inline void collect_report_scalars(const nlohmann::json& j, const std::string& path, std::map<std::string, double>& out) {
  if (j.is_number()) {
    out[path] = j.get<double>();
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items())
      if (!(path.empty() && key == "config")) collect_report_scalars(value, path.empty() ? key : path + "/" + key, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      const nlohmann::json& e = j[i];
      if (!e.is_object()) continue;
      const auto setting = e.find("setting");
      const std::string name = setting != e.end() && setting->is_string() ? setting->get<std::string>() : std::to_string(i);
      collect_report_scalars(e, path + "/" + name, out);
    }
  }
}
}  // namespace detail

inline std::map<std::string, double> report_scalars(const nlohmann::json& report) {
  std::map<std::string, double> out;
  detail::collect_report_scalars(report, "", out);
  return out;
}

}  // namespace cebm::eval
