// `trim sweep`: contextual decomposition of a sliding radial frequency band,
// the reference's "which scales matter" curve.
#include "commands.hpp"
#include "figures.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "trim/attribution/cd.hpp"

namespace trim::cli {

namespace {

/// Examples per cd_band_sweep call (all bands of an example go as one batch).
constexpr int64_t kExamplesPerCall = 4;

void run_sweep(const Args& args) {
  const std::string out = args.required("output"), plot = args.get("plot");
  const std::vector<double> centers = parse_range(args.required("centers"), "centers");
  const double width = args.get_double("width", 0, 0, 1e6);
  if (!args.has("width") || !(width > 0)) throw UsageError("--width W (the full band width, > 0) is required");
  Outputs outputs;
  outputs.declare(out, "-o");
  outputs.declare_plot(plot, "--plot");
  if (!is_fourier(args.required("transform")))
    throw UsageError("--transform '" + args.get("transform") +
                     "': a band sweep needs a Fourier transform (fft1, fft2, rfft1 or rfft2)");
  const TrimSetup setup = load_trim_setup(args);
  const Tensor& s = setup.coefficients;
  const Tensor& residual = setup.residual;

  const int64_t N = s.dim(0), T = static_cast<int64_t>(setup.targets.size()), C = static_cast<int64_t>(centers.size());
  Tensor curve({T, N, C});
  Progress progress("sweep", N, "examples", args.has("quiet"));
  for (int64_t e0 = 0; e0 < N; e0 += kExamplesPerCall) {
    const int64_t e1 = std::min(N, e0 + kExamplesPerCall), n = e1 - e0;
    CdOptions o;
    o.targets = Targets(setup.targets);
    if (residual.numel() > 0) o.extra_inputs = {rows(residual, e0, e1)};
    const CdResult r = cd_band_sweep(setup.trim->graph(), rows(s, e0, e1), *setup.transform, centers, width, o);
    for (int64_t k = 0; k < T; ++k)
      std::copy(r.rel.begin() + k * n * C, r.rel.begin() + (k + 1) * n * C, curve.begin() + (k * N + e0) * C);
    progress.advance(n);
  }
  outputs.npy(out, curve, "the sweep");
  if (!plot.empty()) {
    std::string title = "CD band sweep, " + setup.transform->spec();
    if (N > 1) title += ", mean of " + std::to_string(N);
    outputs.file(plot, [&](const std::string& tmp) { plot_sweep(tmp, centers, width, curve, setup.targets, title); });
  }
  outputs.commit();
}

}  // namespace

Command sweep_command() {
  CommandSpec s;
  s.name = "sweep";
  s.summary = "CD band sweep: contextual decomposition of a sliding frequency band";
  s.description =
      "For each centre c of --centers, the radial band [c - W/2, c + W/2) of the normalised frequency radius "
      "(numpy's fftfreq divided by its largest magnitude per axis, so 1 is the Nyquist frequency along an axis; "
      "radii reach sqrt(2) in 2-D) is the relevant part of the coefficients, and contextual decomposition gives the "
      "part of each output it explains. --width is the full width of the band (the reference's \"+-0.05\" is "
      "--width 0.1).\n\n"
      "Writes [targets, batch, centres]. The model must have no opaque node (e.g. explain the logits, not a "
      "softmax; 'trim info' tells).";
  s.positionals = model_and_input();
  s.options = {
      {"transform", "SPEC", "fft1, fft2, rfft1 or rfft2, optionally with :backward, :ortho or :forward (required)"},
      {"centers", "A:B:N", "N band centres from A to B inclusive (numpy.linspace), in normalised radius (required)"},
      {"width", "W", "the full width of every band, in normalised radius (required)"},
      target_option(),
      {"residual", "", "always add the residual input r (not needed for Fourier transforms, which are exact)"},
      output_option("the curves [targets, batch, centres] (float32 .npy)"),
      {"plot", "FILE.png", "also draw the curves (mean over the batch, one per target, at most 10)"},
      quiet_option(),
  };
  s.examples = "  trim sweep cnn.onnx maps.npy --transform fft2 --centers 0.05:1.35:27 --width 0.1 -o curve.npy\n";
  return {s, run_sweep};
}

}  // namespace trim::cli
