#pragma once
/// @file
/// The evaluation report's plots: a heat map (a row-normalised confusion matrix), a scatter plot of
/// labelled 2-D points (a PCA projection of the latent codes), a line chart (a learning curve) and
/// overlaid histograms (OOD scores of in- and out-of-distribution data), each returned as a uint8
/// image [3, H, W] for `cebm::data::write_png`.
///
/// Two backends draw them, chosen by every options struct's `backend`:
///   PLplot   (CEBM_HAS_PLPLOT, config.hpp) through its cairo memory driver: antialiased lines and
///            text in the system's sans-serif font, with a title, axis titles, tick labels, class
///            names on the axes or in a legend (detail/plplot_page.hpp: locking, silence, errors).
///   raster   drawn here by hand, without a plotting library, on `canvas`: an RGB pixel buffer
///            with filled rectangles, discs, lines and text in a 5×7 bitmap font scaled by an
///            integer factor (a glyph covers 5s × 7s pixels and advances 6s). The glyphs are the
///            classic 5×7 dot-matrix shapes of the Hitachi HD44780 character ROM: digits, A–Z, a–z
///            and ` .,:;-+=_/()%#'`. Any other character is refused, naming it, rather than
///            silently dropped. Its layouts are exact to the pixel (documented per plot); axis
///            titles other than those documented are not drawn.
/// `plot_backend::automatic`, the default, is PLplot where `plplot_available()`, else the raster.
///
/// Colours:
///   `viridis(t)`  matplotlib's perceptually uniform sequential map (van der Walt & Smith, 2015),
///                 piecewise linear in sRGB through 33 of its 256 entries (matplotlib
///                 `lib/matplotlib/_cm_listed.py`, `_viridis_data[i]` for i = 0, 8, 16, …, 248, 255,
///                 placed at t = i/255): t = i/255 reproduces those entries exactly, and every other
///                 entry to within 2/255 per channel (9 anchors would be 17/255 off where blue
///                 turns, near t = 0.95). CIE L* rises monotonically from 15 (t = 0) to 91 (t = 1),
///                 by at least 0.27 per 1/255 before rounding to bytes.
///   `tab10(k)`    matplotlib's 10-colour categorical palette (Tableau 10); class k takes colour
///                 k mod 10, so classes 10 apart share a colour.
///
/// Inputs are read once to host doubles (the pixels need them), so the finiteness checks cost no
/// extra synchronisation and always run; errors are std::invalid_argument naming the function, the
/// argument, what was expected and what came (std::runtime_error for PLplot's own failures).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"

namespace cebm::eval {

/// An 8-bit sRGB colour.
struct rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const rgb& x, const rgb& y) { return x.r == y.r && x.g == y.g && x.b == y.b; }
  friend bool operator!=(const rgb& x, const rgb& y) { return !(x == y); }
};

inline constexpr rgb white{255, 255, 255};
inline constexpr rgb black{0, 0, 0};

namespace detail {

/// Rows of a 5×7 glyph, top first; bit 4 is the leftmost column. Zero rows for an unknown glyph is
/// told apart from the space by the return flag.
CEBM_INLINE bool plot_glyph(char c, std::array<std::uint8_t, 7>& rows);

/// "%.2f" etc. without iostreams.
CEBM_INLINE std::string plot_format(const char* fmt, double v);

/// A tensor's values as host doubles, refusing non-finite ones (the culprit's index is named).
CEBM_INLINE std::vector<double> plot_finite_values(const at::Tensor& t, const char* where, const char* what);

/// sRGB byte → linear light (IEC 61966-2-1).
CEBM_INLINE double srgb_to_linear(std::uint8_t c);

}  // namespace detail

/// matplotlib's viridis at t ∈ [0, 1] (clamped; NaN → 0; see the file comment for the anchors).
CEBM_INLINE rgb viridis(double t);

/// matplotlib's tab10 colour of class k (k mod 10; k ≥ 0).
CEBM_INLINE rgb tab10(std::int64_t k);

/// Black or white, whichever contrasts more with `background`: black when its relative luminance
/// (WCAG 2: 0.2126 R + 0.7152 G + 0.0722 B in linear light) exceeds 0.179, where the two contrast
/// ratios (L + 0.05)/0.05 and 1.05/(L + 0.05) are equal.
CEBM_INLINE rgb contrasting_text(rgb background);

/// An RGB raster; (x, y) = (column, row) from the top-left corner. Drawing outside is clipped.
class canvas {
 public:
  canvas(std::int64_t width, std::int64_t height, rgb background = white) : w_(width), h_(height) {
    if (width <= 0 || height <= 0)
      throw std::invalid_argument("cebm::eval::canvas: width and height must be > 0, got " + std::to_string(width) +
                                  "x" + std::to_string(height));
    pixels_.assign(static_cast<std::size_t>(3 * w_ * h_), 0);
    fill_rect(0, 0, w_, h_, background);
  }

  std::int64_t width() const { return w_; }
  std::int64_t height() const { return h_; }

  void set(std::int64_t x, std::int64_t y, rgb c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    const std::size_t i = static_cast<std::size_t>(y * w_ + x), plane = static_cast<std::size_t>(w_ * h_);
    pixels_[i] = c.r, pixels_[plane + i] = c.g, pixels_[2 * plane + i] = c.b;
  }
  rgb get(std::int64_t x, std::int64_t y) const {
    if (x < 0 || y < 0 || x >= w_ || y >= h_)
      throw std::out_of_range("cebm::eval::canvas::get: (" + std::to_string(x) + ", " + std::to_string(y) +
                              ") is outside " + std::to_string(w_) + "x" + std::to_string(h_));
    const std::size_t i = static_cast<std::size_t>(y * w_ + x), plane = static_cast<std::size_t>(w_ * h_);
    return {pixels_[i], pixels_[plane + i], pixels_[2 * plane + i]};
  }

  void fill_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, rgb c) {
    for (std::int64_t j = std::max<std::int64_t>(y, 0); j < std::min(y + h, h_); ++j)
      for (std::int64_t i = std::max<std::int64_t>(x, 0); i < std::min(x + w, w_); ++i) set(i, j, c);
  }
  /// A one-pixel outline of the rectangle [x, x + w) × [y, y + h).
  void outline_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, rgb c) {
    fill_rect(x, y, w, 1, c), fill_rect(x, y + h - 1, w, 1, c);
    fill_rect(x, y, 1, h, c), fill_rect(x + w - 1, y, 1, h, c);
  }
  /// (cx, cy) and the pixels with dx² + dy² < r(r + 1) around it: a disc that looks round at small
  /// r (r = 0 is one pixel, r = 1 a plus, r = 2 a 5×5 square without its corners).
  void fill_disc(std::int64_t cx, std::int64_t cy, std::int64_t r, rgb c) {
    set(cx, cy, c);
    for (std::int64_t dy = -r; dy <= r; ++dy)
      for (std::int64_t dx = -r; dx <= r; ++dx)
        if (dx * dx + dy * dy < r * (r + 1)) set(cx + dx, cy + dy, c);
  }

  /// The segment from (x0, y0) to (x1, y1), both ends included (Bresenham), each point a
  /// `thickness`-pixel square centred on it (its top-left when the thickness is even).
  void line(std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1, rgb c, std::int64_t thickness = 1) {
    const std::int64_t dx = x1 > x0 ? x1 - x0 : x0 - x1, dy = y1 > y0 ? y0 - y1 : y1 - y0;
    const std::int64_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, half = (thickness - 1) / 2;
    for (std::int64_t err = dx + dy;;) {
      fill_rect(x0 - half, y0 - half, thickness, thickness, c);
      if (x0 == x1 && y0 == y1) return;
      const std::int64_t e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }

  static std::int64_t text_width(const std::string& s, std::int64_t scale = 1) {
    return s.empty() ? 0 : (6 * static_cast<std::int64_t>(s.size()) - 1) * scale;
  }
  static std::int64_t text_height(std::int64_t scale = 1) { return 7 * scale; }

  /// `s` with its top-left corner at (x, y); `vertical` turns it 90° anticlockwise, so it reads
  /// bottom to top with (x, y) the top-left of the turned block (text_height wide, text_width tall).
  void text(std::int64_t x, std::int64_t y, const std::string& s, rgb c, std::int64_t scale = 1, bool vertical = false) {
    if (scale < 1) throw std::invalid_argument("cebm::eval::canvas::text: scale must be >= 1, got " + std::to_string(scale));
    const std::int64_t length = text_width(s, scale);
    for (std::size_t k = 0; k < s.size(); ++k) {
      std::array<std::uint8_t, 7> rows{};
      if (!detail::plot_glyph(s[k], rows))
        throw std::invalid_argument(std::string("cebm::eval::canvas::text: no glyph for '") + s[k] + "' (code " +
                                    std::to_string(static_cast<unsigned char>(s[k])) + ") in \"" + s + "\"");
      for (std::int64_t row = 0; row < 7; ++row)
        for (std::int64_t col = 0; col < 5; ++col) {
          if (!((rows[row] >> (4 - col)) & 1)) continue;
          // u along the text, v across it (0 = top of the glyph).
          const std::int64_t u = static_cast<std::int64_t>(k) * 6 * scale + col * scale, v = row * scale;
          if (vertical)
            fill_rect(x + v, y + length - u - scale, scale, scale, c);
          else
            fill_rect(x + u, y + v, scale, scale, c);
        }
    }
  }

  /// uint8 [3, H, W].
  at::Tensor to_tensor() const {
    return at::from_blob(const_cast<std::uint8_t*>(pixels_.data()), {3, h_, w_}, at::kByte).clone();
  }

 private:
  std::int64_t w_, h_;
  std::vector<std::uint8_t> pixels_;  // planar: R plane, G plane, B plane
};

// --- backends -------------------------------------------------------------------------------

/// Which backend draws a plot (see the file comment).
enum class plot_backend {
  automatic,  ///< PLplot where `plplot_available()`, else the raster
  plplot,     ///< PLplot, or std::runtime_error where it is not available
  raster      ///< the hand-drawn raster, whatever is compiled in
};

/// Whether PLplot draws the plots of `plot_backend::automatic`: compiled in (CEBM_HAS_PLPLOT), its
/// memcairo driver installed (Debian: plplot-driver-cairo; asked of PLplot once), and PLplot has not
/// failed fatally earlier in the process.
CEBM_INLINE bool plplot_available();

// --- heat map ---------------------------------------------------------------------------------

struct heatmap_options {
  CEBM_ARG(std::int64_t, cell) = 40;          ///< pixels per cell side
  CEBM_ARG(double, value_min) = 0.0;          ///< mapped to viridis(0); values below are clamped
  CEBM_ARG(double, value_max) = 1.0;          ///< mapped to viridis(1); values above are clamped
  CEBM_ARG(bool, show_values) = true;         ///< "%.2f" in each cell, when it fits
  CEBM_ARG(bool, show_indices) = true;        ///< row labels on the left, column labels below (class names, else indices)
  CEBM_ARG(bool, colorbar) = true;            ///< a vertical colour bar on the right with its limits (PLplot: ticks)
  CEBM_ARG(std::string, title) = "";          ///< above the grid
  CEBM_ARG(std::string, row_title) = "";      ///< e.g. "true class", written upwards left of the row labels
  CEBM_ARG(std::string, column_title) = "";   ///< e.g. "predicted class", below the column labels
  /// The classes of the rows and of the columns (one name per row, and as many rows as columns);
  /// empty: the indices.
  CEBM_ARG(std::vector<std::string>, class_names) = {};
  CEBM_ARG(std::int64_t, font_scale) = 1;     ///< for labels, titles and the colour bar
  CEBM_ARG(std::int64_t, value_font_scale) = 1;
  CEBM_ARG(std::int64_t, margin) = 6;         ///< pixels around everything
  CEBM_ARG(plot_backend, backend) = plot_backend::automatic;
};

/// `matrix` [R, C] (any real dtype, finite) as R × C square cells of `cell` pixels coloured by
/// viridis((v − value_min)/(value_max − value_min)), white around.
///
/// Layout, from the top-left: `margin`, the title above the grid, then (if set) the row title and
/// the row labels, then the grid; under the grid the column labels and the column title; right of
/// it the colour bar. With show_indices, colorbar and the titles off the image is exactly
/// [3, 2·margin + R·cell, 2·margin + C·cell] with cell (r, c) at
/// x ∈ [margin + c·cell, margin + (c+1)·cell), y ∈ [margin + r·cell, margin + (r+1)·cell), on both
/// backends (PLplot to within 1/255 at the cells' edges).
///
/// Each value is written in black or white (`contrasting_text`) when the widest of them fits inside
/// a cell with a pixel to spare on each side (PLplot: capitals 9·value_font_scale pixels high, made
/// smaller to fit, down to 6); otherwise no cell is written. Labels too dense to fit are thinned to
/// every k-th; PLplot turns column labels wider than a cell upwards. PLplot's text: labels with
/// capitals 10·font_scale pixels high, the title 12·font_scale, bold.
CEBM_INLINE at::Tensor heatmap(const at::Tensor& matrix, const heatmap_options& o = {});

// --- scatter plot -----------------------------------------------------------------------------

enum class marker_shape { disc, square };

struct scatter_options {
  CEBM_ARG(std::int64_t, width) = 640;        ///< of the whole image, legend included
  CEBM_ARG(std::int64_t, height) = 480;
  CEBM_ARG(std::int64_t, marker_radius) = 2;  ///< 0: one pixel
  CEBM_ARG(marker_shape, marker) = marker_shape::disc;
  CEBM_ARG(double, marker_opacity) = 0.8;     ///< PLplot: markers' alpha, so that dense clusters show (the raster: opaque)
  CEBM_ARG(double, margin) = 0.05;            ///< axis limits: data range widened by this fraction each side
  /// Legend entries; 0: as many as class_names, else max label + 1.
  CEBM_ARG(std::int64_t, classes) = 0;
  CEBM_ARG(std::vector<std::string>, class_names) = {};  ///< the legend's names of classes 0…K−1; empty: the indices
  CEBM_ARG(bool, legend) = true;
  CEBM_ARG(bool, show_limits) = true;         ///< the raster: the axis limits at the frame's ends; PLplot: ticks and their labels
  CEBM_ARG(std::string, title) = "";          ///< above the frame
  CEBM_ARG(std::string, x_title) = "";        ///< PLplot: under the x tick labels
  CEBM_ARG(std::string, y_title) = "";        ///< PLplot: upwards, left of the y tick labels
  CEBM_ARG(std::int64_t, font_scale) = 1;
  CEBM_ARG(std::int64_t, padding) = 8;        ///< pixels between the image edge and the frame (or what surrounds it)
  CEBM_ARG(plot_backend, backend) = plot_backend::automatic;
};

/// `points` [N, 2] (floating, finite) drawn as markers of colour tab10(label) on white, inside a
/// black one-pixel frame, in input order (later points on top). class_names, when given, must
/// name exactly the K classes (K = classes when set), and every label must be below K.
///
/// Axis limits: [min, max] of each coordinate widened by `margin`·(max − min) on both sides (a
/// coordinate with max = min gets [min − 0.5, max + 0.5]). Inside the frame the limits map to
/// marker centres that keep every marker one pixel clear of the frame.
///
/// The raster: the frame's outer edge is `padding` pixels from the image's top and left (a title
/// adds its line above); right and below it sit the legend and the limit labels when enabled. With
/// frame pixels fx0 < fx1 (left, right columns) and fy0 < fy1 (top, bottom rows), a point (x, y)
/// is drawn centred at (round: half away from zero)
///   column  fx0 + r + 2 + round((x − xmin)/(xmax − xmin) · (fx1 − fx0 − 2r − 4))
///   row     fy1 − r − 2 − round((y − ymin)/(ymax − ymin) · (fy1 − fy0 − 2r − 4))
/// With legend, show_limits and the title off, fx0 = fy0 = padding, fx1 = width − 1 − padding and
/// fy1 = height − 1 − padding. Legend: one row per class 0…K−1, a colour swatch and the class's
/// name (or index), right of the frame.
///
/// PLplot: the same mapping without the rounding, onto pixel centres; ticks at 1, 2, 2.5 or 5 × 10^k
/// labelled on both axes, the axis titles beside them, the title above; discs of radius
/// marker_radius + ½; the legend's swatches are opaque squares, one capital high.
CEBM_INLINE at::Tensor scatter(const at::Tensor& points, const at::Tensor& labels, const scatter_options& o = {});

// --- line chart -------------------------------------------------------------------------------

/// One line of a chart: points (x[i], y[i]) joined in order, each marked, coloured tab10(colour).
struct line_series {
  std::string name;  ///< the legend's text
  std::vector<double> x, y;
  std::int64_t colour = 0;
};

struct line_chart_options {
  CEBM_ARG(std::int64_t, width) = 720;        ///< of the whole image, legend included
  CEBM_ARG(std::int64_t, height) = 400;
  CEBM_ARG(double, y_min) = 0.0;              ///< the y axis: fixed, so curves of two runs compare
  CEBM_ARG(double, y_max) = 1.0;
  CEBM_ARG(std::int64_t, y_ticks) = 5;        ///< labelled grid lines from y_min to y_max (>= 2)
  CEBM_ARG(std::string, title) = "";          ///< above the frame
  CEBM_ARG(std::string, x_title) = "";        ///< under the x labels, e.g. "iteration"
  CEBM_ARG(std::string, y_title) = "";        ///< PLplot: upwards, left of the y labels
  CEBM_ARG(std::int64_t, marker_radius) = 2;  ///< 0: one pixel
  CEBM_ARG(std::int64_t, thickness) = 2;      ///< of the lines, pixels
  CEBM_ARG(bool, legend) = true;
  CEBM_ARG(std::int64_t, font_scale) = 1;
  CEBM_ARG(std::int64_t, padding) = 8;        ///< pixels between the image edge and the frame (or what surrounds it)
  CEBM_ARG(plot_backend, backend) = plot_backend::automatic;
};

/// `series` (at least one point in all; every value finite, y within [y_min, y_max]) on white inside
/// a black one-pixel frame, light grey grid lines at the y ticks, series drawn in order (later
/// ones on top), lines first, then their markers (discs of `marker_radius`). The x limits are the
/// smallest and largest x of all series (a single x value v gets [v − 0.5, v + 0.5]).
///
/// The raster: the y ticks labelled "%g" left of the frame, the x limits written under its ends.
/// The frame, with s = font_scale and p = padding (p plus a title's line at the top with a title):
/// left column fx0 = p + (width of the widest y label) + 3s, top row fy0 = p + ⌊7s/2⌋, right
/// column fx1 = width − 1 − p (less the legend's width + 6s), bottom row fy1 = height − 1 − p − 10s
/// (less 10s more with an x title). With m = marker_radius + 2, a point (x, y) is drawn at (round:
/// half away from zero)
///   column  fx0 + m + round((x − xmin)/(xmax − xmin) · (fx1 − fx0 − 2m))
///   row     fy1 − m − round((y − y_min)/(y_max − y_min) · (fy1 − fy0 − 2m))
/// Legend: one row per series, a colour swatch and its name, right of the frame.
///
/// PLplot: the same mapping without the rounding, onto pixel centres; x ticks at 1, 2, 2.5 or
/// 5 × 10^k, the titles; the legend shows each series' line and marker.
CEBM_INLINE at::Tensor line_chart(const std::vector<line_series>& series, const line_chart_options& o = {});

// --- histogram --------------------------------------------------------------------------------

/// One set of scores of a histogram, e.g. −E(x) of one OOD set: `values` any real dtype, 1-D,
/// finite, at least one; coloured tab10(colour).
struct histogram_series {
  std::string name;  ///< the legend's text
  at::Tensor values;
  std::int64_t colour = 0;
};

struct histogram_options {
  CEBM_ARG(std::int64_t, width) = 640;        ///< of the whole image, legend included
  CEBM_ARG(std::int64_t, height) = 400;
  CEBM_ARG(std::int64_t, bins) = 40;          ///< equal bins over the range, shared by every series
  /// Counts over (values of the series · bin width), so that sets of different sizes compare
  /// (false: counts).
  CEBM_ARG(bool, density) = true;
  /// The range: [value_min, value_max] where both are finite, else the pooled values' `tail` and
  /// 1 − tail quantiles (0: their minimum and maximum). Values outside are left out of the bins
  /// (a density keeps dividing by all of the series' values).
  CEBM_ARG(double, value_min) = NAN;
  CEBM_ARG(double, value_max) = NAN;
  CEBM_ARG(double, tail) = 0.0;
  CEBM_ARG(double, opacity) = 0.35;           ///< PLplot: of the fills under the outlines (the raster: outlines only)
  CEBM_ARG(bool, legend) = true;
  CEBM_ARG(std::string, title) = "";
  CEBM_ARG(std::string, x_title) = "";        ///< e.g. "-E(x)"
  CEBM_ARG(std::string, y_title) = "";        ///< PLplot only; e.g. "density"
  CEBM_ARG(std::int64_t, font_scale) = 1;
  CEBM_ARG(std::int64_t, padding) = 8;        ///< pixels between the image edge and the frame (or what surrounds it)
  CEBM_ARG(plot_backend, backend) = plot_backend::automatic;
};

/// `series` overlaid: each one's histogram over the shared bins drawn as its outline (a step along
/// the bins' tops, down to zero at both ends), in order (later ones on top), PLplot filling under
/// each outline with its colour at `opacity`; light grey grid lines at the y ticks; the legend
/// (a swatch and the name per series) right of the frame. Axes: the range on x, [0, 1.05·highest
/// bar] on y. The raster writes the x and y limits at the frame's ends and the title above;
/// PLplot ticks both axes as the scatter plot does, with the axis titles.
CEBM_INLINE at::Tensor histogram(const std::vector<histogram_series>& series, const histogram_options& o = {});

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/plot_impl.hpp"
#endif
