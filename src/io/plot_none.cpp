// The figures of a trim built without PLplot (meson picks this file instead of
// plot.cpp when PLplot is not found): every input is checked as with PLplot,
// then the call says how to get figures.
#include "plot_support.hpp"
#include "trim/core/error.hpp"
#include "trim/io/plot.hpp"

namespace trim::io {

namespace {

[[noreturn]] void unavailable(const std::string& what, const std::string& path) {
  throw IoError(what + " '" + path +
                "': trim was built without PLplot; install libplplot-dev and plplot-driver-cairo and rebuild");
}

}  // namespace

bool plotting_available() { return false; }

void plot_heatmap(const std::string& path, const HeatmapPlot& p) {
  detail::validate_heatmap("heatmap", path, p);
  unavailable("heatmap", path);
}

void plot_lines(const std::string& path, const LinePlot& p) {
  detail::validate_lines("line plot", path, p);
  unavailable("line plot", path);
}

void plot_bars(const std::string& path, const BarPlot& p) {
  detail::validate_bars("bar chart", path, p);
  unavailable("bar chart", path);
}

void plot_image_grid(const std::string& path, const ImageGridPlot& p) {
  detail::validate_image_grid("image grid", path, p);
  unavailable("image grid", path);
}

}  // namespace trim::io
