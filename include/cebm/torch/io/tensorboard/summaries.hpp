#pragma once
/// @file
/// TensorBoard's summary values (`Summary.Value` of tensorboard/compat/proto/summary.proto), each
/// encoded as the bytes of one value, ready for `event_file::write_summary`:
///
///   scalar_summary     a 0-d DT_FLOAT tensor under the "scalars" plugin: the value rounded to the
///                      nearest float32, since TensorBoard's data server (its default loader since
///                      2.5) shows no scalar of another dtype (measured with 2.21: a DT_DOUBLE
///                      scalar is listed by the Python loader and dropped by the data server)
///   image_summary      an encoded PNG with its height, width and channels (`Summary.Image`)
///   histogram_summary  `HistogramProto`: min, max, count, sum, sum of squares and `bins` buckets of
///                      equal width over [min, max]; bucket i holds the values in
///                      [min + i·w, min + (i+1)·w) (the last one closed), `bucket_limit` its right edge
///   text_summary       a 0-d DT_STRING tensor under the "text" plugin (Markdown)
///   pr_curve_summary   a DT_FLOAT [6, T] tensor under the "pr_curves" plugin: for thresholds
///                      t_i = i/(T−1) on scores in [0, 1], the rows are true positives, false
///                      positives, true negatives, false negatives (a prediction is positive when its
///                      score ≥ t_i), precision TP/(TP+FP) and recall TP/(TP+FN) (0 where undefined)
///
/// Field numbers are those of the published .proto files (summary.proto, tensor.proto,
/// tensor_shape.proto, the plugins' plugin_data.proto); DataType DT_FLOAT = 1, DT_DOUBLE = 2,
/// DT_STRING = 7.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cebm/torch/io/tensorboard/detail/protobuf.hpp"

namespace cebm::tensorboard {

namespace detail {
enum : int { dt_float = 1, dt_double = 2, dt_string = 7 };
enum : int { data_class_scalar = 1, data_class_tensor = 2, data_class_blob_sequence = 3 };

/// SummaryMetadata naming the plugin that reads the value (and the plugin's own content).
inline proto_writer plugin_metadata(std::string_view plugin, int data_class, const std::string& content = {}) {
  proto_writer plugin_data;
  plugin_data.bytes(1, plugin);
  if (!content.empty()) plugin_data.bytes(2, content);
  proto_writer metadata;
  metadata.message(1, plugin_data).varint(4, static_cast<std::uint64_t>(data_class));
  return metadata;
}

/// TensorShapeProto with the given sizes (none: a 0-d tensor).
inline proto_writer tensor_shape(const std::vector<std::int64_t>& sizes) {
  proto_writer shape;
  for (const std::int64_t s : sizes) shape.message(2, proto_writer().int64(1, s));
  return shape;
}

inline std::string summary_value(std::string_view tag, int kind_field, const proto_writer& kind, const proto_writer* metadata) {
  if (tag.empty()) throw std::invalid_argument("cebm::tensorboard: a summary's tag must not be empty");
  proto_writer value;
  value.bytes(1, tag);
  if (metadata) value.message(9, *metadata);
  value.message(kind_field, kind);
  return value.str();
}
}  // namespace detail

/// A scalar, stored as the nearest float32.
inline std::string scalar_summary(std::string_view tag, double v) {
  detail::proto_writer tensor;
  tensor.varint(1, detail::dt_float).message(2, detail::tensor_shape({})).packed_floats(5, {static_cast<float>(v)});
  const auto metadata = detail::plugin_metadata("scalars", detail::data_class_scalar);
  return detail::summary_value(tag, 8, tensor, &metadata);
}

/// An image already encoded as PNG (`channels` 1 grey, 3 RGB or 4 RGBA).
inline std::string image_summary(std::string_view tag, std::string_view png, std::int64_t height, std::int64_t width,
                                 std::int64_t channels) {
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3 && channels != 4))
    throw std::invalid_argument("cebm::tensorboard::image_summary: " + std::string(tag) + ": expected a positive size and 1, 3 or 4 channels, got " +
                                std::to_string(height) + "×" + std::to_string(width) + "×" + std::to_string(channels));
  detail::proto_writer image;
  image.int64(1, height).int64(2, width).int64(3, channels).bytes(4, png);
  return detail::summary_value(tag, 4, image, nullptr);
}

/// A histogram of `values` in `bins` buckets of equal width. Non-finite values are left out (a
/// histogram has no place for them); none left: an empty histogram.
inline std::string histogram_summary(std::string_view tag, const std::vector<double>& values, int bins = 30) {
  if (bins < 1) throw std::invalid_argument("cebm::tensorboard::histogram_summary: bins must be >= 1, got " + std::to_string(bins));
  double lo = INFINITY, hi = -INFINITY, sum = 0, sum_squares = 0, n = 0;
  for (const double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
    sum_squares += v * v;
    ++n;
  }
  std::vector<double> limits, counts;
  if (n > 0) {
    const int k = hi > lo ? bins : 1;
    const double width = (hi - lo) / k;
    counts.assign(static_cast<std::size_t>(k), 0.0);
    for (const double v : values) {
      if (!std::isfinite(v)) continue;
      const int i = width > 0 ? std::min(k - 1, static_cast<int>((v - lo) / width)) : 0;
      counts[static_cast<std::size_t>(i)] += 1;
    }
    for (int i = 1; i < k; ++i) limits.push_back(lo + i * width);
    limits.push_back(hi);
  } else {
    lo = hi = 0;
  }
  detail::proto_writer histo;
  histo.double_(1, lo).double_(2, hi).double_(3, n).double_(4, sum).double_(5, sum_squares);
  histo.packed_doubles(6, limits).packed_doubles(7, counts);
  return detail::summary_value(tag, 5, histo, nullptr);
}

/// Text, shown as Markdown.
inline std::string text_summary(std::string_view tag, std::string_view text) {
  detail::proto_writer tensor;
  tensor.varint(1, detail::dt_string).message(2, detail::tensor_shape({})).bytes(8, text);
  const auto metadata = detail::plugin_metadata("text", detail::data_class_tensor);
  return detail::summary_value(tag, 8, tensor, &metadata);
}

/// A precision–recall curve of scores in [0, 1] (`labels[i]` true: a positive) at `thresholds`
/// evenly spaced thresholds (≥ 2).
inline std::string pr_curve_summary(std::string_view tag, const std::vector<bool>& labels, const std::vector<double>& scores,
                                    int thresholds = 101) {
  const std::string where = "cebm::tensorboard::pr_curve_summary: " + std::string(tag) + ": ";
  if (labels.size() != scores.size() || scores.empty())
    throw std::invalid_argument(where + "expected as many labels as scores (and some), got " + std::to_string(labels.size()) +
                                " and " + std::to_string(scores.size()));
  if (thresholds < 2) throw std::invalid_argument(where + "thresholds must be >= 2, got " + std::to_string(thresholds));
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!(scores[i] >= 0 && scores[i] <= 1))
      throw std::invalid_argument(where + "score " + std::to_string(i) + " is " + std::to_string(scores[i]) + ", expected one in [0, 1]");
  const auto t = static_cast<std::size_t>(thresholds);
  std::vector<float> rows(6 * t, 0.0f);
  double positives = 0;
  for (const bool l : labels) positives += l ? 1 : 0;
  const double negatives = static_cast<double>(labels.size()) - positives;
  for (std::size_t k = 0; k < t; ++k) {
    const double threshold = static_cast<double>(k) / static_cast<double>(t - 1);
    double tp = 0, fp = 0;
    for (std::size_t i = 0; i < scores.size(); ++i)
      if (scores[i] >= threshold) (labels[i] ? tp : fp) += 1;
    const double fn = positives - tp, tn = negatives - fp;
    rows[0 * t + k] = static_cast<float>(tp);
    rows[1 * t + k] = static_cast<float>(fp);
    rows[2 * t + k] = static_cast<float>(tn);
    rows[3 * t + k] = static_cast<float>(fn);
    rows[4 * t + k] = static_cast<float>(tp + fp > 0 ? tp / (tp + fp) : 0.0);
    rows[5 * t + k] = static_cast<float>(tp + fn > 0 ? tp / (tp + fn) : 0.0);
  }
  detail::proto_writer tensor;
  tensor.varint(1, detail::dt_float).message(2, detail::tensor_shape({6, thresholds})).packed_floats(5, rows);
  detail::proto_writer content;  // PrCurvePluginData: version 0, num_thresholds
  content.varint(2, static_cast<std::uint64_t>(thresholds));
  const auto metadata = detail::plugin_metadata("pr_curves", detail::data_class_tensor, content.str());
  return detail::summary_value(tag, 8, tensor, &metadata);
}

}  // namespace cebm::tensorboard
