#pragma once
/// @file
/// The definitions of plot.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/plot.hpp"

#include <tuple>
#include <utility>

#include "cebm/torch/eval/detail/plplot_page.hpp"

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


CEBM_INLINE bool plplot_available() {
#if CEBM_HAS_PLPLOT
  return detail::plplot_has_memcairo() && !detail::plplot_broken();
#else
  return false;
#endif
}

namespace detail {

/// Whether `backend` means PLplot here; plot_backend::plplot where PLplot cannot draw is an error.
inline bool use_plplot(plot_backend backend, const char* where) {
  if (backend == plot_backend::raster) return false;
  if (plplot_available()) return true;
  if (backend == plot_backend::plplot)
    throw std::runtime_error(std::string(where) + ": the PLplot backend was asked for, but " +
                             (CEBM_HAS_PLPLOT ? "PLplot lists no memcairo driver (Debian: plplot-driver-cairo) or failed "
                                                "earlier in this process"
                                              : "cebm was compiled without PLplot (CEBM_HAS_PLPLOT, config.hpp)"));
  return false;
}

/// Refuses class names that do not name `count` classes (`what` says what they should name).
inline void check_class_names(const std::vector<std::string>& names, std::int64_t count, const char* where,
                              const std::string& what) {
  if (!names.empty() && static_cast<std::int64_t>(names.size()) != count)
    throw std::invalid_argument(std::string(where) + ": class_names has " + std::to_string(names.size()) + " names for " +
                                what + " (" + std::to_string(count) + " classes)");
}

/// Class k's name, or its index without names.
inline std::string class_label(const std::vector<std::string>& names, std::int64_t k) {
  return names.empty() ? std::to_string(k) : names[static_cast<std::size_t>(k)];
}

/// An axis: its limits, and ticks inside them with their labels.
struct plot_axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

/// v with as many decimals as the tick step needs ("%g" for very large or small numbers).
inline std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0;  // no "-0.0"
  if (std::max(std::abs(v), step) >= 1e6 || step < 1e-5) return plot_format("%g", v);
  const double exponent = std::floor(std::log10(step) + 1e-9);
  const bool quarter = std::abs(step / std::pow(10.0, exponent) - 2.5) < 1e-6;  // 2.5 × 10^k needs one decimal more
  const int decimals = std::max(0, static_cast<int>(-exponent) + (quarter ? 1 : 0));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Ticks at the multiples of a step of 1, 2, 2.5 or 5 × 10^k in [lo, hi], the smallest such step
/// that makes at most about `target` intervals.
inline plot_axis nice_axis(double lo, double hi, std::int64_t target) {
  plot_axis a;
  a.lo = lo, a.hi = hi;
  const double raw = (hi - lo) / static_cast<double>(std::max<std::int64_t>(target, 1));
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * power;
  for (const double m : {1.0, 2.0, 2.5, 5.0})
    if (m * power >= raw * (1 - 1e-9)) {
      step = m * power;
      break;
    }
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    a.ticks.push_back(k * step);
    a.labels.push_back(tick_label(k * step, step));
  }
  return a;
}

/// [lo, hi] widened by `margin`·(hi − lo) each side; ±0.5 when lo = hi.
inline std::pair<double, double> widened(double lo, double hi, double margin) {
  const double span = hi - lo;
  if (span > 0) return {lo - margin * span, hi + margin * span};
  return {lo - 0.5, hi + 0.5};
}

#if CEBM_HAS_PLPLOT

inline page_colour pc(rgb c, double alpha = 1.0) { return {c.r, c.g, c.b, alpha}; }
inline constexpr rgb plot_grid_grey{225, 225, 225};

/// The text sizes of PLplot plots: capitals of labels, ticks and legends 10·s pixels high, of
/// titles 12·s, bold.
struct plplot_text_sizes {
  double label, title;
  explicit plplot_text_sizes(std::int64_t font_scale) : label(10.0 * font_scale), title(12.0 * font_scale) {}
};

/// The largest estimated width of `labels`.
inline double widest(const std::vector<std::string>& labels, double cap) {
  double w = 0;
  for (const auto& s : labels) w = std::max(w, plplot_page::text_width(s, cap));
  return w;
}

/// What surrounds the frame of a plot with axes.
struct axes_spec {
  std::int64_t width = 0, height = 0;
  double pad = 0, label = 10, title_size = 12;
  std::string title, x_title, y_title;
  double legend_width = 0;        ///< right of the frame; 0: no legend there
  std::int64_t legend_below = 0;  ///< rows of a legend under the axis titles instead
  double inset = 0;               ///< the axis limits this far inside the frame's inner edges
  bool ticks = true;
};

/// A laid-out frame: it covers pixels [x0, x1) × [y0, y1); its one-pixel outline is inside.
struct axes_frame {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0, inset = 0;
  double legend_y = 0;  ///< the top of a legend below
  plot_axis x, y;
  /// Data to pixel coordinates: the axis limits onto the centres of the pixels `inset` inside the
  /// outline.
  double to_x(double v) const { return x0 + 1.5 + inset + (v - x.lo) / (x.hi - x.lo) * (x1 - x0 - 3 - 2 * inset); }
  double to_y(double v) const { return y1 - 1.5 - inset - (v - y.lo) / (y.hi - y.lo) * (y1 - y0 - 3 - 2 * inset); }
};

/// The frame inside the margins that the title, the tick labels, the axis titles and the legend
/// need; y ticks as `y` gives them (or chosen when it has none), x ticks chosen to fit the width.
inline axes_frame layout_axes(const axes_spec& s, double xlo, double xhi, plot_axis y, const char* where) {
  const double t = s.label, tick = 0.45 * t, gap = 0.5 * t;
  const double top = s.pad + (s.title.empty() ? 0.0 : s.title_size + 0.9 * t) + 0.7 * t;
  const double under = (s.ticks ? tick + gap + 1.3 * t : 0.5 * t) + (s.x_title.empty() ? 0.0 : gap + 1.3 * t);
  const double bottom = s.pad + under + (s.legend_below > 0 ? 0.9 * t + static_cast<double>(s.legend_below) * 1.6 * t : 0.0);
  const double frame_h = std::floor(static_cast<double>(s.height) - top - bottom);
  auto no_room = [&] {
    return std::invalid_argument(std::string(where) + ": " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                                 " leaves no room for the plot; raise width/height or lower padding, font_scale or the legend's names");
  };
  if (frame_h < 3 + 2 * s.inset + 8) throw no_room();
  if (y.ticks.empty() && s.ticks)
    y = nice_axis(y.lo, y.hi, std::clamp<std::int64_t>(static_cast<std::int64_t>(frame_h / (3.5 * t)), 2, 8));
  const double left = s.pad + (s.y_title.empty() ? 0.0 : 1.3 * t + gap) + (s.ticks ? widest(y.labels, t) + gap + tick : 0.5 * t);
  const double right = s.pad + (s.legend_width > 0 ? 1.2 * t + s.legend_width : 1.5 * t);
  const double frame_w = std::floor(static_cast<double>(s.width) - left - right);
  if (frame_w < 3 + 2 * s.inset + 8) throw no_room();
  axes_frame f;
  f.x0 = std::ceil(left), f.y0 = std::ceil(top), f.x1 = f.x0 + frame_w, f.y1 = f.y0 + frame_h, f.inset = s.inset;
  f.legend_y = f.y1 + under + 0.9 * t;
  f.y = y;
  f.x.lo = xlo, f.x.hi = xhi;
  if (s.ticks)
    for (std::int64_t target = std::clamp<std::int64_t>(static_cast<std::int64_t>(frame_w / (7 * t)), 2, 8);; --target) {
      f.x = nice_axis(xlo, xhi, target);
      double used = 0;
      for (const auto& l : f.x.labels) used += plplot_page::text_width(l, t) + 1.5 * t;
      if (used <= frame_w || target <= 1) break;
    }
  return f;
}

/// The title, grid lines at the y ticks (when asked), the frame, the ticks with their labels and
/// the axis titles.
inline void draw_axes(plplot_page& page, const axes_frame& f, const axes_spec& s, bool y_grid) {
  const double t = s.label, tick = 0.45 * t, gap = 0.5 * t;
  const page_colour ink = pc(black);
  if (!s.title.empty()) {
    const double room = static_cast<double>(s.width) - 2 * s.pad;
    const double full = plplot_page::text_width(s.title, s.title_size, true);
    const double size = full > room ? std::max(0.6, room / full) * s.title_size : s.title_size;
    const double w = plplot_page::text_width(s.title, size, true);
    const double cx = std::clamp((f.x0 + f.x1) / 2, s.pad + w / 2, static_cast<double>(s.width) - s.pad - w / 2);
    page.text(cx, s.pad + 0.5 * s.title_size + 0.2 * t, s.title, size, 0.5, ink, false, true);
  }
  if (y_grid)
    for (const double v : f.y.ticks)
      page.fill_rect(f.x0 + 1, std::floor(f.to_y(v)), f.x1 - f.x0 - 2, 1, pc(plot_grid_grey));
  page.outline_rect(f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0, ink);
  if (s.ticks) {
    for (std::size_t k = 0; k < f.x.ticks.size(); ++k) {
      const double x = std::floor(f.to_x(f.x.ticks[k])) + 0.5;
      page.polyline({x, x}, {f.y1, f.y1 + tick}, ink, 1.0);
      page.text(x, f.y1 + tick + gap + 0.5 * t, f.x.labels[k], t, 0.5, ink);
    }
    for (std::size_t k = 0; k < f.y.ticks.size(); ++k) {
      const double y = std::floor(f.to_y(f.y.ticks[k])) + 0.5;
      page.polyline({f.x0 - tick, f.x0}, {y, y}, ink, 1.0);
      page.text(f.x0 - tick - gap, y, f.y.labels[k], t, 1.0, ink);
    }
  }
  if (!s.x_title.empty())
    page.text((f.x0 + f.x1) / 2, f.y1 + (s.ticks ? tick + gap + 1.3 * t : 0.5 * t) + gap + 0.5 * t, s.x_title, t, 0.5, ink);
  if (!s.y_title.empty()) page.text(s.pad + 0.65 * t, (f.y0 + f.y1) / 2, s.y_title, t, 0.5, ink, /*vertical=*/true);
}

/// Where a legend goes: right of the frame in one column, or below it in columns of `rows` (filled
/// column by column) `entry` pixels wide.
struct legend_place {
  double x = 0, y = 0, entry = 0;
  std::int64_t rows = 1;
  /// The top-left corner of entry k.
  std::pair<double, double> slot(std::size_t k, double t) const {
    const auto row = static_cast<std::int64_t>(k) % rows, column = static_cast<std::int64_t>(k) / rows;
    return {std::floor(x + static_cast<double>(column) * (entry + 2 * t)), std::floor(y + static_cast<double>(row) * 1.6 * t)};
  }
};

/// Puts a legend of `count` entries `entry` pixels wide right of the frame, or below it when
/// entries are wider than 30% of the image: in as many columns as fit.
inline void place_legend(axes_spec& s, std::size_t count, double entry) {
  if (entry <= 0.3 * static_cast<double>(s.width)) {
    s.legend_width = entry;
    return;
  }
  const double room = static_cast<double>(s.width) - 2 * s.pad - 6 * s.label;
  const auto columns = std::clamp<std::int64_t>(static_cast<std::int64_t>((room + 2 * s.label) / (entry + 2 * s.label)), 1,
                                                static_cast<std::int64_t>(count));
  s.legend_below = (static_cast<std::int64_t>(count) + columns - 1) / columns;
}

inline legend_place legend_of(const axes_spec& s, const axes_frame& f, std::size_t count, double entry) {
  legend_place p;
  p.entry = entry;
  if (s.legend_below > 0)
    p.x = f.x0, p.y = f.legend_y, p.rows = s.legend_below;
  else
    p.x = f.x1 + 1.2 * s.label, p.y = f.y0, p.rows = static_cast<std::int64_t>(count);
  return p;
}

/// A legend of square swatches, one per name.
inline void draw_legend(plplot_page& page, const legend_place& p, const std::vector<std::string>& names,
                        const std::vector<rgb>& colours, double t) {
  for (std::size_t k = 0; k < names.size(); ++k) {
    const auto [x, y] = p.slot(k, t);
    page.fill_rect(x, y, std::round(t), std::round(t), pc(colours[k]));
    page.text(x + 1.6 * t, y + 0.5 * std::round(t), names[k], t, 0.0, pc(black));
  }
}

/// A legend's entry: a swatch, a gap and the widest name.
inline double legend_width(const std::vector<std::string>& names, double t) { return 1.6 * t + widest(names, t); }

inline void check_legend_fits(std::size_t rows, const axes_spec& s, const axes_frame& f, const char* where, const char* what,
                              std::int64_t height) {
  if (s.legend_below == 0 && static_cast<double>(rows) * 1.6 * s.label > f.y1 - f.y0 + 0.6 * s.label)
    throw std::invalid_argument(std::string(where) + ": a legend of " + std::to_string(rows) + " " + what +
                                " does not fit in " + std::to_string(height) +
                                " pixels; raise height, lower font_scale or turn the legend off");
}

inline at::Tensor plplot_heatmap(const std::vector<double>& v, std::int64_t rows, std::int64_t cols, const heatmap_options& o) {
  constexpr const char* where = "cebm::eval::heatmap";
  const plplot_text_sizes sizes(o.font_scale());
  const double t = sizes.label, gap = 0.6 * t, m = static_cast<double>(o.margin());
  const double cell = static_cast<double>(o.cell());
  std::vector<std::string> row_labels, col_labels;
  if (o.show_indices()) {
    for (std::int64_t r = 0; r < rows; ++r) row_labels.push_back(class_label(o.class_names(), r));
    for (std::int64_t c = 0; c < cols; ++c) col_labels.push_back(class_label(o.class_names(), c));
  }
  const double row_w = widest(row_labels, t), col_w = widest(col_labels, t);
  const bool col_vertical = col_w > cell - 4;
  const std::int64_t row_stride = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(1.4 * t / cell)));
  const std::int64_t col_stride = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil((col_vertical ? 1.4 * t : col_w + gap) / cell)));

  const plot_axis bar = nice_axis(o.value_min(), o.value_max(), 5);
  const double bar_w = std::max(10.0, std::round(1.2 * t)), bar_tick = 0.4 * t;
  const double right = o.colorbar() ? 1.5 * t + bar_w + 1 + bar_tick + 0.3 * t + widest(bar.labels, t) : 0.0;
  const double title_w = plplot_page::text_width(o.title(), sizes.title, true);

  double top = m + (o.title().empty() ? 0.0 : sizes.title + t);
  if (o.colorbar()) top = std::max(top, m + 0.7 * t);  // half of the top bar label
  const double left = m + (o.row_title().empty() ? 0.0 : 1.3 * t + gap) + (o.show_indices() ? row_w + gap : 0.0);
  const double labels_below = o.show_indices() ? gap + (col_vertical ? col_w : 1.3 * t) : 0.0;
  double below = labels_below + (o.column_title().empty() ? 0.0 : gap + 1.3 * t);
  if (o.colorbar()) below = std::max(below, 0.7 * t);
  const std::int64_t gx = static_cast<std::int64_t>(std::ceil(left)), gy = static_cast<std::int64_t>(std::ceil(top));
  const std::int64_t grid_w = cols * o.cell(), grid_h = rows * o.cell();
  const double content_w = static_cast<double>(gx + grid_w) + right;
  const std::int64_t width = static_cast<std::int64_t>(std::ceil(
      std::max({content_w + m, title_w + 2 * m,
                static_cast<double>(gx) + plplot_page::text_width(o.column_title(), t) + m})));
  const std::int64_t height = static_cast<std::int64_t>(
      std::ceil(std::max(static_cast<double>(gy + grid_h) + below + m,
                         static_cast<double>(gy) + plplot_page::text_width(o.row_title(), t) + m)));

  plplot_page page(width, height, where);
  const page_colour ink = pc(black);
  auto colour = [&](double value) { return viridis((value - o.value_min()) / (o.value_max() - o.value_min())); };
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      page.fill_rect(static_cast<double>(gx + c * o.cell()), static_cast<double>(gy + r * o.cell()), cell, cell,
                     pc(colour(v[r * cols + c])));

  if (o.show_values()) {
    double size = 9.0 * o.value_font_scale(), widest_value = 0;
    for (double x : v) widest_value = std::max(widest_value, plplot_page::text_width(plot_format("%.2f", x), size));
    if (widest_value + 4 > cell) size *= (cell - 4) / widest_value;
    if (size >= 6 && 1.3 * size + 2 <= cell)
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
          const double x = v[r * cols + c];
          page.text(static_cast<double>(gx) + (static_cast<double>(c) + 0.5) * cell,
                    static_cast<double>(gy) + (static_cast<double>(r) + 0.5) * cell, plot_format("%.2f", x), size, 0.5,
                    pc(contrasting_text(colour(x))));
        }
  }
  if (o.show_indices()) {
    for (std::int64_t r = 0; r < rows; r += row_stride)
      page.text(static_cast<double>(gx) - gap, static_cast<double>(gy) + (static_cast<double>(r) + 0.5) * cell, row_labels[r], t,
                1.0, ink);
    for (std::int64_t c = 0; c < cols; c += col_stride) {
      const double x = static_cast<double>(gx) + (static_cast<double>(c) + 0.5) * cell, y = static_cast<double>(gy + grid_h) + gap;
      if (col_vertical)
        page.text(x, y, col_labels[c], t, 1.0, ink, /*vertical=*/true);
      else
        page.text(x, y + 0.5 * t, col_labels[c], t, 0.5, ink);
    }
  }
  if (!o.row_title().empty())
    page.text(m + 0.65 * t, static_cast<double>(gy) + 0.5 * static_cast<double>(grid_h), o.row_title(), t, 0.5, ink,
              /*vertical=*/true);
  if (!o.column_title().empty())
    page.text(static_cast<double>(gx) + 0.5 * static_cast<double>(grid_w),
              static_cast<double>(gy + grid_h) + labels_below + gap + 0.5 * t, o.column_title(), t, 0.5, ink);
  if (!o.title().empty()) {
    const double cx = std::clamp(static_cast<double>(gx) + 0.5 * static_cast<double>(grid_w), m + title_w / 2,
                                 static_cast<double>(width) - m - title_w / 2);
    page.text(cx, m + 0.5 * sizes.title + 0.2 * t, o.title(), sizes.title, 0.5, ink, false, true);
  }
  if (o.colorbar()) {
    const double bx = std::round(static_cast<double>(gx + grid_w) + 1.5 * t);
    for (std::int64_t y = 0; y < grid_h; ++y)
      page.fill_rect(bx, static_cast<double>(gy + y), bar_w, 1,
                     pc(viridis(grid_h == 1 ? 1.0 : 1.0 - static_cast<double>(y) / static_cast<double>(grid_h - 1))));
    page.outline_rect(bx - 1, static_cast<double>(gy) - 1, bar_w + 2, static_cast<double>(grid_h) + 2, ink);
    for (std::size_t k = 0; k < bar.ticks.size(); ++k) {
      const double u = (bar.ticks[k] - o.value_min()) / (o.value_max() - o.value_min());
      const double y = std::floor(static_cast<double>(gy) + (1 - u) * static_cast<double>(grid_h - 1)) + 0.5;
      page.polyline({bx + bar_w + 1, bx + bar_w + 1 + bar_tick}, {y, y}, ink, 1.0);
      page.text(bx + bar_w + 1 + bar_tick + 0.3 * t, y, bar.labels[k], t, 0.0, ink);
    }
  }
  return page.finish();
}

inline at::Tensor plplot_scatter(const std::vector<double>& xy, const std::int64_t* l, std::int64_t n, std::int64_t k,
                                 const double lo[2], const double hi[2], const scatter_options& o) {
  constexpr const char* where = "cebm::eval::scatter";
  const plplot_text_sizes sizes(o.font_scale());
  const double t = sizes.label;
  std::vector<std::string> names;
  std::vector<rgb> colours;
  for (std::int64_t c = 0; c < k; ++c) names.push_back(class_label(o.class_names(), c)), colours.push_back(tab10(c));
  axes_spec s;
  s.width = o.width(), s.height = o.height(), s.pad = static_cast<double>(o.padding()), s.label = t, s.title_size = sizes.title;
  s.title = o.title(), s.x_title = o.x_title(), s.y_title = o.y_title();
  if (o.legend()) place_legend(s, names.size(), legend_width(names, t));
  s.inset = static_cast<double>(o.marker_radius()) + 1;
  s.ticks = o.show_limits();
  plot_axis y_axis;
  y_axis.lo = lo[1], y_axis.hi = hi[1];
  const axes_frame f = layout_axes(s, lo[0], hi[0], y_axis, where);
  if (o.legend()) check_legend_fits(names.size(), s, f, where, "classes", o.height());

  plplot_page page(o.width(), o.height(), where);
  draw_axes(page, f, s, /*y_grid=*/false);
  const double r = static_cast<double>(o.marker_radius()) + 0.5;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = f.to_x(xy[2 * i]), y = f.to_y(xy[2 * i + 1]);
    const page_colour c = pc(tab10(l[i]), o.marker_opacity());
    if (o.marker() == marker_shape::disc)
      page.disc(x, y, r, c);
    else
      page.fill_rect(x - r, y - r, 2 * r, 2 * r, c);
  }
  if (o.legend()) draw_legend(page, legend_of(s, f, names.size(), legend_width(names, t)), names, colours, t);
  return page.finish();
}

inline at::Tensor plplot_line_chart(const std::vector<line_series>& series, double xlo, double xhi,
                                    const line_chart_options& o) {
  constexpr const char* where = "cebm::eval::line_chart";
  const plplot_text_sizes sizes(o.font_scale());
  const double t = sizes.label;
  std::vector<std::string> names;
  for (const auto& sr : series) names.push_back(sr.name);
  axes_spec s;
  s.width = o.width(), s.height = o.height(), s.pad = static_cast<double>(o.padding()), s.label = t, s.title_size = sizes.title;
  s.title = o.title(), s.x_title = o.x_title(), s.y_title = o.y_title();
  const double entry = 2.8 * t + widest(names, t);
  if (o.legend()) place_legend(s, names.size(), entry);
  s.inset = static_cast<double>(o.marker_radius()) + 1;
  plot_axis y_axis;
  y_axis.lo = o.y_min(), y_axis.hi = o.y_max();
  for (std::int64_t k = 0; k < o.y_ticks(); ++k) {
    const double v = o.y_min() + (o.y_max() - o.y_min()) * static_cast<double>(k) / static_cast<double>(o.y_ticks() - 1);
    y_axis.ticks.push_back(v), y_axis.labels.push_back(plot_format("%g", v));
  }
  const axes_frame f = layout_axes(s, xlo, xhi, y_axis, where);
  if (o.legend()) check_legend_fits(series.size(), s, f, where, "series", o.height());

  plplot_page page(o.width(), o.height(), where);
  draw_axes(page, f, s, /*y_grid=*/true);
  const double r = static_cast<double>(o.marker_radius()) + 0.5, thickness = static_cast<double>(o.thickness());
  for (const auto& sr : series) {
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < sr.x.size(); ++i) xs.push_back(f.to_x(sr.x[i])), ys.push_back(f.to_y(sr.y[i]));
    page.polyline(xs, ys, pc(tab10(sr.colour)), thickness);
  }
  for (const auto& sr : series)
    for (std::size_t i = 0; i < sr.x.size(); ++i) page.disc(f.to_x(sr.x[i]), f.to_y(sr.y[i]), r, pc(tab10(sr.colour)));
  const legend_place place = legend_of(s, f, series.size(), entry);
  if (o.legend())
    for (std::size_t k = 0; k < series.size(); ++k) {
      const auto [x, top] = place.slot(k, t);
      const double y = top + 0.5 * std::round(t);
      const page_colour c = pc(tab10(series[k].colour));
      page.polyline({x, x + 2.2 * t}, {y, y}, c, std::max(thickness, 3.0));
      page.disc(x + 1.1 * t, y, r, c);
      page.text(x + 2.8 * t, y, series[k].name, t, 0.0, pc(black));
    }
  return page.finish();
}

inline at::Tensor plplot_histogram(const std::vector<histogram_series>& series, const std::vector<std::vector<double>>& heights,
                                   double lo, double hi, double top, const histogram_options& o) {
  constexpr const char* where = "cebm::eval::histogram";
  const plplot_text_sizes sizes(o.font_scale());
  const double t = sizes.label;
  std::vector<std::string> names;
  std::vector<rgb> colours;
  for (const auto& sr : series) names.push_back(sr.name), colours.push_back(tab10(sr.colour));
  axes_spec s;
  s.width = o.width(), s.height = o.height(), s.pad = static_cast<double>(o.padding()), s.label = t, s.title_size = sizes.title;
  s.title = o.title(), s.x_title = o.x_title(), s.y_title = o.y_title();
  if (o.legend()) place_legend(s, names.size(), legend_width(names, t));
  plot_axis y_axis;
  y_axis.lo = 0, y_axis.hi = top;
  const axes_frame f = layout_axes(s, lo, hi, y_axis, where);
  if (o.legend()) check_legend_fits(series.size(), s, f, where, "series", o.height());

  plplot_page page(o.width(), o.height(), where);
  draw_axes(page, f, s, /*y_grid=*/true);
  const std::int64_t bins = o.bins();
  for (std::size_t k = 0; k < series.size(); ++k) {
    // The outline: along the bins' tops, down to zero at both ends.
    std::vector<double> xs{f.to_x(lo)}, ys{f.to_y(0)};
    for (std::int64_t b = 0; b < bins; ++b) {
      const double y = f.to_y(heights[k][b]);
      xs.push_back(f.to_x(lo + (hi - lo) * static_cast<double>(b) / static_cast<double>(bins))), ys.push_back(y);
      xs.push_back(f.to_x(lo + (hi - lo) * static_cast<double>(b + 1) / static_cast<double>(bins))), ys.push_back(y);
    }
    xs.push_back(f.to_x(hi)), ys.push_back(f.to_y(0));
    if (o.opacity() > 0) page.polygon(xs, ys, pc(colours[k], o.opacity()));
    page.polyline(xs, ys, pc(colours[k]), 1.5);
  }
  page.outline_rect(f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0, pc(black));  // over the fills' edges
  if (o.legend()) draw_legend(page, legend_of(s, f, names.size(), legend_width(names, t)), names, colours, t);
  return page.finish();
}

#endif  // CEBM_HAS_PLPLOT

/// The raster fallback's legend width (0 without a legend); refuses a legend taller than the height
/// left after `reserved` pixels (padding and title).
template <class Series, class Options>
std::int64_t raster_legend_width(const std::vector<Series>& series, const Options& o, const char* where, std::int64_t th,
                                 std::int64_t gap, std::int64_t s, std::int64_t reserved) {
  std::int64_t width = 0;
  if (!o.legend()) return width;
  for (const auto& sr : series) width = std::max(width, th + gap + canvas::text_width(sr.name, s));
  if (static_cast<std::int64_t>(series.size()) * (th + 2 * s) > o.height() - reserved)
    throw std::invalid_argument(std::string(where) + ": a legend of " + std::to_string(series.size()) +
                                " series does not fit in " + std::to_string(o.height()) + " pixels; raise height");
  return width;
}

/// The raster fallback's x-axis title under the frame [fx0, fx1] × [fy0, fy1] and its legend to the
/// right (line charts and histograms: series with a name and a colour).
template <class Series, class Options>
void raster_x_title_and_legend(canvas& cv, const std::vector<Series>& series, const Options& o, std::int64_t fx0,
                               std::int64_t fx1, std::int64_t fy0, std::int64_t fy1, std::int64_t gap, std::int64_t th,
                               std::int64_t s) {
  if (!o.x_title().empty())
    cv.text((fx0 + fx1 - canvas::text_width(o.x_title(), s)) / 2, fy1 + 2 * gap + th, o.x_title(), black, s);
  if (o.legend())
    for (std::size_t k = 0; k < series.size(); ++k) {
      const std::int64_t lx = fx1 + 2 * gap, ly = fy0 + static_cast<std::int64_t>(k) * (th + 2 * s);
      cv.fill_rect(lx, ly, th, th, tab10(series[k].colour));
      cv.text(lx + th + gap, ly, series[k].name, black, s);
    }
}

}  // namespace detail

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
  const std::int64_t rows = matrix.size(0), cols = matrix.size(1);
  if (!o.class_names().empty() && rows != cols)
    throw std::invalid_argument(std::string(where) + ": class_names name the rows and the columns, but the matrix is " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  detail::check_class_names(o.class_names(), rows, where,
                            "a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix");
  const std::vector<double> v = detail::plot_finite_values(matrix, where, "matrix");
#if CEBM_HAS_PLPLOT
  if (detail::use_plplot(o.backend(), where)) return detail::plplot_heatmap(v, rows, cols, o);
#else
  detail::use_plplot(o.backend(), where);
#endif
  const std::int64_t cell = o.cell(), s = o.font_scale();
  const std::int64_t gap = 3 * s, th = canvas::text_height(s);

  std::vector<std::string> row_labels, col_labels;
  std::int64_t index_width = 0, col_widest = 0;
  if (o.show_indices()) {
    for (std::int64_t r = 0; r < rows; ++r) {
      row_labels.push_back(detail::class_label(o.class_names(), r));
      index_width = std::max(index_width, canvas::text_width(row_labels.back(), s));
    }
    for (std::int64_t c = 0; c < cols; ++c) {
      col_labels.push_back(detail::class_label(o.class_names(), c));
      col_widest = std::max(col_widest, canvas::text_width(col_labels.back(), s));
    }
    index_width += gap;
  }
  const std::int64_t row_title_width = o.row_title().empty() ? 0 : th + gap;
  const std::int64_t title_height = o.title().empty() ? 0 : th + gap;
  const std::int64_t below = (o.show_indices() ? gap + th : 0) + (o.column_title().empty() ? 0 : gap + th);
  const std::string bar_lo = detail::plot_format("%.2f", o.value_min()), bar_hi = detail::plot_format("%.2f", o.value_max());
  const std::int64_t bar_width = 4 * s + 8;
  const std::int64_t right = o.colorbar()
                                 ? 2 * gap + bar_width + gap + std::max(canvas::text_width(bar_lo, s), canvas::text_width(bar_hi, s))
                                 : 0;
  // Titles longer than the grid widen the image rather than being cut.
  const std::int64_t gx = o.margin() + row_title_width + index_width, gy = o.margin() + title_height;
  const std::int64_t grid_w = cols * cell, grid_h = rows * cell;
  const std::int64_t width = std::max({gx + grid_w + right, gx + canvas::text_width(o.column_title(), s),
                                       o.margin() + canvas::text_width(o.title(), s)}) +
                             o.margin();
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
    // Every k-th label, k the smallest stride at which neighbouring labels keep a gap.
    const std::int64_t col_stride = (col_widest + gap + cell - 1) / cell, row_stride = (th + s + cell - 1) / cell;
    for (std::int64_t r = 0; r < rows; r += row_stride)
      cv.text(gx - gap - canvas::text_width(row_labels[r], s), gy + r * cell + (cell - th) / 2, row_labels[r], black, s);
    for (std::int64_t c = 0; c < cols; c += col_stride)
      cv.text(gx + c * cell + (cell - canvas::text_width(col_labels[c], s)) / 2, gy + grid_h + gap, col_labels[c], black, s);
  }
  if (!o.title().empty()) {
    const std::int64_t len = canvas::text_width(o.title(), s);
    cv.text(std::clamp(gx + (grid_w - len) / 2, o.margin(), width - o.margin() - len), o.margin(), o.title(), black, s);
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
  if (!(o.marker_opacity() > 0 && o.marker_opacity() <= 1))
    throw std::invalid_argument(std::string(where) + ": marker_opacity must be in (0, 1], got " +
                                detail::plot_format("%g", o.marker_opacity()));
  // The classes: as set, else as many as named, else max label + 1.
  const std::int64_t named = static_cast<std::int64_t>(o.class_names().size());
  const std::int64_t bound = o.classes() > 0 ? o.classes() : named;
  if (o.classes() > 0) detail::check_class_names(o.class_names(), o.classes(), where, "classes(" + std::to_string(o.classes()) + ")");
  const std::vector<double> xy = detail::plot_finite_values(points, where, "points");
  const at::Tensor lab = labels.detach().to(at::kCPU).contiguous();
  const std::int64_t n = points.size(0), *l = lab.data_ptr<std::int64_t>();
  std::int64_t max_label = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    if (l[i] < 0 || (bound > 0 && l[i] >= bound))
      throw std::invalid_argument(std::string(where) + ": label " + std::to_string(i) + " is " + std::to_string(l[i]) +
                                  ", outside [0, " + (bound > 0 ? std::to_string(bound) : std::string("inf")) + ")" +
                                  (o.classes() == 0 && named > 0 ? " (the classes that class_names names)" : ""));
    max_label = std::max(max_label, l[i]);
  }
  const std::int64_t k = bound > 0 ? bound : max_label + 1;

  double lo[2], hi[2];
  for (int d = 0; d < 2; ++d) {
    lo[d] = hi[d] = xy[d];
    for (std::int64_t i = 0; i < n; ++i) lo[d] = std::min(lo[d], xy[2 * i + d]), hi[d] = std::max(hi[d], xy[2 * i + d]);
    std::tie(lo[d], hi[d]) = detail::widened(lo[d], hi[d], o.margin());
  }
#if CEBM_HAS_PLPLOT
  if (detail::use_plplot(o.backend(), where)) return detail::plplot_scatter(xy, l, n, k, lo, hi, o);
#else
  detail::use_plplot(o.backend(), where);
#endif

  const std::int64_t s = o.font_scale(), th = canvas::text_height(s), gap = 3 * s, pad = o.padding();
  const std::int64_t r = o.marker_radius();
  const std::int64_t title_height = o.title().empty() ? 0 : th + gap;
  std::int64_t legend_w = 0;
  if (o.legend()) {
    std::int64_t names_w = 0;
    for (std::int64_t c = 0; c < k; ++c) names_w = std::max(names_w, canvas::text_width(detail::class_label(o.class_names(), c), s));
    legend_w = th + gap + names_w;
    if (k * (th + 2 * s) > o.height() - 2 * pad - title_height)
      throw std::invalid_argument(std::string(where) + ": a legend of " + std::to_string(k) + " classes does not fit in " +
                                  std::to_string(o.height()) + " pixels; raise height or turn the legend off");
  }
  const std::string xlo = detail::plot_format("%.3g", lo[0]), xhi = detail::plot_format("%.3g", hi[0]);
  const std::string ylo = detail::plot_format("%.3g", lo[1]), yhi = detail::plot_format("%.3g", hi[1]);
  const std::int64_t ylabel_w =
      o.show_limits() ? std::max(canvas::text_width(ylo, s), canvas::text_width(yhi, s)) + gap : 0;
  const std::int64_t fx0 = pad + ylabel_w, fy0 = pad + title_height;
  const std::int64_t fx1 = o.width() - 1 - pad - (o.legend() ? legend_w + 2 * gap : 0);
  const std::int64_t fy1 = o.height() - 1 - pad - (o.show_limits() ? th + gap : 0);
  const std::int64_t span_x = fx1 - fx0 - 2 * r - 4, span_y = fy1 - fy0 - 2 * r - 4;
  if (span_x < 1 || span_y < 1)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(o.width()) + "x" + std::to_string(o.height()) +
                                " leaves no room for the plot; raise width/height or lower padding and marker_radius");

  canvas cv(o.width(), o.height(), white);
  if (!o.title().empty()) cv.text(std::max(pad, (fx0 + fx1 - canvas::text_width(o.title(), s)) / 2), pad, o.title(), black, s);
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
      cv.text(lx + th + gap, ly, detail::class_label(o.class_names(), c), black, s);
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
#if CEBM_HAS_PLPLOT
  if (detail::use_plplot(o.backend(), where)) return detail::plplot_line_chart(series, xlo, xhi, o);
#else
  detail::use_plplot(o.backend(), where);
#endif

  const std::int64_t s = o.font_scale(), th = canvas::text_height(s), gap = 3 * s, pad = o.padding();
  const std::int64_t m = o.marker_radius() + 2;
  const std::int64_t title_height = o.title().empty() ? 0 : th + gap;
  std::vector<std::string> ticks;
  std::int64_t tick_w = 0;
  for (std::int64_t k = 0; k < o.y_ticks(); ++k) {
    ticks.push_back(detail::plot_format("%g", o.y_min() + (o.y_max() - o.y_min()) * static_cast<double>(k) /
                                                              static_cast<double>(o.y_ticks() - 1)));
    tick_w = std::max(tick_w, canvas::text_width(ticks.back(), s));
  }
  const std::int64_t legend_w = detail::raster_legend_width(series, o, where, th, gap, s, pad + pad + title_height);
  const std::int64_t fx0 = pad + tick_w + gap, fy0 = pad + title_height + th / 2;
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
  if (!o.title().empty()) cv.text(std::max(pad, (fx0 + fx1 - canvas::text_width(o.title(), s)) / 2), pad, o.title(), black, s);
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
  detail::raster_x_title_and_legend(cv, series, o, fx0, fx1, fy0, fy1, gap, th, s);
  return cv.to_tensor();
}

CEBM_INLINE at::Tensor histogram(const std::vector<histogram_series>& series, const histogram_options& o) {
  constexpr const char* where = "cebm::eval::histogram";
  if (series.empty()) throw std::invalid_argument(std::string(where) + ": no series to draw");
  if (o.bins() < 1 || o.font_scale() < 1 || o.padding() < 0)
    throw std::invalid_argument(std::string(where) + ": bins and font_scale must be >= 1 and padding >= 0");
  if (!(o.tail() >= 0 && o.tail() < 0.5) || !(o.opacity() >= 0 && o.opacity() <= 1))
    throw std::invalid_argument(std::string(where) + ": tail must be in [0, 0.5) and opacity in [0, 1], got " +
                                detail::plot_format("%g", o.tail()) + " and " + detail::plot_format("%g", o.opacity()));
  const bool fixed = std::isfinite(o.value_min()) && std::isfinite(o.value_max());
  if (fixed && !(o.value_max() > o.value_min()))
    throw std::invalid_argument(std::string(where) + ": need value_min < value_max, got " +
                                detail::plot_format("%g", o.value_min()) + " and " + detail::plot_format("%g", o.value_max()));
  std::vector<std::vector<double>> values;
  std::vector<double> pooled;
  for (const auto& sr : series) {
    const std::string what = "the values of series '" + sr.name + "'";
    if (!sr.values.defined() || sr.values.dim() != 1 || sr.values.numel() == 0)
      throw std::invalid_argument(std::string(where) + ": " + what + " must be a non-empty 1-D tensor, got " +
                                  (sr.values.defined() ? std::string(c10::str(sr.values.sizes())) : std::string("undefined")));
    if (sr.values.is_complex() || sr.values.scalar_type() == at::kBool)
      throw std::invalid_argument(std::string(where) + ": " + what + " must be real numbers, got " +
                                  c10::toString(sr.values.scalar_type()));
    if (sr.colour < 0) throw std::invalid_argument(std::string(where) + ": series '" + sr.name + "' has a negative colour");
    values.push_back(detail::plot_finite_values(sr.values, where, what.c_str()));
    pooled.insert(pooled.end(), values.back().begin(), values.back().end());
  }
  // The range: as set, else the pooled values' quantiles (nearest rank).
  double lo = o.value_min(), hi = o.value_max();
  if (!fixed) {
    std::sort(pooled.begin(), pooled.end());
    const auto rank = [&](double q) {
      return pooled[static_cast<std::size_t>(std::llround(q * static_cast<double>(pooled.size() - 1)))];
    };
    std::tie(lo, hi) = pooled.front() == pooled.back() ? detail::widened(pooled.front(), pooled.back(), 0.0)
                                                       : std::pair<double, double>(rank(o.tail()), rank(1 - o.tail()));
  }
  const std::int64_t bins = o.bins();
  const double bin_width = (hi - lo) / static_cast<double>(bins);
  std::vector<std::vector<double>> heights(series.size(), std::vector<double>(static_cast<std::size_t>(bins), 0.0));
  double top = 0;
  for (std::size_t k = 0; k < series.size(); ++k) {
    for (const double x : values[k]) {
      if (x < lo || x > hi) continue;
      heights[k][static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>((x - lo) / bin_width), bins - 1))] += 1;
    }
    if (o.density())
      for (double& h : heights[k]) h /= static_cast<double>(values[k].size()) * bin_width;
    for (const double h : heights[k]) top = std::max(top, h);
  }
  top = top > 0 ? 1.05 * top : 1.0;
#if CEBM_HAS_PLPLOT
  if (detail::use_plplot(o.backend(), where)) return detail::plplot_histogram(series, heights, lo, hi, top, o);
#else
  detail::use_plplot(o.backend(), where);
#endif

  // The raster: outlines of each series' bars, the limits at the frame's ends.
  const std::int64_t s = o.font_scale(), th = canvas::text_height(s), gap = 3 * s, pad = o.padding();
  const std::int64_t title_height = o.title().empty() ? 0 : th + gap;
  const std::int64_t legend_w = detail::raster_legend_width(series, o, where, th, gap, s, pad + pad + title_height);
  const std::string xl = detail::plot_format("%.3g", lo), xh = detail::plot_format("%.3g", hi);
  const std::string yl = "0", yh = detail::plot_format("%.3g", top);
  const std::int64_t ylabel_w = std::max(canvas::text_width(yl, s), canvas::text_width(yh, s)) + gap;
  const std::int64_t fx0 = pad + ylabel_w, fy0 = pad + title_height;
  const std::int64_t fx1 = o.width() - 1 - pad - (o.legend() ? legend_w + 2 * gap : 0);
  const std::int64_t fy1 = o.height() - 1 - pad - (th + gap) - (o.x_title().empty() ? 0 : th + gap);
  if (fx1 - fx0 < 4 || fy1 - fy0 < 4)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(o.width()) + "x" + std::to_string(o.height()) +
                                " leaves no room for the plot; raise width/height or lower padding");
  auto column = [&](double x) { return fx0 + 1 + std::lround((x - lo) / (hi - lo) * static_cast<double>(fx1 - fx0 - 2)); };
  auto row = [&](double y) { return fy1 - 1 - std::lround(y / top * static_cast<double>(fy1 - fy0 - 2)); };

  canvas cv(o.width(), o.height(), white);
  if (!o.title().empty()) cv.text(std::max(pad, (fx0 + fx1 - canvas::text_width(o.title(), s)) / 2), pad, o.title(), black, s);
  cv.outline_rect(fx0, fy0, fx1 - fx0 + 1, fy1 - fy0 + 1, black);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const rgb c = tab10(series[k].colour);
    std::int64_t x = column(lo), y = row(0);
    for (std::int64_t b = 0; b < bins; ++b) {
      const std::int64_t yb = row(heights[k][b]), xb = column(lo + bin_width * static_cast<double>(b + 1));
      cv.line(x, y, x, yb, c), cv.line(x, yb, xb, yb, c);
      x = xb, y = yb;
    }
    cv.line(x, y, x, row(0), c);
  }
  cv.text(fx0, fy1 + gap, xl, black, s);
  cv.text(fx1 + 1 - canvas::text_width(xh, s), fy1 + gap, xh, black, s);
  cv.text(fx0 - gap - canvas::text_width(yh, s), fy0, yh, black, s);
  cv.text(fx0 - gap - canvas::text_width(yl, s), fy1 + 1 - th, yl, black, s);
  detail::raster_x_title_and_legend(cv, series, o, fx0, fx1, fy0, fy1, gap, th, s);
  return cv.to_tensor();
}

}  // namespace cebm::eval
