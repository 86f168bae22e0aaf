#pragma once
/// @file
/// The definitions of plot.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/plot.hpp"

namespace cebm::eval::detail {

CEBM_INLINE bool plot_glyph(char c, std::array<std::uint8_t, 7>& rows) {
  struct entry {
    char c;
    std::array<std::uint8_t, 7> rows;
  };
  static constexpr entry font[] = {
      {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}, {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
      {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
      {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}}, {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
      {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}}, {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
      {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}}, {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
      {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}}, {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
      {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
      {';', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
      {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
      {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
      {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
      {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}}, {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
      {'\'', {0x0C, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}},
      {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
      {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
      {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
      {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
      {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
      {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
      {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
      {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
      {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
      {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
      {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
      {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
      {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
      {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}}, {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}},
      {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}}, {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
      {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}}, {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}},
      {'g', {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}}, {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
      {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}}, {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}},
      {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}}, {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
      {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}}, {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
      {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}}, {'p', {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}},
      {'q', {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}}, {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
      {'s', {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}}, {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
      {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}}, {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}},
      {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}}, {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
      {'y', {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}}, {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}},
  };
  for (const entry& e : font)
    if (e.c == c) {
      rows = e.rows;
      return true;
    }
  return false;
}

CEBM_INLINE std::string plot_format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

CEBM_INLINE std::vector<double> plot_finite_values(const at::Tensor& t, const char* where, const char* what) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  std::vector<double> v(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw std::invalid_argument(std::string(where) + ": " + what + " must be finite, element " + std::to_string(i) +
                                  " (flat index) is " + plot_format("%g", v[i]));
  return v;
}

CEBM_INLINE double srgb_to_linear(std::uint8_t c) {
  const double u = c / 255.0;
  return u <= 0.04045 ? u / 12.92 : std::pow((u + 0.055) / 1.055, 2.4);
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE rgb viridis(double t) {
  // _viridis_data[8j] for j = 0…31, then [255].
  static constexpr double anchor[33][3] = {
      {0.267004, 0.004874, 0.329415}, {0.277018, 0.050344, 0.375715}, {0.282327, 0.094955, 0.417331},
      {0.282884, 0.135920, 0.453427}, {0.278826, 0.175490, 0.483397}, {0.270595, 0.214069, 0.507052},
      {0.258965, 0.251537, 0.524736}, {0.244972, 0.287675, 0.537260}, {0.229739, 0.322361, 0.545706},
      {0.214298, 0.355619, 0.551184}, {0.199430, 0.387607, 0.554642}, {0.185556, 0.418570, 0.556753},
      {0.172719, 0.448791, 0.557885}, {0.160665, 0.478540, 0.558115}, {0.149039, 0.508051, 0.557250},
      {0.137770, 0.537492, 0.554906}, {0.127568, 0.566949, 0.550556}, {0.120565, 0.596422, 0.543611},
      {0.120638, 0.625828, 0.533488}, {0.132268, 0.655014, 0.519661}, {0.157851, 0.683765, 0.501686},
      {0.196571, 0.711827, 0.479221}, {0.246070, 0.738910, 0.452024}, {0.304148, 0.764704, 0.419943},
      {0.369214, 0.788888, 0.382914}, {0.440137, 0.811138, 0.340967}, {0.515992, 0.831158, 0.294279},
      {0.595839, 0.848717, 0.243329}, {0.678489, 0.863742, 0.189503}, {0.762373, 0.876424, 0.137064},
      {0.845561, 0.887322, 0.099702}, {0.926106, 0.897330, 0.104071}, {0.993248, 0.906157, 0.143936}};
  const double x = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0) * 255.0;  // position in the 256-entry table
  const int k = std::min(static_cast<int>(x / 8), 31);
  const double lo = 8.0 * k, hi = k == 31 ? 255.0 : lo + 8;
  const double w = (x - lo) / (hi - lo);
  auto channel = [&](int c) {
    const double v = anchor[k][c] + w * (anchor[k + 1][c] - anchor[k][c]);
    return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
  };
  return {channel(0), channel(1), channel(2)};
}

CEBM_INLINE rgb tab10(std::int64_t k) {
  static constexpr rgb palette[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                                      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return palette[((k % 10) + 10) % 10];
}

CEBM_INLINE rgb contrasting_text(rgb background) {
  const double lum = 0.2126 * detail::srgb_to_linear(background.r) + 0.7152 * detail::srgb_to_linear(background.g) +
                     0.0722 * detail::srgb_to_linear(background.b);
  return lum > 0.179 ? black : white;
}

CEBM_INLINE at::Tensor heatmap(const at::Tensor& matrix, const heatmap_options& o) {
  constexpr const char* where = "cebm::eval::heatmap";
  if (!matrix.defined() || matrix.dim() != 2 || matrix.numel() == 0)
    throw std::invalid_argument(std::string(where) + ": matrix must be a non-empty [R, C] tensor, got " +
                                (matrix.defined() ? std::string(c10::str(matrix.sizes())) : std::string("undefined")));
  if (matrix.is_complex() || matrix.scalar_type() == at::kBool)
    throw std::invalid_argument(std::string(where) + ": matrix must hold real numbers, got " +
                                c10::toString(matrix.scalar_type()));
  if (o.cell() < 1 || o.font_scale() < 1 || o.value_font_scale() < 1 || o.margin() < 0)
    throw std::invalid_argument(std::string(where) + ": cell, font_scale, value_font_scale must be >= 1 and margin >= 0");
  if (!(o.value_max() > o.value_min()) || !std::isfinite(o.value_min()) || !std::isfinite(o.value_max()))
    throw std::invalid_argument(std::string(where) + ": need finite value_min < value_max, got " +
                                detail::plot_format("%g", o.value_min()) + " and " + detail::plot_format("%g", o.value_max()));
  const std::vector<double> v = detail::plot_finite_values(matrix, where, "matrix");
  const std::int64_t rows = matrix.size(0), cols = matrix.size(1), cell = o.cell(), s = o.font_scale();
  const std::int64_t gap = 3 * s, th = canvas::text_height(s);

  std::int64_t index_width = 0;
  if (o.show_indices()) index_width = canvas::text_width(std::to_string(rows - 1), s) + gap;
  const std::int64_t row_title_width = o.row_title().empty() ? 0 : th + gap;
  const std::int64_t below = (o.show_indices() ? gap + th : 0) + (o.column_title().empty() ? 0 : gap + th);
  const std::string bar_lo = detail::plot_format("%.2f", o.value_min()), bar_hi = detail::plot_format("%.2f", o.value_max());
  const std::int64_t bar_width = 4 * s + 8;
  const std::int64_t right = o.colorbar()
                                 ? 2 * gap + bar_width + gap + std::max(canvas::text_width(bar_lo, s), canvas::text_width(bar_hi, s))
                                 : 0;
  // Titles longer than the grid widen the image rather than being cut.
  const std::int64_t gx = o.margin() + row_title_width + index_width, gy = o.margin();
  const std::int64_t grid_w = cols * cell, grid_h = rows * cell;
  const std::int64_t width =
      std::max(gx + grid_w + right, gx + canvas::text_width(o.column_title(), s)) + o.margin();
  const std::int64_t height = std::max(gy + grid_h, gy + canvas::text_width(o.row_title(), s)) + below + o.margin();
  canvas cv(width, height, white);

  auto colour = [&](double value) { return viridis((value - o.value_min()) / (o.value_max() - o.value_min())); };
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) cv.fill_rect(gx + c * cell, gy + r * cell, cell, cell, colour(v[r * cols + c]));

  if (o.show_values()) {
    const std::int64_t vs = o.value_font_scale();
    std::int64_t widest = 0;
    for (double x : v) widest = std::max(widest, canvas::text_width(detail::plot_format("%.2f", x), vs));
    if (widest + 2 <= cell && canvas::text_height(vs) + 2 <= cell)
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
          const double x = v[r * cols + c];
          const std::string label = detail::plot_format("%.2f", x);
          cv.text(gx + c * cell + (cell - canvas::text_width(label, vs)) / 2, gy + r * cell + (cell - canvas::text_height(vs)) / 2,
                  label, contrasting_text(colour(x)), vs);
        }
  }

  if (o.show_indices()) {
    // Every k-th index, k the smallest stride at which neighbouring labels keep a gap.
    const std::int64_t widest = canvas::text_width(std::to_string(cols - 1), s);
    const std::int64_t col_stride = (widest + gap + cell - 1) / cell, row_stride = (th + s + cell - 1) / cell;
    for (std::int64_t r = 0; r < rows; r += row_stride) {
      const std::string label = std::to_string(r);
      cv.text(gx - gap - canvas::text_width(label, s), gy + r * cell + (cell - th) / 2, label, black, s);
    }
    for (std::int64_t c = 0; c < cols; c += col_stride) {
      const std::string label = std::to_string(c);
      cv.text(gx + c * cell + (cell - canvas::text_width(label, s)) / 2, gy + grid_h + gap, label, black, s);
    }
  }
  if (!o.row_title().empty()) {
    const std::int64_t len = canvas::text_width(o.row_title(), s);
    cv.text(o.margin(), gy + std::max<std::int64_t>(0, (grid_h - len) / 2), o.row_title(), black, s, /*vertical=*/true);
  }
  if (!o.column_title().empty()) {
    const std::int64_t len = canvas::text_width(o.column_title(), s);
    cv.text(gx + std::max<std::int64_t>(0, (grid_w - len) / 2), gy + grid_h + (o.show_indices() ? gap + th : 0) + gap,
            o.column_title(), black, s);
  }
  if (o.colorbar()) {
    const std::int64_t bx = gx + grid_w + 2 * gap;
    for (std::int64_t y = 0; y < grid_h; ++y)
      cv.fill_rect(bx, gy + y, bar_width, 1, viridis(grid_h == 1 ? 1.0 : 1.0 - static_cast<double>(y) / (grid_h - 1)));
    cv.outline_rect(bx - 1, gy - 1, bar_width + 2, grid_h + 2, black);
    cv.text(bx + bar_width + gap, gy, bar_hi, black, s);
    cv.text(bx + bar_width + gap, gy + grid_h - th, bar_lo, black, s);
  }
  return cv.to_tensor();
}

CEBM_INLINE at::Tensor scatter(const at::Tensor& points, const at::Tensor& labels, const scatter_options& o) {
  constexpr const char* where = "cebm::eval::scatter";
  if (!points.defined() || points.dim() != 2 || points.size(1) != 2 || points.size(0) == 0)
    throw std::invalid_argument(std::string(where) + ": points must be a non-empty [N, 2] tensor, got " +
                                (points.defined() ? std::string(c10::str(points.sizes())) : std::string("undefined")));
  if (!at::isFloatingType(points.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": points must be floating point, got " +
                                c10::toString(points.scalar_type()));
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != points.size(0) || labels.scalar_type() != at::kLong)
    throw std::invalid_argument(std::string(where) + ": labels must be int64 [" + std::to_string(points.size(0)) + "], got " +
                                (labels.defined() ? std::string(c10::str(labels.sizes())) + " " +
                                                        c10::toString(labels.scalar_type())
                                                  : std::string("undefined")));
  if (o.marker_radius() < 0 || o.font_scale() < 1 || o.padding() < 0 || o.classes() < 0 || !(o.margin() >= 0))
    throw std::invalid_argument(std::string(where) +
                                ": marker_radius, padding, classes and margin must be >= 0 and font_scale >= 1");
  const std::vector<double> xy = detail::plot_finite_values(points, where, "points");
  const at::Tensor lab = labels.detach().to(at::kCPU).contiguous();
  const std::int64_t n = points.size(0), *l = lab.data_ptr<std::int64_t>();
  std::int64_t max_label = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    if (l[i] < 0 || (o.classes() > 0 && l[i] >= o.classes()))
      throw std::invalid_argument(std::string(where) + ": label " + std::to_string(i) + " is " + std::to_string(l[i]) +
                                  ", outside [0, " + (o.classes() > 0 ? std::to_string(o.classes()) : std::string("inf")) + ")");
    max_label = std::max(max_label, l[i]);
  }
  const std::int64_t k = o.classes() > 0 ? o.classes() : max_label + 1;

  double lo[2], hi[2];
  for (int d = 0; d < 2; ++d) {
    lo[d] = hi[d] = xy[d];
    for (std::int64_t i = 0; i < n; ++i) lo[d] = std::min(lo[d], xy[2 * i + d]), hi[d] = std::max(hi[d], xy[2 * i + d]);
    const double span = hi[d] - lo[d];
    if (span > 0)
      lo[d] -= o.margin() * span, hi[d] += o.margin() * span;
    else
      lo[d] -= 0.5, hi[d] += 0.5;
  }

  const std::int64_t s = o.font_scale(), th = canvas::text_height(s), gap = 3 * s, pad = o.padding();
  const std::int64_t r = o.marker_radius();
  std::int64_t legend_w = 0;
  if (o.legend()) {
    legend_w = th + gap + canvas::text_width(std::to_string(k - 1), s);
    if (k * (th + 2 * s) > o.height() - 2 * pad)
      throw std::invalid_argument(std::string(where) + ": a legend of " + std::to_string(k) + " classes does not fit in " +
                                  std::to_string(o.height()) + " pixels; raise height or turn the legend off");
  }
  const std::string xlo = detail::plot_format("%.3g", lo[0]), xhi = detail::plot_format("%.3g", hi[0]);
  const std::string ylo = detail::plot_format("%.3g", lo[1]), yhi = detail::plot_format("%.3g", hi[1]);
  const std::int64_t ylabel_w =
      o.show_limits() ? std::max(canvas::text_width(ylo, s), canvas::text_width(yhi, s)) + gap : 0;
  const std::int64_t fx0 = pad + ylabel_w, fy0 = pad;
  const std::int64_t fx1 = o.width() - 1 - pad - (o.legend() ? legend_w + 2 * gap : 0);
  const std::int64_t fy1 = o.height() - 1 - pad - (o.show_limits() ? th + gap : 0);
  const std::int64_t span_x = fx1 - fx0 - 2 * r - 4, span_y = fy1 - fy0 - 2 * r - 4;
  if (span_x < 1 || span_y < 1)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(o.width()) + "x" + std::to_string(o.height()) +
                                " leaves no room for the plot; raise width/height or lower padding and marker_radius");

  canvas cv(o.width(), o.height(), white);
  cv.outline_rect(fx0, fy0, fx1 - fx0 + 1, fy1 - fy0 + 1, black);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t px = fx0 + r + 2 + std::lround((xy[2 * i] - lo[0]) / (hi[0] - lo[0]) * span_x);
    const std::int64_t py = fy1 - r - 2 - std::lround((xy[2 * i + 1] - lo[1]) / (hi[1] - lo[1]) * span_y);
    if (o.marker() == marker_shape::disc)
      cv.fill_disc(px, py, r, tab10(l[i]));
    else
      cv.fill_rect(px - r, py - r, 2 * r + 1, 2 * r + 1, tab10(l[i]));
  }
  if (o.show_limits()) {
    cv.text(fx0, fy1 + gap, xlo, black, s);
    cv.text(fx1 + 1 - canvas::text_width(xhi, s), fy1 + gap, xhi, black, s);
    cv.text(fx0 - gap - canvas::text_width(yhi, s), fy0, yhi, black, s);
    cv.text(fx0 - gap - canvas::text_width(ylo, s), fy1 + 1 - th, ylo, black, s);
  }
  if (o.legend()) {
    const std::int64_t lx = fx1 + 2 * gap;
    for (std::int64_t c = 0; c < k; ++c) {
      const std::int64_t ly = fy0 + c * (th + 2 * s);
      cv.fill_rect(lx, ly, th, th, tab10(c));
      cv.text(lx + th + gap, ly, std::to_string(c), black, s);
    }
  }
  return cv.to_tensor();
}

CEBM_INLINE at::Tensor line_chart(const std::vector<line_series>& series, const line_chart_options& o) {
  constexpr const char* where = "cebm::eval::line_chart";
  if (o.marker_radius() < 0 || o.thickness() < 1 || o.font_scale() < 1 || o.padding() < 0 || o.y_ticks() < 2)
    throw std::invalid_argument(std::string(where) +
                                ": marker_radius and padding must be >= 0, thickness and font_scale >= 1, y_ticks >= 2");
  if (!(o.y_max() > o.y_min()) || !std::isfinite(o.y_min()) || !std::isfinite(o.y_max()))
    throw std::invalid_argument(std::string(where) + ": need finite y_min < y_max, got " + detail::plot_format("%g", o.y_min()) +
                                " and " + detail::plot_format("%g", o.y_max()));
  double xlo = INFINITY, xhi = -INFINITY;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size())
      throw std::invalid_argument(std::string(where) + ": series '" + s.name + "' has " + std::to_string(s.x.size()) +
                                  " x values and " + std::to_string(s.y.size()) + " y values");
    if (s.colour < 0) throw std::invalid_argument(std::string(where) + ": series '" + s.name + "' has a negative colour");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]))
        throw std::invalid_argument(std::string(where) + ": series '" + s.name + "' point " + std::to_string(i) +
                                    " is not finite (" + detail::plot_format("%g", s.x[i]) + ", " +
                                    detail::plot_format("%g", s.y[i]) + ")");
      if (s.y[i] < o.y_min() || s.y[i] > o.y_max())
        throw std::invalid_argument(std::string(where) + ": series '" + s.name + "' point " + std::to_string(i) + " has y = " +
                                    detail::plot_format("%g", s.y[i]) + ", outside [" + detail::plot_format("%g", o.y_min()) +
                                    ", " + detail::plot_format("%g", o.y_max()) + "]");
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
    }
  }
  if (!(xhi >= xlo)) throw std::invalid_argument(std::string(where) + ": no points to draw");
  if (xhi == xlo) xlo -= 0.5, xhi += 0.5;

  const std::int64_t s = o.font_scale(), th = canvas::text_height(s), gap = 3 * s, pad = o.padding();
  const std::int64_t m = o.marker_radius() + 2;
  std::vector<std::string> ticks;
  std::int64_t tick_w = 0;
  for (std::int64_t k = 0; k < o.y_ticks(); ++k) {
    ticks.push_back(detail::plot_format("%g", o.y_min() + (o.y_max() - o.y_min()) * static_cast<double>(k) /
                                                              static_cast<double>(o.y_ticks() - 1)));
    tick_w = std::max(tick_w, canvas::text_width(ticks.back(), s));
  }
  std::int64_t legend_w = 0;
  if (o.legend()) {
    for (const auto& sr : series) legend_w = std::max(legend_w, th + gap + canvas::text_width(sr.name, s));
    if (static_cast<std::int64_t>(series.size()) * (th + 2 * s) > o.height() - 2 * pad)
      throw std::invalid_argument(std::string(where) + ": a legend of " + std::to_string(series.size()) +
                                  " series does not fit in " + std::to_string(o.height()) + " pixels; raise height");
  }
  const std::int64_t fx0 = pad + tick_w + gap, fy0 = pad + th / 2;
  const std::int64_t fx1 = o.width() - 1 - pad - (o.legend() ? legend_w + 2 * gap : 0);
  const std::int64_t fy1 = o.height() - 1 - pad - (th + gap) - (o.x_title().empty() ? 0 : th + gap);
  const std::int64_t span_x = fx1 - fx0 - 2 * m, span_y = fy1 - fy0 - 2 * m;
  if (span_x < 1 || span_y < 1)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(o.width()) + "x" + std::to_string(o.height()) +
                                " leaves no room for the plot; raise width/height or lower padding and marker_radius");
  auto column = [&](double x) { return fx0 + m + std::lround((x - xlo) / (xhi - xlo) * static_cast<double>(span_x)); };
  auto row = [&](double y) {
    return fy1 - m - std::lround((y - o.y_min()) / (o.y_max() - o.y_min()) * static_cast<double>(span_y));
  };

  canvas cv(o.width(), o.height(), white);
  constexpr rgb grid{220, 220, 220};
  for (std::int64_t k = 0; k < o.y_ticks(); ++k) {
    const double y = o.y_min() + (o.y_max() - o.y_min()) * static_cast<double>(k) / static_cast<double>(o.y_ticks() - 1);
    cv.fill_rect(fx0 + 1, row(y), fx1 - fx0 - 1, 1, grid);
    cv.text(fx0 - gap - canvas::text_width(ticks[k], s), row(y) - th / 2, ticks[k], black, s);
  }
  cv.outline_rect(fx0, fy0, fx1 - fx0 + 1, fy1 - fy0 + 1, black);
  for (const auto& sr : series)
    for (std::size_t i = 1; i < sr.x.size(); ++i)
      cv.line(column(sr.x[i - 1]), row(sr.y[i - 1]), column(sr.x[i]), row(sr.y[i]), tab10(sr.colour), o.thickness());
  for (const auto& sr : series)
    for (std::size_t i = 0; i < sr.x.size(); ++i) cv.fill_disc(column(sr.x[i]), row(sr.y[i]), o.marker_radius(), tab10(sr.colour));
  const std::string xl = detail::plot_format("%g", xlo), xh = detail::plot_format("%g", xhi);
  cv.text(fx0, fy1 + gap, xl, black, s);
  cv.text(fx1 + 1 - canvas::text_width(xh, s), fy1 + gap, xh, black, s);
  if (!o.x_title().empty())
    cv.text((fx0 + fx1 - canvas::text_width(o.x_title(), s)) / 2, fy1 + 2 * gap + th, o.x_title(), black, s);
  if (o.legend())
    for (std::size_t k = 0; k < series.size(); ++k) {
      const std::int64_t lx = fx1 + 2 * gap, ly = fy0 + static_cast<std::int64_t>(k) * (th + 2 * s);
      cv.fill_rect(lx, ly, th, th, tab10(series[k].colour));
      cv.text(lx + th + gap, ly, series[k].name, black, s);
    }
  return cv.to_tensor();
}

}  // namespace cebm::eval
