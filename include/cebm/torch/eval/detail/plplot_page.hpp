#pragma once
/// @file
/// `plplot_page`: one drawing by PLplot's cairo memory driver (`memcairo`) into an RGB buffer held
/// here, in pixel coordinates as `canvas` (eval/plot.hpp): x to the right and y down from the
/// top-left corner, pixel (i, j) the unit square [i, i + 1) × [j, j + 1). The plots of plot.hpp draw
/// on it when CEBM_HAS_PLPLOT is set (config.hpp); without it this header is empty.
///
/// PLplot keeps global state and is not thread-safe, so a page holds one process-wide mutex while
/// it exists, draws on a stream of its own (plmkstrm) and hands back the stream that was current
/// before (plsstrm) once it has ended its own (plend1, in `finish()` or the destructor). PLplot's
/// exit handler is the page's while it exists, and none afterwards.
///
/// The library prints nothing, and PLplot, cairo, pango and fontconfig write their warnings straight
/// to the standard streams (plwarn, g_warning, fontconfig's errors) with no other channel, so while
/// a page exists file descriptors 1 and 2 point to /dev/null: output that other threads write to
/// them during those milliseconds is lost. PLplot's errors are caught instead of printed: plabort's
/// message through plsError, and plexit, which would end the process, through an exit handler
/// (plsexit) that throws; after a plexit PLplot's state is unknown, so no page is drawn again
/// (`plplot_broken()`; the plots fall back to the raster).
///
/// Text: PLplot draws it with pango in the font fontconfig gives for "sans" (DejaVu Sans on Debian),
/// sized by the height of its capital letters in pixels (`cap`). The driver works at 72 dpi, so a
/// character height of h mm (plschr) is h·72/25.4 pixels, the height of a capital 'H'. PLplot has
/// no call that measures text, so `text_width` estimates it from DejaVu Sans' advance widths
/// (capital height 1493 of 2048 font units), 4% wider; other fonts differ by a few per cent, and the
/// layouts leave room for that.
#include "cebm/config.hpp"

#if CEBM_HAS_PLPLOT
#include <fcntl.h>
#include <unistd.h>

#include <plplot.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace cebm::eval::detail {

/// An 8-bit sRGB colour with its opacity.
struct page_colour {
  std::uint8_t r = 0, g = 0, b = 0;
  double alpha = 1.0;
};

/// The lock every PLplot call of the library is made under.
inline std::mutex& plplot_mutex() {
  static std::mutex m;
  return m;
}

/// Set once PLplot called its exit handler: its state is unknown from then on.
inline std::atomic<bool>& plplot_broken() {
  static std::atomic<bool> broken{false};
  return broken;
}

/// Thrown by the exit handler instead of PLplot's exit(): unwinds through PLplot's C frames (built
/// with unwind tables, as GCC and Clang do by default on x86-64 and AArch64) back to the page.
struct plplot_exit : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline int plplot_exit_handler(const char* message) { throw plplot_exit(message ? message : "PLplot exited"); }

/// File descriptors 1 and 2 on /dev/null while it lives (fflushed on both sides).
class silenced_output {
 public:
  silenced_output() {
    std::fflush(stdout), std::fflush(stderr);
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) return;
    out_ = ::dup(1), err_ = ::dup(2);
    if (out_ >= 0) ::dup2(devnull, 1);
    if (err_ >= 0) ::dup2(devnull, 2);
    ::close(devnull);
  }
  ~silenced_output() {
    std::fflush(stdout), std::fflush(stderr);
    if (out_ >= 0) ::dup2(out_, 1), ::close(out_);
    if (err_ >= 0) ::dup2(err_, 2), ::close(err_);
  }
  silenced_output(const silenced_output&) = delete;
  silenced_output& operator=(const silenced_output&) = delete;

 private:
  int out_ = -1, err_ = -1;
};

/// Whether PLplot lists the memcairo driver (asked once; the driver's library is loaded by the
/// first page).
inline bool plplot_has_memcairo() {
  static const bool has = [] {
    std::lock_guard<std::mutex> lock(plplot_mutex());
    silenced_output quiet;
    const char* menus[256];
    const char* names[256];
    const char** menu = menus;
    const char** name = names;
    int n = 256;
    plgDevs(&menu, &name, &n);
    for (int i = 0; i < n; ++i)
      if (name[i] && std::string(name[i]) == "memcairo") return true;
    return false;
  }();
  return has;
}

class plplot_page {
 public:
  /// A white width × height page; `where` names the plot in errors.
  plplot_page(std::int64_t width, std::int64_t height, std::string where)
      : w_(width), h_(height), where_(std::move(where)), lock_(plplot_mutex()) {
    if (plplot_broken()) throw std::runtime_error(where_ + ": PLplot exited earlier in this process; it draws no more");
    if (width <= 0 || height <= 0 || width > 32767 || height > 32767)
      throw std::invalid_argument(where_ + ": the image must be 1 to 32767 pixels wide and high, got " +
                                  std::to_string(width) + "x" + std::to_string(height));
    pixels_.assign(static_cast<std::size_t>(3 * w_ * h_), 255);
    try {
      guarded([&] {
        plgstrm(&previous_);
        plmkstrm(&stream_);
        if (stream_ < 0) throw std::runtime_error(where_ + ": PLplot has no free stream");
        plsError(&error_code_, error_message_);
        plsexit(plplot_exit_handler);
        plsdev("memcairo");
        plsmem(static_cast<PLINT>(w_), static_cast<PLINT>(h_), pixels_.data());
        plscmap0n(16);
        plscolbg(255, 255, 255);
        plinit();
        check();
        pladv(0);
        plvpor(0.0, 1.0, 0.0, 1.0);
        plwind(0.0, static_cast<double>(w_), 0.0, static_cast<double>(h_));
        plwidth(1.0);
      });
    } catch (...) {
      release();
      throw;
    }
  }
  ~plplot_page() { release(); }
  plplot_page(const plplot_page&) = delete;
  plplot_page& operator=(const plplot_page&) = delete;

  std::int64_t width() const { return w_; }
  std::int64_t height() const { return h_; }

  /// Ends the drawing; the image as uint8 [3, H, W].
  at::Tensor finish() {
    guarded([&] { end(); });
    return at::from_blob(pixels_.data(), {h_, w_, 3}, at::kByte).permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
  }

  /// The pixels [x, x + w) × [y, y + h), filled (edges between pixels come out within 1/255 of
  /// exact: PLplot's device coordinates are not quite whole pixels).
  void fill_rect(double x, double y, double w, double h, page_colour c) {
    polygon({x, x + w, x + w, x}, {y, y, y + h, y + h}, c);
  }
  /// A one-pixel outline just inside [x, x + w) × [y, y + h).
  void outline_rect(double x, double y, double w, double h, page_colour c) {
    polyline({x + 0.5, x + w - 0.5, x + w - 0.5, x + 0.5, x + 0.5}, {y + 0.5, y + 0.5, y + h - 0.5, y + h - 0.5, y + 0.5}, c, 1.0);
  }
  /// A filled polygon. The driver strokes a filled polygon's edge too, with the line width, so that
  /// neighbouring polygons leave no seam; here a hairline (PLplot takes width 0 for 1), so that
  /// the fill covers the polygon and no more, and a translucent one has no darker rim.
  void polygon(const std::vector<double>& x, const std::vector<double>& y, page_colour c) {
    guarded([&] {
      colour(c);
      plwidth(1e-3);
      std::vector<PLFLT> ys(y.size());
      for (std::size_t i = 0; i < y.size(); ++i) ys[i] = flip(y[i]);
      plfill(static_cast<PLINT>(x.size()), x.data(), ys.data());
      plwidth(1.0);
    });
  }
  /// Points joined in order by a line `width` pixels wide (a line along pixel centres, x.5, of odd
  /// width covers whole pixels).
  void polyline(const std::vector<double>& x, const std::vector<double>& y, page_colour c, double width) {
    if (x.size() < 2) return;
    guarded([&] {
      colour(c);
      plwidth(width);
      std::vector<PLFLT> ys(y.size());
      for (std::size_t i = 0; i < y.size(); ++i) ys[i] = flip(y[i]);
      plline(static_cast<PLINT>(x.size()), x.data(), ys.data());
      plwidth(1.0);
    });
  }
  /// A filled disc of radius r around (cx, cy).
  void disc(double cx, double cy, double r, page_colour c) {
    guarded([&] {
      colour(c);
      plarc(cx, flip(cy), r, r, 0.0, 360.0, 0.0, 1);
    });
  }
  /// `s` (UTF-8) with capitals `cap` pixels high, through the reference point (x, y): across the
  /// text the point is the capitals' middle, along it `just` places it (0: where the text starts,
  /// 0.5: its middle, 1: where it ends). `vertical` turns the text 90° anticlockwise, reading
  /// upwards: x is then across and y along.
  void text(double x, double y, const std::string& s, double cap, double just, page_colour c, bool vertical = false,
            bool bold = false) {
    if (s.empty()) return;
    std::string escaped;  // '#' starts PLplot's escape sequences; "##" is a literal '#'
    for (char ch : s) escaped += ch == '#' ? std::string("##") : std::string(1, ch);
    guarded([&] {
      colour(c);
      plschr(cap * 25.4 / 72.0, 1.0);
      plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, bold ? PL_FCI_BOLD : PL_FCI_MEDIUM);
      plptex(x, flip(y), vertical ? 0.0 : 1.0, vertical ? 1.0 : 0.0, just, escaped.c_str());
    });
  }

  /// The estimated width in pixels of `s` with capitals `cap` pixels high (see the file comment;
  /// bold text is about 10% wider).
  static double text_width(const std::string& s, double cap, bool bold = false) {
    // DejaVu Sans advance widths of ' ' … '~' in font units (2048 per em).
    static constexpr short advance[95] = {
        651,  821,  942,  1716, 1303, 1946, 1597, 563,  799,  799,  1024, 1716, 651,  739,  651,  690,  1303, 1303, 1303,
        1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,  1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294,
        1178, 1587, 1540, 604,  604,  1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403,
        1251, 1403, 799,  690,  799,  1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721,  1300, 1298, 569,  569,  1186,
        569,  1995, 1298, 1253, 1300, 1300, 842,  1067, 803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716};
    double units = 0;
    for (unsigned char ch : s) {
      if (ch >= 32 && ch < 127)
        units += advance[ch - 32];
      else if ((ch & 0xC0) != 0x80)  // the first byte of a character outside ASCII
        units += 1300;
    }
    return units / 1493.0 * cap * 1.04 * (bold ? 1.1 : 1.0);
  }

 private:
  double flip(double y) const { return static_cast<double>(h_) - y; }

  void colour(page_colour c) {
    plscol0a(1, c.r, c.g, c.b, c.alpha);
    plcol0(1);
  }
  void check() {
    if (error_code_ != 0) {
      const std::string message = error_message_;
      error_code_ = 0;
      throw std::runtime_error(where_ + ": PLplot: " + message);
    }
  }
  /// plend1 (which copies the drawing into the buffer), then the previous stream.
  void end() {
    if (stream_ < 0) return;
    plsstrm(stream_);
    plend1();
    stream_ = -1;
    plsstrm(previous_);
    check();
  }
  /// Ends an unfinished stream (errors then are not the first ones: dropped) and PLplot's exit
  /// handler.
  void release() noexcept {
    if (plplot_broken()) return;
    try {
      end();
    } catch (...) {
    }
    plsexit(nullptr);
  }
  /// `f`, with PLplot's exit turned into an error and its aborts thrown.
  template <class F>
  void guarded(F&& f) {
    try {
      f();
      check();
    } catch (const plplot_exit& e) {
      plplot_broken() = true;
      stream_ = -1;
      throw std::runtime_error(where_ + ": PLplot: " + e.what());
    }
  }

  std::int64_t w_, h_;
  std::string where_;
  std::lock_guard<std::mutex> lock_;
  silenced_output quiet_;  // after the lock, so it ends before the lock does
  std::vector<std::uint8_t> pixels_;
  PLINT previous_ = 0, stream_ = -1, error_code_ = 0;
  char error_message_[2048] = "";
};

}  // namespace cebm::eval::detail

#endif  // CEBM_HAS_PLPLOT
