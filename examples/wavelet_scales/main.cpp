// wavelet_scales: at which scales and orientations does a CNN read digits?
//
// scikit-learn's digits (8×8) are upsampled to 16×16 (bilinear) and a small
// CNN is trained on them with trim's own training code. TRIM explains the CNN
// in the coefficients of a 3-level Haar wavelet decomposition (PyWavelets'
// wavedec2): f'(s) = f(idwt2(s)), exact, so no residual. Integrated gradients
// and contextual decomposition of each image's true-class logit are summed
// per sub-band (level × orientation: cA3, cH3, cV3, cD3, ..., cD1). As a
// check independent of either method, the table also shows the test accuracy
// with each sub-band removed.
//
// Usage: trim-wavelet-scales [output directory for the PNG figures, default "."]
#include <trim/trim.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "digits.hpp"
#include "example.hpp"

using namespace trim;

namespace {

constexpr int64_t kSide = 16;  // upsampled image size
constexpr int kLevel = 3;      // Haar levels on 16×16: the details are 8×8, 4×4 and 2×2

/// [N, 64] 8×8 images -> [N, 1, 16, 16], bilinear with half-pixel centres
/// (PyTorch's interpolate(..., align_corners=False)).
Tensor upsample(const Tensor& images) {
  const int64_t n = images.dim(0), s = digits::kSide;
  Tensor out({n, 1, kSide, kSide});
  auto source = [&](int64_t i, int64_t& lo, int64_t& hi, float& frac) {
    const float pos = std::max(0.0f, (static_cast<float>(i) + 0.5f) * static_cast<float>(s) / kSide - 0.5f);
    lo = std::min<int64_t>(static_cast<int64_t>(pos), s - 1);
    hi = std::min<int64_t>(lo + 1, s - 1);
    frac = pos - static_cast<float>(lo);
  };
  for (int64_t k = 0; k < n; ++k) {
    const float* src = images.data() + k * s * s;
    float* dst = out.data() + k * kSide * kSide;
    for (int64_t y = 0; y < kSide; ++y) {
      int64_t y0, y1;
      float fy;
      source(y, y0, y1, fy);
      for (int64_t x = 0; x < kSide; ++x) {
        int64_t x0, x1;
        float fx;
        source(x, x0, x1, fx);
        const float top = (1 - fx) * src[y0 * s + x0] + fx * src[y0 * s + x1];
        const float bottom = (1 - fx) * src[y1 * s + x0] + fx * src[y1 * s + x1];
        dst[y * kSide + x] = (1 - fy) * top + fy * bottom;
      }
    }
  }
  return out;
}

/// A small CNN: [1, 16, 16] -> 10 class logits.
Graph make_cnn(uint64_t seed) {
  Graph g(seed);
  NodeId h = nn::input(g, "x", {1, kSide, kSide});
  h = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, h, 8, {3, 3}, "conv1", nn::Conv2dOptions().padding(1))), {2, 2});
  h = nn::max_pool2d(g, nn::relu(g, nn::conv2d(g, h, 16, {3, 3}, "conv2", nn::Conv2dOptions().padding(1))), {2, 2});
  h = nn::relu(g, nn::linear(g, nn::flatten(g, h), 32, "fc1"));
  g.set_outputs({nn::linear(g, h, digits::kClasses, "fc2")});
  g.finalize();
  return g;
}

/// Mean over the examples of each column of scores [N, K] (|scores| with `absolute`).
std::vector<double> column_means(const Tensor& scores, bool absolute = false) {
  const int64_t n = scores.dim(0), k = scores.numel() / n;
  std::vector<double> mean(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      const double v = scores[i * k + j];
      mean[j] += (absolute ? std::fabs(v) : v) / static_cast<double>(n);
    }
  return mean;
}

std::vector<double> shares(const std::vector<double>& v) {
  double total = 0.0;
  for (double x : v) total += std::fabs(x);
  std::vector<double> out;
  for (double x : v) out.push_back(total > 0 ? x / total : 0.0);
  return out;
}

/// Spearman's rank correlation of two lists (no ties expected).
double rank_correlation(const std::vector<double>& a, const std::vector<double>& b) {
  auto ranks = [](const std::vector<double>& v) {
    std::vector<double> r(v.size());
    const std::vector<int> order = example::ranking(v);
    for (size_t i = 0; i < order.size(); ++i) r[order[i]] = static_cast<double>(i);
    return r;
  };
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  double d2 = 0;
  for (size_t i = 0; i < a.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  return 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
}

void write_figures(const std::string& dir, const WaveletTransform& wt, const Grouping& bands,
                   const std::vector<double>& coefficient_scores, const std::vector<double>& ig_share,
                   const std::vector<double>& cd_share, const std::vector<double>& energy_share) {
  if (!example::can_plot()) return;
  io::HeatmapPlot mosaic = io::wavelet_mosaic(wt, coefficient_scores);
  mosaic.figure.title = "Mean |IG| of the true-class logit per Haar coefficient";
  mosaic.figure.width = 640;
  mosaic.figure.height = 560;
  mosaic.symmetric = false;
  mosaic.colorbar_label = "mean |IG| (logit units)";
  mosaic.x.label = "cA_3 top left; each level: cV top right, cH bottom left, cD bottom right";
  mosaic.y.label = "coefficient row (levels 3, 2, 1 outwards)";
  const std::string mosaic_png = dir + "/wavelet_scales_mosaic.png";
  io::plot_heatmap(mosaic_png, mosaic);

  io::BarPlot bars;
  bars.figure.title = "Share of the true-class logit per wavelet sub-band";
  bars.figure.width = 800;
  bars.figure.height = 480;
  bars.categories = bands.names;
  bars.x_label = "sub-band (level 3 = coarsest)";
  bars.y.label = "share of the total (|score| or energy)";
  bars.series = {{"IG", {}, ig_share, {}}, {"CD", {}, cd_share, {}}, {"coefficient energy", {}, energy_share, {}}};
  const std::string bars_png = dir + "/wavelet_scales_bars.png";
  io::plot_bars(bars_png, bars);
  std::printf("  wrote %s and %s\n", mosaic_png.c_str(), bars_png.c_str());
}

int run(const std::string& out_dir) {
  const example::Stopwatch clock;
  example::Checks checks;
  std::printf("wavelet_scales: attribution of a digit CNN to Haar wavelet sub-bands\n");

  // 1. Data: digits upsampled to 16×16.
  const digits::Split data = digits::load(DIGITS_IMAGES, DIGITS_LABELS, /*seed=*/42);
  const Tensor train_x = upsample(data.train_x), test_x = upsample(data.test_x);
  example::step(clock, "%ld training / %ld test images, upsampled to 16x16", static_cast<long>(train_x.dim(0)),
                static_cast<long>(test_x.dim(0)));

  // 2. The CNN.
  Graph cnn = make_cnn(/*seed=*/11);
  example::train_adam(cnn, train_x, data.train_y, train::loss_function(train::LossKind::CrossEntropy),
                      {/*epochs=*/15, /*batch_size=*/32, /*lr=*/2e-3, /*seed=*/5, /*report_every=*/5}, clock);
  const double accuracy = train::accuracy(train::predict(cnn, test_x), data.test_y);
  example::step(clock, "CNN conv8-pool-conv16-pool-fc32-fc10: test accuracy %.1f %%", 100.0 * accuracy);

  // 3. TRIM in Haar coefficients, grouped by sub-band.
  const auto wt = make_wavelet("dwt2", "haar", kLevel, kernels::DwtMode::Symmetric, {1, kSide, kSide});
  const TrimModel tm(cnn, wt);
  const Tensor s = tm.coefficients(test_x);
  const Grouping bands = wavelet_subbands(*wt);
  const float same = max_abs_diff(tm.forward(s), cnn.evaluate(test_x));
  const int64_t n = s.dim(0), per_example = s.numel() / n;
  example::step(clock, "%s: %ld coefficients in %d sub-bands; f(idwt2(s)) reproduces f(x) to %.1e",
                wt->spec().c_str(), static_cast<long>(per_example), bands.size(), same);

  // Each test image's own class logit, by IG (from the all-zero coefficients,
  // a black image) and by CD of each sub-band.
  IntegratedGradientsOptions ig;
  ig.n_steps = 64;
  const example::OwnClassScores own =
      example::explain_own_class(tm.graph(), s, {}, data.test_y, ig, &bands, /*with_cd=*/true);
  const example::Completeness& complete = own.completeness;
  example::step(clock, "integrated gradients (%d steps) and CD of each image's own logit: IG max |delta| %.3f = "
                "%.1f %% of the rms output change %.2f",
                ig.n_steps, complete.max_delta, 100.0 * complete.relative(), complete.output_scale);

  // 4. Per sub-band: energy, IG, CD and the accuracy without it.
  const int n_bands = bands.size();
  const std::vector<double> ig_mean = column_means(own.group_scores), cd_mean = column_means(own.cd);
  std::vector<double> energy(static_cast<size_t>(n_bands), 0.0), acc_drop(static_cast<size_t>(n_bands));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < per_example; ++j) energy[bands.labels[j]] += std::pow(s[i * per_example + j], 2);
  for (int b = 0; b < n_bands; ++b) {
    Tensor cut = s;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < per_example; ++j)
        if (bands.labels[j] == b) cut[i * per_example + j] = 0.0f;
    acc_drop[b] = accuracy - train::accuracy(tm.forward(cut), data.test_y);
  }
  const std::vector<double> energy_share = shares(energy), ig_share = shares(ig_mean), cd_share = shares(cd_mean);

  std::printf("\nTrue-class logit per sub-band, mean over %ld test images (accuracy with all bands %.1f %%)\n",
              static_cast<long>(n), 100.0 * accuracy);
  std::printf("  sub-band  level  size  energy %%   IG mean  IG %%    CD mean  CD %%   accuracy without\n");
  double finest_ig = 0;
  for (int b = 0; b < n_bands; ++b) {
    int64_t size = 0;
    for (int32_t l : bands.labels) size += l == b;
    if (bands.centers[b] == 1) finest_ig += ig_share[b];
    std::printf("  %-8s  %5.0f  %4ld  %7.1f  %8.3f  %5.1f  %8.3f  %5.1f  %6.1f %%\n", bands.names[b].c_str(),
                bands.centers[b], static_cast<long>(size), 100.0 * energy_share[b], ig_mean[b], 100.0 * ig_share[b],
                cd_mean[b], 100.0 * cd_share[b], 100.0 * (accuracy - acc_drop[b]));
  }
  const double ig_vs_drop = rank_correlation(ig_share, acc_drop);
  std::printf("  rank correlation of the IG share with the accuracy lost without the sub-band: %.2f\n", ig_vs_drop);

  // Coefficient-level map for the mosaic: mean |IG| of the own-class logit.
  write_figures(out_dir, *wt, bands, column_means(own.attributions, /*absolute=*/true), ig_share, cd_share,
                energy_share);

  std::printf("\nChecks:\n");
  checks.expect(accuracy > 0.9, "the CNN classifies more than 90 % of the test images");
  checks.expect(same < 1e-4f, "f(idwt2(dwt2(x))) = f(x): the Haar transform is exact");
  // See example::Completeness for why the tolerance is relative.
  checks.expect(complete.relative() < 0.02,
                "integrated gradients add up to F(x) - F(0) within 2 % of the output scale");
  checks.expect(ig_vs_drop > 0.7, "sub-bands with more IG credit cost more accuracy when removed (rank correlation "
                                  "> 0.7)");
  // The images were 8×8 before upsampling: the finest level (1-pixel detail
  // at 16×16) holds only interpolation, no information of its own.
  checks.expect(finest_ig < 0.1, "the finest level, finer than the original 8x8 pixels, gets < 10 % of the IG "
                                 "credit");
  return checks.finish(clock);
}

}  // namespace

int main(int argc, char** argv) {
  return example::main_with_output_dir(argc, argv, "trim-wavelet-scales", run);
}
