// trim's main demo: which scales does a CNN use to read cosmology off a map?
//
// Weak-lensing-like maps are Gaussian random fields whose power spectrum
// P(k) = A·k^(−n)·(1 + B·bump(k; k0, σ)) has an amplitude A and a bump of
// height B at scale k0, both drawn per map. A small CNN, trained with trim's
// own training code, regresses (log A, B). TRIM then explains held-out maps
// in Fourier space: the model composed with the inverse FFT is attributed to
// radial frequency bands with contextual decomposition (a sweep of narrow
// bands), integrated gradients and Shapley values. B lives at k0 alone, so a
// faithful explanation of the B output must point there: the demo checks it.
//
// Usage: trim-demo [--maps N] [--explain N] [--epochs N] [--bands N] [--figure PATH]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "demo.hpp"
#include "example.hpp"

namespace {

struct Options {
  int64_t train_maps = 3000;
  int64_t test_maps = 500;
  int64_t explain_maps = 100;
  int epochs = 24;
  int sweep_bands = 100;
  std::string figure = "trim-demo-scales.png";
};

void usage(const char* argv0) {
  std::printf("usage: %s [--maps N] [--explain N] [--epochs N] [--bands N] [--figure PATH]\n"
              "  --maps N      training maps (default 3000; 500 more are held out)\n"
              "  --explain N   held-out maps explained with TRIM (default 100)\n"
              "  --epochs N    training epochs (default 24)\n"
              "  --bands N     narrow bands in the CD sweep (default 100)\n"
              "  --figure PATH where to write the CD score vs scale PNG (default trim-demo-scales.png)\n",
              argv0);
}

/// Parses the command line; exits with a message on anything unexpected.
Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(argv[0]);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "trim-demo: unknown option or missing value: '%s'\n", arg.c_str());
      usage(argv[0]);
      std::exit(2);
    }
    const std::string value = argv[++i];
    if (arg == "--figure") {
      o.figure = value;
      continue;
    }
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0' || n < 1 || n > 1000000) {
      std::fprintf(stderr, "trim-demo: %s expects a positive integer, got '%s'\n", arg.c_str(), value.c_str());
      std::exit(2);
    }
    if (arg == "--maps") o.train_maps = n;
    else if (arg == "--explain") o.explain_maps = n;
    else if (arg == "--epochs") o.epochs = static_cast<int>(n);
    else if (arg == "--bands") o.sweep_bands = static_cast<int>(n);
    else {
      std::fprintf(stderr, "trim-demo: unknown option '%s'\n", arg.c_str());
      usage(argv[0]);
      std::exit(2);
    }
  }
  return o;
}

/// Rows [0, count) of a batch.
trim::Tensor first_rows(const trim::Tensor& t, int64_t count) {
  std::vector<int64_t> index(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) index[static_cast<size_t>(i)] = i;
  trim::Tensor out;
  trim::train::gather_rows(t, index, out);
  return out;
}

std::string bar(double value, double top) {
  const int width = top > 0 ? static_cast<int>(40.0 * std::max(value, 0.0) / top + 0.5) : 0;
  return std::string(static_cast<size_t>(std::min(width, 40)), '#');
}

/// The sweep's curve, every `stride`-th band (the figure shows them all).
void print_sweep(const demo::BandCurve& cd, const demo::Sky& sky, size_t stride) {
  double top = 0;
  for (double v : cd.mean[1]) top = std::max(top, v);
  std::printf("\nMean CD score per narrow band (width %.2f) over the explained maps; every %zu%s of the %zu "
              "bands:\n",
              cd.width, stride, stride == 2 ? "nd" : stride == 3 ? "rd" : "th", cd.centres.size());
  std::printf("  %6s %7s %10s %10s   B output\n", "radius", "l", "log A", "B");
  for (size_t j = 0; j < cd.centres.size(); j += stride)
    std::printf("  %6.2f %7.0f %10.4f %10.4f   %s%s\n", cd.centres[j], sky.multipole(cd.centres[j]), cd.mean[0][j],
                cd.mean[1][j], bar(cd.mean[1][j], top).c_str(), cd.holds(j, sky.k0) ? "  <- k0" : "");
}

void print_bands(const demo::BandCurve& ig, const demo::BandCurve& shap, const demo::Sky& sky) {
  std::printf("\nMean score per radial band (%zu bands of width %.3f):\n", ig.centres.size(), ig.width);
  std::printf("  %6s %7s | %21s | %21s\n", "", "", "integrated gradients", "Shapley values");
  std::printf("  %6s %7s | %10s %10s | %10s %10s\n", "radius", "l", "log A", "B", "log A", "B");
  for (size_t j = 0; j < ig.centres.size(); ++j)
    std::printf("  %6.3f %7.0f | %10.4f %10.4f | %10.4f %10.4f%s\n", ig.centres[j], sky.multipole(ig.centres[j]),
                ig.mean[0][j], ig.mean[1][j], shap.mean[0][j], shap.mean[1][j], ig.holds(j, sky.k0) ? "  <- k0" : "");
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  return example::run("trim-demo", [&] {
    const example::Stopwatch clock;
    const demo::Sky sky;

    std::printf("trim demo: which scales does a CNN use to measure cosmology?\n");
    std::printf("  maps: %ldx%ld Gaussian random fields, P(k) = A k^-%.1f (1 + B exp(-(k-k0)^2/2s^2)),\n"
                "  k0 = %.2f, s = %.2f (normalised radius; l0 = %.0f with %.0f arcmin pixels),\n"
                "  A log-uniform in [%.1f, %.1f], B uniform in [%.0f, %.0f]\n",
                static_cast<long>(sky.size), static_cast<long>(sky.size), sky.n, sky.k0, sky.sigma,
                sky.multipole(sky.k0), sky.pixel_arcmin, sky.a_min, sky.a_max, sky.b_min, sky.b_max);

    // 1. Data.
    const demo::MapSet train = demo::simulate_maps(sky, opt.train_maps, 1);
    const demo::MapSet test = demo::simulate_maps(sky, opt.test_maps, 2);
    const demo::TargetScaler scaler = demo::TargetScaler::fit(train);
    const trim::Tensor train_y = scaler.transform(train), test_y = scaler.transform(test);
    std::printf("  simulated %ld training and %ld held-out maps with FFTW  (%.1f s)\n",
                static_cast<long>(train.count()), static_cast<long>(test.count()), clock.seconds());

    // 2. Train the CNN to regress standardised (log A, B); see TargetScaler
    //    for why log A. R² is unchanged by the standardisation, but not by
    //    exp: R² of A itself is computed from the predicted A = exp(log A).
    trim::Graph cnn = demo::build_cnn(7, sky.size);
    std::printf("\nTraining the CNN (%ld parameters) with Adam on MSE:\n", static_cast<long>(cnn.num_trainable()));
    demo::TrainSettings settings;
    settings.epochs = opt.epochs;
    const std::vector<double> r2 = demo::train_cnn(cnn, train.maps, train_y, test.maps, test_y, settings);
    const std::vector<double> r2_ab =
        demo::r_squared(scaler.parameters(trim::train::predict(cnn, test.maps)), demo::true_parameters(test));
    std::printf("  held-out R²: A %.3f (log A %.3f), B %.3f  (need >= 0.9)  (%.1f s)\n", r2_ab[0], r2[0], r2_ab[1],
                clock.seconds());

    // 3. Explain held-out maps with TRIM.
    const int64_t n_explain = std::min(opt.explain_maps, test.count());
    std::printf("\nExplaining %ld held-out maps with TRIM in fft2 space (both outputs in one call):\n",
                static_cast<long>(n_explain));
    const std::vector<demo::BandCurve> curves =
        demo::explain(cnn, first_rows(test.maps, n_explain), sky, opt.sweep_bands, 12);
    const demo::BandCurve& cd = curves[0];
    print_sweep(cd, sky, std::max<size_t>(1, cd.centres.size() / 25));
    print_bands(curves[1], curves[2], sky);

    std::printf("\nGround truth: B lives at k0 = %.2f (l = %.0f). How often does the top band of the B output "
                "contain k0?\n",
                sky.k0, sky.multipole(sky.k0));
    for (const demo::BandCurve& c : curves)
      std::printf("  %-22s %5.1f %%  (%zu bands)\n", c.method.c_str(), 100.0 * c.hit_rate_b, c.centres.size());
    size_t peak = 0;
    for (size_t j = 1; j < cd.centres.size(); ++j)
      if (cd.mean[1][j] > cd.mean[1][peak]) peak = j;
    std::printf("  mean CD curve of B peaks at radius %.2f (l = %.0f)\n", cd.centres[peak],
                sky.multipole(cd.centres[peak]));

    // 4. Which of the methods is most faithful to this CNN?
    const std::string most_faithful =
        demo::faithfulness(cnn, first_rows(test.maps, std::min<int64_t>(n_explain, 40)), sky, 12);

    // 5. The figure.
    if (demo::write_figure(opt.figure, cd, sky)) std::printf("\n  wrote %s\n", opt.figure.c_str());

    std::printf("\nChecks:\n");
    example::Checks checks;
    checks.expect(r2_ab[0] >= 0.9 && r2[0] >= 0.9, "held-out R² of A (and of log A) >= 0.9");
    checks.expect(r2_ab[1] >= 0.9, "held-out R² of B >= 0.9");
    checks.expect(cd.holds(peak, sky.k0), "the mean CD curve of the B output peaks at k0");
    for (const demo::BandCurve& c : curves)
      checks.expect(c.hit_rate_b >= 0.8, c.method + ": the top band of the B output holds k0 for >= 80 % of the maps");
    // See example::Completeness for why the tolerance is relative.
    checks.expect(curves[1].delta_relative < 0.02,
                  "integrated gradients add up to F(x) - F(0) within 2 % of the output scale");
    checks.expect(!most_faithful.empty(), "a most faithful method is named");
    return checks.finish(clock);
  });
}
