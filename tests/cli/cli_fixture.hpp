#pragma once
// A temporary folder prepared for the CLI tests: small models saved as ONNX
// (built with trim's builder, so their exact functions are known), inputs
// and dictionary files, all written by trim's own writers.
#include <cmath>
#include <string>

#include "../attribution/models.hpp"  // relu_cnn: piecewise linear, [*, 1, 8, 8] -> 3
#include "cli_runner.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/graph/nn.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/onnx.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::test {

/// A smooth image model (tanh), [*, 1, 8, 8] -> 3 outputs: integrated
/// gradients converge to completeness quickly on it.
inline Graph smooth_image_model() {
  Graph g(41);
  NodeId x = nn::input(g, "x", {1, 8, 8});
  x = nn::tanh(g, nn::linear(g, nn::flatten(g, x), 12, "fc1"));
  g.set_outputs({nn::linear(g, x, 3, "fc2")});
  g.finalize();
  return g;
}

inline std::string fixture_model(const std::string& name) {
  return std::string(TRIM_FIXTURE_DIR) + "/onnx/" + name + ".onnx";
}

struct CliFolder {
  TempDir dir{"cli"};
  Tensor x = randn({2, 1, 8, 8}, 1);          ///< x.npy: a batch of two examples
  Tensor positive = randn({2, 1, 8, 8}, 2);   ///< pos.npy: |values|, for NMF codes

  CliFolder() {
    io::save_onnx(smooth_image_model(), file("smooth.onnx"));
    io::save_onnx(relu_cnn(), file("relu.onnx"));
    io::write_npy(file("x.npy"), x);
    for (float& v : positive) v = std::fabs(v);
    io::write_npy(file("pos.npy"), positive);
  }

  std::string file(const std::string& name) const { return dir.file(name); }

  /// The graph of a model saved in the folder, as trim reads it back.
  Graph model(const std::string& name) const { return io::load_onnx(file(name)); }

  /// Dictionary files over 64 features (one [1, 8, 8] example): nmf.npy (6
  /// components, lossy), pca.npy (fitted on 40 samples: lossy) and
  /// dict.npy (64 random atoms: exact).
  void write_dictionaries() const {
    Tensor data = randn({40, 64}, 3);
    for (float& v : data) v = std::fabs(v);
    NmfOptions o;
    o.n_components = 6;
    NMF nmf(o);
    nmf.fit(to_matrix(data));
    nmf.save(file("nmf.npy"));
    PCA pca;
    pca.fit(to_matrix(data));
    pca.save(file("pca.npy"));
    save_dictionary(file("dict.npy"), to_matrix(randn({64, 64}, 4)));
  }
};

/// Runs trim in the folder and requires success with nothing on stderr
/// (stderr is a pipe, so no progress bar either).
inline RunResult run_ok(const CliFolder& f, const std::vector<std::string>& args) {
  RunResult r = run_trim(args, f.dir.path.string());
  INFO("trim stderr: " << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.err.empty());
  return r;
}

}  // namespace trim::test
