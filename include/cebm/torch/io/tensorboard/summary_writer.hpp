#pragma once
/// @file
/// `summary_writer`: TensorBoard logging from C++, in the shape of PyTorch's
/// `torch.utils.tensorboard.SummaryWriter` — scalars, images, histograms, text, PR curves and
/// embeddings for the projector — into one new event file per writer (event_file.hpp) in `logdir`.
///
/// Tensors may live on any device and have any floating dtype: what is logged is copied to the
/// host once (a device sync per call, which callers pay only at their logging cadence).
///
/// Embeddings (`add_embedding`) are files beside the event files, as TensorBoard's projector reads
/// them: `embeddings/<tag>/<step>/tensors.tsv` (one row of features per point),
/// `metadata.tsv` (one label per row), `sprite.png` (the thumbnails tiled row by row in a square
/// grid) and an `embeddings { … }` entry in `projector_config.pbtxt` (protobuf text format), which
/// is rewritten atomically and keeps the other tags' and steps' entries.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/io/atomic_file.hpp"
#include "cebm/torch/io/png.hpp"
#include "cebm/torch/io/tensorboard/event_file.hpp"
#include "cebm/torch/io/tensorboard/summaries.hpp"

namespace cebm::tensorboard {

class summary_writer {
 public:
  summary_writer() = default;
  explicit summary_writer(std::string logdir) : logdir_(std::move(logdir)), file_(logdir_) {}

  const std::string& logdir() const { return logdir_; }
  /// The event file this writer appends to.
  const std::string& path() const { return file_.path(); }

  void add_scalar(const std::string& tag, double value, std::int64_t step) { file_.write_summary(step, scalar_summary(tag, value)); }

  /// Every value of `row` as a scalar named `prefix + key`, in one event.
  void add_scalars(const std::map<std::string, double>& row, std::int64_t step, const std::string& prefix = "") {
    std::vector<std::string> values;
    for (const auto& [key, v] : row) values.push_back(scalar_summary(prefix + key, v));
    if (!values.empty()) file_.write_summary(step, values);
  }

  /// A uint8 image [C, H, W] (C = 1 or 3), encoded as PNG.
  void add_image(const std::string& tag, const at::Tensor& pixels, std::int64_t step) {
    const std::vector<std::uint8_t> png = data::encode_png(pixels, tag);
    add_png(tag, png, pixels.size(1), pixels.size(2), pixels.size(0), step);
  }
  /// An image already encoded as PNG.
  void add_png(const std::string& tag, const std::vector<std::uint8_t>& png, std::int64_t height, std::int64_t width,
               std::int64_t channels, std::int64_t step) {
    file_.write_summary(step, image_summary(tag, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()), height,
                                            width, channels));
  }

  /// A histogram of every element of `values` (non-finite ones left out).
  void add_histogram(const std::string& tag, const at::Tensor& values, std::int64_t step, int bins = 30) {
    file_.write_summary(step, histogram_summary(tag, host_doubles(values, tag), bins));
  }

  void add_text(const std::string& tag, const std::string& markdown, std::int64_t step) {
    file_.write_summary(step, text_summary(tag, markdown));
  }

  /// A precision–recall curve: `labels` (bool or 0/1, [N]) says which points are positive,
  /// `scores` ([N], finite) rank them, higher = more positive. Scores outside [0, 1] are mapped
  /// onto it by (s − min)/(max − min), which keeps their order and so the curve's points.
  void add_pr_curve(const std::string& tag, const at::Tensor& labels, const at::Tensor& scores, std::int64_t step,
                    int thresholds = 101) {
    const std::vector<double> s = host_doubles(scores, tag), l = host_doubles(labels, tag);
    if (s.size() != l.size() || s.empty() || scores.dim() != 1)
      throw std::invalid_argument("cebm::tensorboard::summary_writer::add_pr_curve: " + tag +
                                  ": expected labels and scores of the same length [N], got " + c10::str(labels.sizes()) + " and " +
                                  c10::str(scores.sizes()));
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!std::isfinite(s[i]))
        throw std::invalid_argument("cebm::tensorboard::summary_writer::add_pr_curve: " + tag + ": score " + std::to_string(i) +
                                    " is not finite");
      lo = std::min(lo, s[i]);
      hi = std::max(hi, s[i]);
    }
    std::vector<double> unit(s.size());
    std::vector<bool> positive(s.size());
    const bool inside = lo >= 0 && hi <= 1;
    for (std::size_t i = 0; i < s.size(); ++i) {
      unit[i] = inside ? s[i] : hi > lo ? (s[i] - lo) / (hi - lo) : 1.0;
      positive[i] = l[i] != 0;
    }
    file_.write_summary(step, pr_curve_summary(tag, positive, unit, thresholds));
  }

  /// Points `features` [N, D] for the projector, labelled `labels` (N strings, or none), with
  /// thumbnails `images` (uint8 [N, C, H, W], or undefined for none).
  void add_embedding(const std::string& tag, const at::Tensor& features, const std::vector<std::string>& labels,
                     const at::Tensor& images, std::int64_t step) {
    const std::string where = "cebm::tensorboard::summary_writer::add_embedding: " + tag + ": ";
    if (features.dim() != 2 || features.size(0) == 0)
      throw std::invalid_argument(where + "expected features [N, D], got " + c10::str(features.sizes()));
    const std::int64_t n = features.size(0), d = features.size(1);
    if (!labels.empty() && static_cast<std::int64_t>(labels.size()) != n)
      throw std::invalid_argument(where + std::to_string(labels.size()) + " labels for " + std::to_string(n) + " points");
    if (images.defined() && (images.dim() != 4 || images.size(0) != n || images.scalar_type() != at::kByte))
      throw std::invalid_argument(where + "expected uint8 thumbnails [" + std::to_string(n) + ", C, H, W], got " +
                                  c10::str(images.sizes()) + " " + c10::toString(images.scalar_type()));
    for (const char c : tag)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
        throw std::invalid_argument(where + "a tag names a folder here: letters, digits, '_' and '-' only");
    const std::string folder = "embeddings/" + tag + "/" + std::to_string(step);
    const std::vector<double> x = host_doubles(features, tag);
    std::string tsv;
    char buf[32];
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < d; ++j) {
        std::snprintf(buf, sizeof buf, "%.7g", x[static_cast<std::size_t>(i * d + j)]);
        tsv += buf;
        tsv += j + 1 < d ? '\t' : '\n';
      }
    train::replace_file(file(folder + "/tensors.tsv"), tsv, "the embedding");
    std::string entry = "embeddings {\n  tensor_name: \"" + tag + ":" + std::to_string(step) + "\"\n  tensor_path: \"" + folder +
                        "/tensors.tsv\"\n";
    if (!labels.empty()) {
      std::string meta;
      for (const auto& l : labels) {
        for (const char c : l)
          if (c == '\t' || c == '\n') throw std::invalid_argument(where + "a label holds a tab or a line break: \"" + l + "\"");
        meta += l + '\n';
      }
      train::replace_file(file(folder + "/metadata.tsv"), meta, "the embedding's labels");
      entry += "  metadata_path: \"" + folder + "/metadata.tsv\"\n";
    }
    if (images.defined()) {
      const auto side = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
      const std::int64_t c = images.size(1), h = images.size(2), w = images.size(3);
      if (side * h > 8192 || side * w > 8192)
        throw std::invalid_argument(where + "the projector's sprite may be at most 8192×8192 pixels: " + std::to_string(n) +
                                    " thumbnails of " + std::to_string(h) + "×" + std::to_string(w) + " do not fit");
      at::Tensor sprite = at::full({c, side * h, side * w}, 255, images.options().device(at::kCPU));
      const at::Tensor thumbs = images.cpu();
      for (std::int64_t i = 0; i < n; ++i) sprite.narrow(1, (i / side) * h, h).narrow(2, (i % side) * w, w).copy_(thumbs[i]);
      const std::vector<std::uint8_t> png = data::encode_png(sprite, tag);
      train::replace_file(file(folder + "/sprite.png"), std::string(png.begin(), png.end()), "the embedding's sprite");
      entry += "  sprite {\n    image_path: \"" + folder + "/sprite.png\"\n    single_image_dim: " + std::to_string(w) +
               "\n    single_image_dim: " + std::to_string(h) + "\n  }\n";
    }
    entry += "}\n";
    add_projector_entry(tag + ":" + std::to_string(step), entry);
  }

  /// See event_file::session_start.
  void session_start(std::int64_t step) { file_.session_start(step); }

 private:
  std::string file(const std::string& name) const { return (std::filesystem::path(logdir_) / name).string(); }

  static std::vector<double> host_doubles(const at::Tensor& t, const std::string& tag) {
    if (!t.defined()) throw std::invalid_argument("cebm::tensorboard::summary_writer: " + tag + ": an undefined tensor");
    const at::Tensor h = t.detach().to(at::kCPU, at::kDouble).contiguous();
    return std::vector<double>(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
  }

  /// projector_config.pbtxt with `entry` in place of the one named `name` (our own entries are one
  /// `embeddings {` … `}` block each, at the start of a line).
  void add_projector_entry(const std::string& name, const std::string& entry) {
    const std::string path = file("projector_config.pbtxt");
    std::ifstream in(path);
    const std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string kept;
    for (std::size_t at = 0; at < old.size();) {
      std::size_t end = old.find("\n}\n", at);
      end = end == std::string::npos ? old.size() : end + 3;
      const std::string block = old.substr(at, end - at);
      if (block.find("tensor_name: \"" + name + "\"") == std::string::npos) kept += block;
      at = end;
    }
    train::replace_file(path, kept + entry, "the projector's configuration");
  }

  std::string logdir_;
  event_file file_;
};

}  // namespace cebm::tensorboard
