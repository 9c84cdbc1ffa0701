#pragma once
// Internal: what every figure of plot.cpp shares and that does not need
// PLplot (plot_support.cpp): input validation, axis and colour ranges, value
// scaling for axis labels, legend placement, and the temporary file a figure
// is drawn into before it is renamed into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/io/plot.hpp"

namespace trim::io::detail {

/// ValueError "`what` '`path`': `problem`".
[[noreturn]] void bad(const std::string& what, const std::string& path, const std::string& problem);
/// The path names a known format and the size is 64..10000 pixels.
void check_figure(const std::string& what, const std::string& path, const Figure& f);
/// Every element of `v` (called `name` in messages) is finite.
void check_finite(const std::string& what, const std::string& path, const std::vector<double>& v,
                  const std::string& name);
void check_axis(const std::string& what, const std::string& path, const Axis& a, const std::string& name);
/// [lo, hi] of the values, or of `a` when it is set; never empty.
std::pair<double, double> axis_range(const Axis& a, double lo, double hi);
/// Colour range of a heatmap: symmetric about 0 or min..max.
std::pair<double, double> value_range(const std::vector<double>& v, bool symmetric);
/// `s` with PLplot's escape character '#' doubled.
std::string escape_text(const std::string& s);
/// The power of ten an axis label factors out of values up to `m` (0: none).
int label_exponent(double m);
/// `label` escaped for PLplot, with "(×10ⁿ)" when `exponent` is not 0.
std::string scaled_label(const std::string& label, int exponent);

/// Which cells of a coarse grid over the plot area data covers; the legend
/// goes into the corner that covers least.
class Occupancy {
 public:
  static constexpr int kCells = 48;
  /// Marks the segment between (u0, v0) and (u1, v1), in [0, 1] plot fractions.
  void segment(double u0, double v0, double u1, double v1) {
    const int steps = 1 + static_cast<int>(2 * kCells * std::max(std::fabs(u1 - u0), std::fabs(v1 - v0)));
    for (int i = 0; i <= steps; ++i) {
      const double t = static_cast<double>(i) / steps;
      mark(u0 + t * (u1 - u0), v0 + t * (v1 - v0));
    }
  }
  /// Marks the rectangle [u0, u1] × [v0, v1].
  void rect(double u0, double u1, double v0, double v1) {
    if (u0 > u1) std::swap(u0, u1);
    if (v0 > v1) std::swap(v0, v1);
    for (double u = u0; u <= u1 + 1e-12; u += 0.5 / kCells)
      for (double v = v0; v <= v1 + 1e-12; v += 0.5 / kCells) mark(u, v);
    mark(u1, v1);
  }
  /// Covered cells inside [u0, u1] × [v0, v1].
  int count(double u0, double u1, double v0, double v1) const {
    int n = 0;
    for (int i = 0; i < kCells; ++i)
      for (int j = 0; j < kCells; ++j) {
        const double u = (i + 0.5) / kCells, v = (j + 0.5) / kCells;
        if (covered_[static_cast<size_t>(i * kCells + j)] && u >= u0 && u <= u1 && v >= v0 && v <= v1) ++n;
      }
    return n;
  }

 private:
  void mark(double u, double v) {
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
    const int i = std::min(kCells - 1, static_cast<int>(u * kCells)), j = std::min(kCells - 1, static_cast<int>(v * kCells));
    covered_[static_cast<size_t>(i * kCells + j)] = true;
  }
  std::vector<bool> covered_ = std::vector<bool>(kCells * kCells, false);
};

/// Where the legend goes: a corner of the plot area (top right, top left,
/// bottom right, bottom left; the first with nothing under it), or, when
/// data fills every corner, the top right with `headroom` the fraction of
/// extra room to add above the data so that nothing is under the legend.
struct LegendPlace {
  bool top = true, right = true;
  double headroom = 0;
};

LegendPlace place_legend(const Occupancy& data, const std::vector<std::string>& entries, const Figure& f,
                         double plot_width);

/// A fresh, empty file next to `path` (which proves the folder is writable
/// before PLplot tries to open it); removed on destruction unless committed.
class TempFile {
 public:
  TempFile(const std::string& path, const std::string& what) : path_(path), what_(what) {
    static std::atomic<unsigned> counter{0};
    tmp_ = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." + figure_format(path);
    const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
      throw IoError(what + " '" + path + "': cannot create a file in its folder (" + std::strerror(errno) + ")");
    ::close(fd);
  }
  ~TempFile() {
    if (!committed_) std::remove(tmp_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& name() const { return tmp_; }

  /// Checks that something was written, flushes it to disk, renames it into place.
  void commit() {
    struct stat st {};
    if (::stat(tmp_.c_str(), &st) != 0 || st.st_size < 8)
      throw IoError(what_ + " '" + path_ + "': the " + figure_format(path_) + " driver wrote no image");
    const int fd = ::open(tmp_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw IoError(what_ + " '" + path_ + "': cannot rename the finished figure into place (" +
                    std::strerror(errno) + ")");
    committed_ = true;
  }

 private:
  std::string path_, what_, tmp_;
  bool committed_ = false;
};

/// Each figure's input checks, made before anything is drawn (with or
/// without PLplot); ValueError naming the figure, the file and the problem.
void validate_heatmap(const std::string& what, const std::string& path, const HeatmapPlot& p);
/// The extent of the data (error bars included) of a checked line plot.
struct DataRange {
  double xlo, xhi, ylo, yhi;
};
DataRange validate_lines(const std::string& what, const std::string& path, const LinePlot& p);
/// [min(0, lowest), max(0, highest)] of the bars and their error bars.
std::pair<double, double> validate_bars(const std::string& what, const std::string& path, const BarPlot& p);
void validate_image_grid(const std::string& what, const std::string& path, const ImageGridPlot& p);

/// The one mutex every PLplot call holds (PLplot keeps global state).
std::mutex& plot_mutex();

}  // namespace trim::io::detail
