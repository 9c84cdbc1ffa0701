// PNG figures (io/plot.hpp): coefficient layouts against NumPy's fftshift and
// PyWavelets' coeffs_to_array (tests/reference/make_plot.py), every figure
// kind written as a PNG of the requested size, and bad input rejected before
// anything is drawn, leaving no file behind.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/figures/coefficients.hpp"
#include "trim/io/plot.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using trim::test::TempDir;

namespace {

std::vector<double> iota(size_t n, double start = 0.0) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i);
  return v;
}

void require_same(const std::vector<double>& got, const Tensor& expected, const std::string& what) {
  INFO(what);
  REQUIRE(static_cast<int64_t>(got.size()) == expected.numel());
  for (int64_t i = 0; i < expected.numel(); ++i) {
    INFO("element " << i);
    REQUIRE(got[static_cast<size_t>(i)] == expected[i]);
  }
}

/// Width and height from a PNG's IHDR chunk; {0, 0} when the file is not a PNG.
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char h[24] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (!in || !std::equal(signature, signature + 8, h) || std::string(reinterpret_cast<char*>(h + 12), 4) != "IHDR")
    return {0, 0};
  auto be32 = [&](int at) {
    return (uint32_t(h[at]) << 24) | (uint32_t(h[at + 1]) << 16) | (uint32_t(h[at + 2]) << 8) | uint32_t(h[at + 3]);
  };
  return {be32(16), be32(20)};
}

}  // namespace

TEST_CASE("fourier_heatmap lays out spectra as fftshift with the vertical frequency growing upwards",
          "[io][plot]") {
  const test::Fixture f("plot_layouts.txt");
  for (auto [h, w] : {std::pair<int64_t, int64_t>{4, 6}, {5, 7}}) {
    const std::string size = std::to_string(h) + "x" + std::to_string(w);
    const io::HeatmapPlot full = io::fourier_heatmap(iota(h * w), h, w, false);
    REQUIRE(full.rows == h);
    REQUIRE(full.cols == w);
    require_same(full.values, f["fourier_" + size], "fft2 " + size);
    require_same(io::fourier_heatmap(iota(h * w), h, w, true).values, f["rfft_" + size], "rfft2 " + size);
    // Cell edges half a bin outside the extreme fftfreq values k / n.
    const double lowest = -static_cast<double>(h / 2) / h, highest = static_cast<double>((h - 1) / 2) / h;
    CHECK(full.y.min == Approx(lowest - 0.5 / h));
    CHECK(full.y.max == Approx(highest + 0.5 / h));
  }
  CHECK_THROWS_AS(io::fourier_heatmap(iota(5), 2, 3, false), ValueError);
}

TEST_CASE("wavelet_mosaic equals PyWavelets' coeffs_to_array", "[io][plot]") {
  const test::Fixture f("plot_layouts.txt");
  for (auto [h, w] : {std::pair<int64_t, int64_t>{16, 16}, {11, 9}}) {
    const std::string size = std::to_string(h) + "x" + std::to_string(w);
    const auto t = make_wavelet("dwt2", "db2", 2, kernels::DwtMode::Symmetric, {1, h, w});
    const io::HeatmapPlot m = io::wavelet_mosaic(*t, iota(static_cast<size_t>(t->layout().size), 1.0));
    const Tensor& expected = f["mosaic_" + size];
    REQUIRE(m.rows == expected.shape()[0]);
    REQUIRE(m.cols == expected.shape()[1]);
    require_same(m.values, expected, "mosaic " + size);
    CHECK(m.lines.size() == 4);  // two boundary lines per level
  }
  const auto t = make_wavelet("dwt2", "haar", 1, kernels::DwtMode::Symmetric, {1, 8, 8});
  CHECK_THROWS_WITH(io::wavelet_mosaic(*t, iota(10)), Catch::Contains("64 coefficients"));
  const auto swt = make_wavelet("swt2", "haar", 1, kernels::DwtMode::Symmetric, {1, 8, 8});
  CHECK_THROWS_WITH(io::wavelet_mosaic(*swt, iota(static_cast<size_t>(swt->layout().size))),
                    Catch::Contains("stationary"));
}

TEST_CASE("every figure kind writes a PNG of the requested size", "[io][plot]") {
  if (!io::plotting_available()) {
    // Built without PLplot: drawing must fail clearly, not silently.
    TempDir dir("plot");
    io::LinePlot p;
    p.series.push_back({"a", {0, 1}, {1, 2}, {}});
    CHECK_THROWS_AS(io::plot_lines(dir.file("x.png"), p), IoError);
    WARN("PLplot's pngcairo driver is not available: figure drawing not tested");
    return;
  }
  TempDir dir("plot");

  io::HeatmapPlot heat = io::fourier_heatmap(iota(64 * 33, -1000.0), 64, 33, true);
  heat.figure = {"rfft2 attributions", 640, 480};
  io::plot_heatmap(dir.file("heat.png"), heat);
  CHECK(png_size(dir.file("heat.png")) == std::make_pair(640u, 480u));

  io::LinePlot lines;
  lines.figure.title = "CD score vs scale";
  lines.x = {"multipole l", 0, 0, true};
  lines.y.label = "score (#sigma is literal)";
  lines.series.push_back({"B", {100, 1000, 5000}, {0.5, 2.0, -1.0}, {0.1, 0.2, 0.1}});
  lines.series.push_back({"", {100, 5000}, {0.0, 1.0}, {}});
  lines.markers = {3500};
  lines.markers_label = "k0";
  io::plot_lines(dir.file("lines.png"), lines);
  CHECK(png_size(dir.file("lines.png")) == std::make_pair(800u, 600u));

  io::BarPlot bars;
  bars.figure = {"", 500, 300};
  bars.categories = {"cA_2", "cH_2", "cV_2", "cD_2 with a long name"};
  bars.y.label = "IG score";
  bars.series.push_back({"class 0", {}, {1, -2, 3, 0.5}, {}});
  bars.series.push_back({"class 1", {}, {0.2, 0.1, -0.3, 0}, {0.1, 0.1, 0.1, 0.1}});
  io::plot_bars(dir.file("bars.png"), bars);
  CHECK(png_size(dir.file("bars.png")) == std::make_pair(500u, 300u));

  io::ImageGridPlot grid;
  grid.figure = {"components", 400, 400};
  grid.rows = 8;
  grid.cols = 8;
  for (int i = 0; i < 5; ++i) grid.images.push_back(iota(64, i));
  grid.captions = {"c0", "c1", "c2", "c3", "c4"};
  io::plot_image_grid(dir.file("grid.png"), grid);
  CHECK(png_size(dir.file("grid.png")) == std::make_pair(400u, 400u));

  // Overwriting an existing figure replaces it; nothing else is left around.
  heat.figure.width = 320;
  io::plot_heatmap(dir.file("heat.png"), heat);
  CHECK(png_size(dir.file("heat.png")) == std::make_pair(320u, 480u));
  CHECK(dir.entries().size() == 4);
}

TEST_CASE("bad figures are rejected naming the problem, leaving no file", "[io][plot]") {
  TempDir dir("plot");
  const std::string path = dir.file("bad.png");
  io::HeatmapPlot heat;
  heat.rows = 2;
  heat.cols = 3;
  heat.values = {1, 2, 3, 4, 5};
  CHECK_THROWS_WITH(io::plot_heatmap(path, heat), Catch::Contains("bad.png") && Catch::Contains("5 values for 2x3"));
  heat.values = {1, 2, NAN, 4, 5, 6};
  CHECK_THROWS_WITH(io::plot_heatmap(path, heat), Catch::Contains("value element 2 is NaN"));
  heat.values = {1, 2, 3, 4, 5, 6};
  heat.figure.width = 10;
  CHECK_THROWS_WITH(io::plot_heatmap(path, heat), Catch::Contains("10x600"));

  io::LinePlot lines;
  CHECK_THROWS_WITH(io::plot_lines(path, lines), Catch::Contains("no series"));
  lines.series.push_back({"a", {1, 2, 3}, {1, 2}, {}});
  CHECK_THROWS_WITH(io::plot_lines(path, lines), Catch::Contains("3 x and 2 y values"));
  lines.series[0] = {"a", {0, 1}, {1, 2}, {}};
  lines.x.log = true;
  CHECK_THROWS_WITH(io::plot_lines(path, lines), Catch::Contains("<= 0 on a log axis"));
  lines.x.log = false;
  lines.series[0].y[1] = INFINITY;
  CHECK_THROWS_WITH(io::plot_lines(path, lines), Catch::Contains("infinite"));

  io::BarPlot bars;
  bars.categories = {"a", "b"};
  bars.series.push_back({"s", {}, {1, 2, 3}, {}});
  CHECK_THROWS_WITH(io::plot_bars(path, bars), Catch::Contains("3 values for 2 categories"));

  io::ImageGridPlot grid;
  grid.rows = grid.cols = 2;
  grid.images = {{1, 2, 3, 4}, {1, 2, 3}};
  CHECK_THROWS_WITH(io::plot_image_grid(path, grid), Catch::Contains("image 1 has 3 values"));
  CHECK(dir.entries().empty());

  // A folder that does not exist: IoError naming the file, before PLplot runs.
  io::LinePlot ok;
  ok.series.push_back({"a", {0, 1}, {1, 2}, {}});
  CHECK_THROWS_AS(io::plot_lines(dir.file("missing/x.png"), ok), IoError);
  CHECK_THROWS_WITH(io::plot_lines(dir.file("missing/x.png"), ok), Catch::Contains("missing/x.png"));
  // ...and the next figure still draws.
  if (io::plotting_available()) {
    io::plot_lines(dir.file("after.png"), ok);
    CHECK(png_size(dir.file("after.png")).first == 800u);
  }
}
