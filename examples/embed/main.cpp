// The smallest complete program that embeds trim (walked through in
// docs/embedding.md; `meson test` builds and runs it).
//
// It loads a small CNN exported from PyTorch to ONNX (LeNet-like, input
// [1, 16, 16], 10 outputs), explains one image in Fourier space (fft2) with
// integrated gradients summed over 6 radial frequency bands, prints the
// result and checks it. The image holds only two frequencies, so the answer
// is known whatever the network's weights: every band without one of them
// must score zero.
//
// Usage: trim-embed [model.onnx]   (default: the test fixture lenet.onnx)
#include <trim/trim.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  try {
    // 1. The model: any ONNX file with one input [N, 1, 16, 16] and one output.
    const trim::Graph model = trim::io::load_onnx(argc > 1 ? argv[1] : TRIM_EMBED_MODEL);

    // 2. One image: a constant, a slow vertical wave (1 cycle per 16 pixels:
    //    normalised radius 0.125) and a fast horizontal one (5 cycles: 0.625).
    trim::Tensor x({1, 1, 16, 16});
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 16; ++c)
        x.at({0, 0, r, c}) =
            static_cast<float>(0.3 + std::cos(2 * M_PI * r / 16) + 0.5 * std::cos(2 * M_PI * 5 * c / 16));

    // 3. TRIM: the model seen from the image's fft2 coefficients s,
    //    f'(s) = f(Re(ifft2(s))), and the groups to attribute to.
    auto fft2 = trim::make_transform("fft2", {1, 16, 16});
    const trim::TrimModel tm(model, fft2);
    const trim::Tensor s = tm.coefficients(x);  // [1, 1, 16, 16, 2]
    const trim::Grouping bands = trim::radial_bands(*fft2, 6);

    // 4. Integrated gradients of the predicted class, per band.
    const trim::Tensor logits = model.evaluate(x);
    int predicted = 0;
    for (int k = 1; k < logits.dim(1); ++k)
      if (logits[k] > logits[predicted]) predicted = k;
    trim::AttributionOptions options = tm.options_for(x);
    options.targets = trim::Targets(predicted);
    options.grouping = &bands;
    const trim::Attribution a = trim::integrated_gradients(tm.graph(), s, {}, options);

    std::printf("model output %d (the largest of %ld) explained in fft2 space by integrated gradients\n", predicted,
                static_cast<long>(logits.dim(1)));
    std::printf("  band  normalised radius  score\n");
    double in_bands = 0.0, outside = 0.0;
    for (int b = 0; b < bands.size(); ++b) {
      const double score = a.group_scores[b];
      std::printf("  %4d  %-17s  %+.5f\n", b, bands.names[b].c_str(), score);
      if (b == 0 || b == 2) in_bands += std::fabs(score);  // radii 0 and 0.125 (band 0), 0.625 (band 2)
      else outside += std::fabs(score);
    }
    double total = 0.0;
    for (float v : a.attributions) total += v;
    const double change = tm.forward(s)[predicted] - tm.forward(trim::Tensor(s.shape()))[predicted];
    std::printf("  sum of band scores %+.5f = f(x) - f(baseline) %+.5f (delta %+.1e)\n", total, change, a.delta[0]);

    // 5. Checks; a failure exits non-zero (meson test reports it).
    int failures = 0;
    auto check = [&](bool ok, const char* what) {
      std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what);
      failures += ok ? 0 : 1;
    };
    check(trim::max_abs_diff(tm.forward(s), logits) < 1e-4f, "the TRIM model reproduces the model's output");
    check(std::fabs(total - change) < 1e-3 * (1.0 + std::fabs(change)), "the scores add up to the output change");
    check(outside < 1e-4 * (in_bands + 1e-6) && in_bands > 0,
          "only the bands holding the image's frequencies (0 and 2) score");
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {  // trim reports every problem as an exception naming it
    std::fprintf(stderr, "trim-embed: %s\n", e.what());
    return 2;
  }
}
