// Which frequency bands does an audio classifier listen to?
//
// Short clips (1024 samples at 8 kHz, 128 ms) belong to one of four classes;
// a class is defined by the 250 Hz band that carries band-limited noise. Every
// clip also has white noise and a mains-like hum at a random 100–200 Hz with a
// random level, shared by all classes (a distractor). A 1-D CNN is trained on
// the raw waveform with trim's training code. TRIM then explains each clip's
// own class logit in its real spectrum (rfft1), grouped into 16 bands of
// 250 Hz with `physical_bands`, with integrated gradients (baseline: silence)
// and contextual decomposition. Averaged over the held-out clips of a class,
// the top band must be that class's band, and the hum must get almost no
// credit; the program checks both and exits with status 1 if a check fails.
//
// Usage: trim-audio-bands [output directory for the PNG figure, default "."]
#include <trim/trim.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "example.hpp"

using namespace trim;

namespace {

constexpr double kRate = 8000.0;  // Hz
constexpr int64_t kSamples = 1024;
constexpr double kBandWidth = 250.0;  // Hz, of the analysis bands
constexpr int kClasses = 4;
constexpr int64_t kTrainPerClass = 500;
constexpr int64_t kTestPerClass = 100;

/// The band [lo, lo + 250) Hz that carries each class's energy; the gaps
/// between them hold only noise.
const double kClassBandLow[kClasses] = {500.0, 1250.0, 2000.0, 2750.0};
constexpr int kHumBand = 0;  // 0-250 Hz holds the hum

struct Clips {
  Tensor x;       ///< [N, 1, kSamples]
  Tensor labels;  ///< [N] class indices
};

/// `per_class` clips of every class, interleaved. The class band is drawn in
/// the frequency domain (complex Gaussian bins inside the band, inverse rfft),
/// scaled to a random RMS, then hum and white noise are added in time.
Clips synthesise(int64_t per_class, const Transform& rfft, uint64_t seed) {
  Rng rng(seed);
  const int64_t n = per_class * kClasses, bins = kSamples / 2 + 1;
  Tensor spectrum({n, 1, bins, 2});
  Clips c{Tensor({n, 1, kSamples}), Tensor({n})};
  for (int64_t i = 0; i < n; ++i) {
    const int cls = static_cast<int>(i % kClasses);
    c.labels[i] = static_cast<float>(cls);
    for (int64_t k = 0; k < bins; ++k) {
      const double f = static_cast<double>(k) * kRate / kSamples;
      if (f < kClassBandLow[cls] || f >= kClassBandLow[cls] + kBandWidth) continue;
      spectrum.at({i, 0, k, 0}) = static_cast<float>(rng.normal());
      spectrum.at({i, 0, k, 1}) = static_cast<float>(rng.normal());
    }
  }
  const Tensor band = rfft.inverse(spectrum);
  for (int64_t i = 0; i < n; ++i) {
    const float* b = band.data() + i * kSamples;
    double power = 0;
    for (int64_t t = 0; t < kSamples; ++t) power += static_cast<double>(b[t]) * b[t];
    const double gain = rng.uniform(0.15f, 0.4f) / std::sqrt(power / kSamples);
    const double hum_freq = rng.uniform(100.0f, 200.0f), hum_amp = rng.uniform(0.3f, 1.0f);
    const double hum_phase = rng.uniform(0.0f, 6.2831853f);
    float* x = c.x.data() + i * kSamples;
    for (int64_t t = 0; t < kSamples; ++t)
      x[t] = static_cast<float>(gain * b[t] + hum_amp * std::sin(6.283185307179586 * hum_freq * t / kRate + hum_phase) +
                                rng.normal(0.0f, 0.3f));
  }
  return c;
}

/// A small 1-D CNN on raw waveforms: a long first kernel (33 taps, ~4 ms) so
/// that filters can be frequency selective, max-pooling as an envelope.
Graph make_cnn(uint64_t seed) {
  Graph g(seed);
  NodeId h = nn::input(g, "x", {1, kSamples});
  h = nn::relu(g, nn::conv1d(g, h, 16, 33, "conv1", nn::Conv1dOptions().padding(16)));
  h = nn::max_pool1d(g, h, 8);  // [16, 128]
  h = nn::relu(g, nn::conv1d(g, h, 16, 5, "conv2", nn::Conv1dOptions().padding(2)));
  h = nn::max_pool1d(g, h, 4);  // [16, 32]
  h = nn::flatten(g, nn::global_avg_pool(g, h));
  g.set_outputs({nn::linear(g, h, kClasses, "fc")});
  g.finalize();
  return g;
}

/// Mean score of each band over the clips of each class, each clip
/// explaining its own class logit: scores [N, bands] -> [class][band].
std::vector<std::vector<double>> class_means(const Tensor& scores, const Tensor& labels) {
  const int64_t n = scores.dim(0), bands = scores.dim(1);
  std::vector<std::vector<double>> mean(kClasses, std::vector<double>(bands, 0.0));
  std::vector<int64_t> count(kClasses, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int cls = static_cast<int>(labels[i]);
    ++count[cls];
    for (int64_t b = 0; b < bands; ++b) mean[cls][b] += scores.at({i, b});
  }
  for (int c = 0; c < kClasses; ++c)
    for (double& v : mean[c]) v /= static_cast<double>(std::max<int64_t>(count[c], 1));
  return mean;
}

int argmax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

void print_band_table(const char* method, const Grouping& bands, const std::vector<std::vector<double>>& mean) {
  std::printf("\n%s: mean band score of the class logit, held-out clips of each class\n", method);
  std::printf("| band (Hz) |");
  for (int c = 0; c < kClasses; ++c) std::printf(" class %d |", c);
  std::printf("\n|---|");
  for (int c = 0; c < kClasses; ++c) std::printf("---|");
  std::printf("\n");
  for (int b = 0; b < bands.size(); ++b) {
    std::printf("| %s |", bands.names[b].c_str());
    for (int c = 0; c < kClasses; ++c) std::printf(" %s%.3f%s |", argmax(mean[c]) == b ? "**" : "", mean[c][b],
                                                   argmax(mean[c]) == b ? "**" : "");
    std::printf("\n");
  }
}

/// Prints the top three bands of each class; true when every class's top
/// band is its own.
bool print_top_bands(const char* method, const Grouping& bands, const std::vector<std::vector<double>>& mean,
                     const std::vector<int>& class_band) {
  bool all = true;
  std::printf("\n%s: top bands per class\n", method);
  for (int c = 0; c < kClasses; ++c) {
    const std::vector<int> order = example::ranking(mean[c]);
    const bool ok = order[0] == class_band[c];
    all = all && ok;
    std::printf("  class %d (energy in %s Hz): top %s, then %s, %s  -> %s\n", c, bands.names[class_band[c]].c_str(),
                bands.names[order[0]].c_str(), bands.names[order[1]].c_str(), bands.names[order[2]].c_str(),
                ok ? "ok" : "WRONG");
  }
  return all;
}

/// Largest |score of the hum band| relative to the class band's score.
double hum_share(const std::vector<std::vector<double>>& mean, const std::vector<int>& class_band) {
  double worst = 0;
  for (int c = 0; c < kClasses; ++c)
    worst = std::max(worst, std::fabs(mean[c][kHumBand]) / std::max(mean[c][class_band[c]], 1e-12));
  return worst;
}

/// IG per band of each class, against frequency, with the class bands marked.
void write_figure(const std::string& path, const Grouping& bands, const std::vector<std::vector<double>>& ig_mean) {
  if (!example::can_plot()) return;
  io::LinePlot lp;
  lp.figure.title = "TRIM (integrated gradients) in 250 Hz bands, per class";
  lp.figure.width = 800;
  lp.figure.height = 480;
  lp.x = {"band centre (Hz)", 0.0, kRate / 2, false};
  lp.y.label = "mean band attribution to the class logit";
  double top = 0;
  for (const auto& m : ig_mean) top = std::max(top, *std::max_element(m.begin(), m.end()));
  lp.y.min = std::min(0.0, -0.15 * top);
  lp.y.max = 1.6 * top;  // room for the legend above the peaks
  for (int c = 0; c < kClasses; ++c) {
    io::Series sr;
    char label[64];
    std::snprintf(label, sizeof label, "class %d (%.0f-%.0f Hz)", c, kClassBandLow[c], kClassBandLow[c] + kBandWidth);
    sr.label = label;
    sr.x = bands.centers;
    sr.y = ig_mean[c];
    lp.series.push_back(sr);
    lp.markers.push_back(kClassBandLow[c] + kBandWidth / 2);
  }
  lp.markers_label = "class band centres";
  io::plot_lines(path, lp);
  std::printf("\n  wrote %s\n", path.c_str());
}

int run(const std::string& out_dir) {
  const example::Stopwatch clock;
  const auto rfft = make_transform("rfft1", {1, kSamples});
  std::printf("audio bands: %d classes of %ld-sample clips at %.0f Hz; class bands (Hz):", kClasses,
              static_cast<long>(kSamples), kRate);
  for (double lo : kClassBandLow) std::printf(" %.0f-%.0f", lo, lo + kBandWidth);
  std::printf("; hum at 100-200 Hz and white noise in every clip\n");
  const Clips train_set = synthesise(kTrainPerClass, *rfft, 1), test_set = synthesise(kTestPerClass, *rfft, 2);

  // 1. Train the CNN on waveforms.
  Graph model = make_cnn(7);
  example::train_adam(model, train_set.x, train_set.labels, train::loss_function(train::LossKind::CrossEntropy),
                      {/*epochs=*/5, /*batch_size=*/32, /*lr=*/2e-3, /*seed=*/3, /*report_every=*/1}, clock);
  const double acc = train::accuracy(train::predict(model, test_set.x), test_set.labels);
  example::step(clock, "1-D CNN trained on %ld clips; held-out accuracy %.1f %% (%ld clips)",
                static_cast<long>(train_set.x.dim(0)), 100.0 * acc, static_cast<long>(test_set.x.dim(0)));

  // 2. Explain each clip's own class logit in rfft1 coefficients, grouped
  //    into 250 Hz bands, by integrated gradients (baseline: silence) and CD.
  const TrimModel tm(model, rfft);
  std::vector<double> edges;
  for (double f = 0; f <= kRate / 2 + 1e-9; f += kBandWidth) edges.push_back(f);
  const Grouping bands = physical_bands(*rfft, edges, 1.0 / kRate, "Hz");
  std::vector<int> class_band(kClasses);
  for (int c = 0; c < kClasses; ++c) class_band[c] = static_cast<int>(kClassBandLow[c] / kBandWidth);
  const Tensor s = tm.coefficients(test_set.x);

  IntegratedGradientsOptions ig;
  ig.n_steps = 32;
  const example::OwnClassScores own =
      example::explain_own_class(tm.graph(), s, {}, test_set.labels, ig, &bands, /*with_cd=*/true);
  const example::Completeness& complete = own.completeness;
  example::step(clock, "integrated gradients (%d steps) and CD (%d bands) of each clip's own logit; IG max |delta| "
                "%.3f = %.1f %% of the rms output change %.2f",
                ig.n_steps, bands.size(), complete.max_delta, 100.0 * complete.relative(), complete.output_scale);

  const auto ig_mean = class_means(own.group_scores, test_set.labels);
  const auto cd_mean = class_means(own.cd, test_set.labels);
  print_band_table("Integrated gradients", bands, ig_mean);
  print_band_table("CD", bands, cd_mean);
  const bool ig_ok = print_top_bands("Integrated gradients", bands, ig_mean, class_band);
  const bool cd_ok = print_top_bands("CD", bands, cd_mean, class_band);
  const double hum_ig = hum_share(ig_mean, class_band), hum_cd = hum_share(cd_mean, class_band);
  std::printf("\nThe hum band (%s Hz) scores at most %.1f %% (IG) and %.1f %% (CD) of the class band\n",
              bands.names[kHumBand].c_str(), 100.0 * hum_ig, 100.0 * hum_cd);

  write_figure(out_dir + "/audio_bands.png", bands, ig_mean);

  std::printf("\nChecks:\n");
  example::Checks checks;
  checks.expect(acc >= 0.9, "the CNN classifies at least 90 % of the held-out clips");
  // See example::Completeness for why the tolerance is relative.
  checks.expect(complete.relative() < 0.02,
                "integrated gradients add up to F(x) - F(silence) within 2 % of the output scale");
  checks.expect(ig_ok, "integrated gradients: every class's top band is the band that defines it");
  checks.expect(cd_ok, "CD: every class's top band is the band that defines it");
  // The hum is louder than the class signal but the same in every class, so
  // it carries no information. CD hands a share of every bias to the parts in
  // proportion to their size, so the loud hum gets a little more there.
  checks.expect(hum_ig < 0.05, "IG: the hum, louder than the class signal, gets < 5 % of the class band's score");
  checks.expect(hum_cd < 0.1, "CD: the hum gets < 10 % of the class band's score");
  return checks.finish(clock);
}

}  // namespace

int main(int argc, char** argv) {
  return example::main_with_output_dir(argc, argv, "trim-audio-bands", run);
}
