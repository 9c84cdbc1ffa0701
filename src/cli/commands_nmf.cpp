// `trim nmf`: fit an NMF dictionary for the `nmf:DICT.npy` transform.
#include <cstdio>

#include "commands.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "trim/io/npy.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::cli {

namespace {

/// The samples of `path` as rows [n_samples, features] (trailing axes flattened).
MatrixXdRM read_samples(const std::string& path) {
  const io::NpyArray a = io::read_npy_array(path);
  if (a.shape.size() < 2 || a.shape[0] < 1)
    throw ShapeError("data '" + path + "' has shape " + Shape(a.shape).str() +
                     "; expected samples [n_samples, features...] with at least one sample");
  const int64_t n = a.shape[0], m = static_cast<int64_t>(a.values.size()) / n;
  for (size_t i = 0; i < a.values.size(); ++i)
    if (!std::isfinite(a.values[i]) || a.values[i] < 0)
      throw ValueError("data '" + path + "': sample " + std::to_string(static_cast<int64_t>(i) / m) + ", feature " +
                       std::to_string(static_cast<int64_t>(i) % m) + " is " + std::to_string(a.values[i]) +
                       " (NMF needs finite, non-negative data)");
  return Eigen::Map<const MatrixXdRM>(a.values.data(), n, m);
}

NmfOptions parse_options(const Args& args) {
  NmfOptions o;
  o.n_components = static_cast<int>(args.get_int("components", 0, 1, 1000000));
  if (!args.has("components")) throw UsageError("missing option --components");
  // The library's parsers name the accepted values; say which option was wrong.
  auto named = [&](const std::string& option, auto parse) {
    try {
      return parse(args.get(option));
    } catch (const ValueError& e) {
      throw UsageError("--" + option + " '" + args.get(option) + "': " + e.what());
    }
  };
  if (args.has("solver")) o.solver = named("solver", nmf_solver);
  if (args.has("init")) o.init = named("init", nmf_init);
  if (args.has("beta-loss")) o.beta_loss = named("beta-loss", nmf_beta_loss);
  if (o.init == NmfInit::Custom) throw UsageError("--init custom needs starting factors, which the CLI cannot take");
  o.max_iter = static_cast<int>(args.get_int("max-iter", o.max_iter, 1, 100000000));
  o.tol = args.get_double("tol", o.tol, 0, 1e30);
  o.seed = static_cast<uint64_t>(args.get_int("seed", 0, 0, (int64_t(1) << 32) - 1));
  return o;
}

void run_nmf(const Args& args) {
  const std::string& path = args.positional(0);
  const std::string out = args.required("output");
  const NmfOptions options = parse_options(args);
  Outputs outputs;
  outputs.declare(out, "-o");
  const MatrixXdRM X = read_samples(path);
  NMF nmf(options);
  {
    Progress progress("nmf", "fit", args.has("quiet"));
    progress.update(0, 1);
    nmf.fit(X);
    progress.update(1, 1);
    progress.finish();
  }
  outputs.file(out, [&](const std::string& tmp) { nmf.save(tmp); });
  outputs.commit();
  if (!args.has("quiet"))
    std::printf("nmf: %d components of %d features from %lld samples, reconstruction error %.6g after %d iterations\n",
                nmf.n_components(), nmf.n_features(), static_cast<long long>(X.rows()), nmf.reconstruction_err(),
                nmf.n_iter());
}

}  // namespace

Command nmf_command() {
  CommandSpec s;
  s.name = "nmf";
  s.summary = "fit an NMF dictionary (for --transform nmf:DICT.npy)";
  s.description =
      "Fits X ~ W H to the samples of DATA.npy ([n_samples, features...], the trailing axes flattened to features) "
      "with scikit-learn 1.2's algorithm and defaults, and writes the dictionary file: one float64 array "
      "[components + 1, features], row 0 the (zero) mean and rows 1.. the components H. Use it as --transform "
      "nmf:DICT.npy; the transform then codes examples whose trailing axes hold the same number of features. Prints "
      "the reconstruction error and the iterations run (unless --quiet).";
  s.positionals = {{"DATA.npy", "the training samples, non-negative"}};
  s.options = {
      {"components", "K", "number of components (required)"},
      {"solver", "cd|mu", "coordinate descent (default) or multiplicative updates"},
      {"init", "auto|random|nndsvd|nndsvda|nndsvdar", "the start (default auto: nndsvda when K <= min(n_samples, "
                                                       "features), else random)"},
      {"beta-loss", "frobenius|kullback-leibler|itakura-saito|NUMBER", "the divergence (default frobenius; others "
                                                                         "need --solver mu)"},
      {"max-iter", "N", "iteration limit (default 200)"},
      {"tol", "T", "stopping tolerance (default 1e-4)"},
      {"seed", "S", "scikit-learn's random_state for the random starts (default 0)"},
      output_option("the dictionary file (float64 .npy)"),
      quiet_option(),
  };
  s.examples = "  trim nmf train_digits.npy --components 16 -o nmf16.npy\n";
  return {s, run_nmf};
}

}  // namespace trim::cli
