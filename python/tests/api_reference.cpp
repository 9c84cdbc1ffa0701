// The C++ API on the inputs of test_api.py, for the bit-for-bit comparison
// with the Python module: integrated gradients in fft2 space (steps 8,
// every output, the default zero baseline), the evaluation of those attributions
// (evaluate_attribution with its defaults), a CD band sweep, each one library call,
// and gradient SHAP of the first example with and without its delta.
//   api_reference MODEL.onnx X.npy OUT_DIR
#include <cstdio>
#include <exception>

#include "trim/trim.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: api_reference MODEL.onnx X.npy OUT_DIR\n");
    return 2;
  }
  try {
    const trim::Graph model = trim::io::load_onnx(argv[1]);
    const trim::Tensor x = trim::io::read_npy(argv[2]);
    const std::string out = argv[3];
    trim::Shape example;
    for (int a = 1; a < x.rank(); ++a) example.push_back(x.dim(a));
    const auto t = trim::make_transform("fft2", example);
    const trim::TrimModel tm(model, t);
    const trim::Tensor s = tm.coefficients(x);

    trim::IntegratedGradientsOptions ig;
    ig.n_steps = 8;
    const trim::Attribution a = trim::integrated_gradients(tm.graph(), s, ig, {});
    trim::io::write_npy(out + "/ig.npy", a.attributions);
    trim::io::write_npy(out + "/ig_delta.npy", a.delta);

    // Every metric of the evaluation API for those attributions, its defaults.
    const trim::EvaluationReport ev = trim::evaluate_attribution(tm, s, a, {});
    trim::io::write_npy(out + "/eval_deletion.npy", ev.curves.deletion);
    trim::io::write_npy(out + "/eval_random_insertion.npy", ev.curves.random_insertion_mean);
    trim::io::write_npy(out + "/eval_road_morf.npy", ev.curves.road_morf);
    trim::io::write_npy(out + "/eval_mu_fidelity.npy", ev.mu_fidelity);
    trim::io::write_npy(out + "/eval_infidelity.npy", ev.infidelity);

    const trim::CdResult cd = trim::cd_band_sweep(tm.graph(), s, *t, {0.1, 0.4, 0.7, 1.0}, 0.3);
    trim::io::write_npy(out + "/sweep.npy", cd.rel);

    // Gradient SHAP of the first example against the others' coefficients
    // (samples 6, stdev 0.1, seed 3; the module calls it one example at a
    // time), with and without the convergence delta.
    if (x.dim(0) > 1) {
      trim::GradientShapOptions gs;
      gs.n_samples = 6;
      gs.stdev = 0.1f;
      gs.seed = 3;
      const trim::Tensor first = trim::example_rows(s, 0, 1), others = trim::example_rows(s, 1, s.dim(0));
      const trim::Attribution g = trim::gradient_shap(tm.graph(), first, others, gs, {});
      trim::io::write_npy(out + "/gs.npy", g.attributions);
      trim::io::write_npy(out + "/gs_delta.npy", g.delta);
      gs.convergence_delta = false;
      const trim::Attribution plain = trim::gradient_shap(tm.graph(), first, others, gs, {});
      if (plain.delta.numel() != 0) throw trim::Error("gradient_shap: a delta with convergence_delta off");
      trim::io::write_npy(out + "/gs_no_delta.npy", plain.attributions);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_reference: %s\n", e.what());
    return 1;
  }
  return 0;
}
