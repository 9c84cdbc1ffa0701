// The reference's "TRIM (CD) score vs scale" figure.
#include <cstdio>

#include "demo.hpp"
#include "example.hpp"

namespace demo {

bool write_figure(const std::string& path, const BandCurve& cd, const Sky& sky) {
  if (!example::can_plot()) return false;
  trim::io::LinePlot plot;
  char title[128];
  std::snprintf(title, sizeof title, "TRIM (CD) score vs scale: %zu bands of width %.2f", cd.centres.size(),
                cd.width);
  plot.figure.title = title;
  plot.figure.width = 720;
  plot.figure.height = 480;
  char label[128];
  std::snprintf(label, sizeof label, "multipole l  (%.0f arcmin pixels; l = %.0f x normalised radius)",
                sky.pixel_arcmin, sky.multipole(1.0));
  plot.x.label = label;
  plot.y.label = "mean CD score (standardised output)";
  const char* names[2] = {"log A output", "B output"};
  for (int output : {1, 0}) {
    trim::io::Series series;
    series.label = names[output];
    for (size_t j = 0; j < cd.centres.size(); ++j) {
      series.x.push_back(sky.multipole(cd.centres[j]));
      series.y.push_back(cd.mean[static_cast<size_t>(output)][j]);
    }
    plot.series.push_back(series);
  }
  plot.markers = {sky.multipole(sky.k0)};
  plot.markers_label = "bump centre k0";
  trim::io::plot_lines(path, plot);
  return true;
}

}  // namespace demo
