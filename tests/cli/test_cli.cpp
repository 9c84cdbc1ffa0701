// End-to-end tests of the `trim` tool on successful runs: the built binary is
// run in a temporary folder and what it writes is read back with trim's .npy
// reader and checked against the library called directly, and against
// properties that do not depend on how the tool is written (the model's own
// forward pass, reconstruction, completeness of integrated gradients,
// DeepLIFT and Shapley values).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_fixture.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/perturbation.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/io/plot.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using trim::test::CliFolder;
using trim::test::run_ok;
using trim::test::run_trim;

namespace {

/// max |a - b| <= rtol · max |b| (plus a tiny absolute floor).
void require_same(const Tensor& a, const Tensor& b, double rtol = 1e-5) {
  INFO("shapes " << a.shape().str() << " vs " << b.shape().str());
  REQUIRE(a.shape() == b.shape());
  double scale = 0, worst = 0;
  for (int64_t i = 0; i < b.numel(); ++i) scale = std::max(scale, std::fabs(double(b[i])));
  for (int64_t i = 0; i < b.numel(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  INFO("max |difference| " << worst << ", max |reference| " << scale);
  REQUIRE(worst <= rtol * scale + 1e-12);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Sum over everything after the first two axes: [T, N, ...] -> [T, N].
Tensor per_target_sums(const Tensor& a) {
  const int64_t T = a.dim(0), N = a.dim(1), per = a.numel() / (T * N);
  Tensor s({T, N});
  for (int64_t i = 0; i < T * N; ++i) {
    double acc = 0;
    for (int64_t j = 0; j < per; ++j) acc += a[i * per + j];
    s[i] = static_cast<float>(acc);
  }
  return s;
}

/// The model's outputs [N, outputs] transposed to [outputs, N] minus `base`
/// ([1, outputs] or [N, outputs], transposed the same way).
Tensor output_difference(const Tensor& y, const Tensor& base) {
  const int64_t N = y.dim(0), K = y.dim(1);
  Tensor d({K, N});
  for (int64_t k = 0; k < K; ++k)
    for (int64_t e = 0; e < N; ++e) d[k * N + e] = y[e * K + k] - base[(base.dim(0) == 1 ? 0 : e) * K + k];
  return d;
}

Tensor rows_of(const Tensor& t, int64_t begin, int64_t end) {
  Shape s = t.shape();
  const int64_t per = t.numel() / t.dim(0);
  s[0] = end - begin;
  Tensor out(s);
  std::copy(t.begin() + begin * per, t.begin() + end * per, out.begin());
  return out;
}

/// The same method the tool runs, called on the library directly (random
/// methods with the tool's documented seed + example index, one example at a
/// time).
Attribution library_attribution(const std::string& method, const Graph& g, const Tensor& s,
                                const AttributionOptions& o, const Tensor& baselines) {
  const bool random = method == "smoothgrad" || method == "gradient_shap";
  if (random && s.dim(0) > 1) {
    Attribution all;
    std::vector<Attribution> parts;
    for (int64_t e = 0; e < s.dim(0); ++e) {
      AttributionOptions oe = o;
      for (Tensor& extra : oe.extra_inputs) extra = rows_of(extra, e, e + 1);
      Tensor se = rows_of(s, e, e + 1);
      if (method == "smoothgrad") {
        SmoothGradOptions sg;
        sg.n_samples = 4;
        sg.stdev = 0.1f;
        sg.seed = 7 + static_cast<uint64_t>(e);
        parts.push_back(smoothgrad(gradient, g, se, sg, oe));
      } else {
        GradientShapOptions gs;
        gs.n_samples = 8;
        gs.stdev = 0.05f;
        gs.seed = 3 + static_cast<uint64_t>(e);
        parts.push_back(gradient_shap(g, se, baselines, gs, oe));
      }
    }
    // Stitch [T, 1, ...] parts into [T, N, ...].
    const Tensor& first = parts[0].attributions;
    Shape shape = first.shape();
    shape[1] = s.dim(0);
    all.attributions = Tensor(shape);
    const int64_t T = first.dim(0), per = first.numel() / T;
    for (int64_t e = 0; e < s.dim(0); ++e)
      for (int64_t t = 0; t < T; ++t)
        std::copy(parts[static_cast<size_t>(e)].attributions.begin() + t * per,
                  parts[static_cast<size_t>(e)].attributions.begin() + (t + 1) * per,
                  all.attributions.begin() + (t * s.dim(0) + e) * per);
    return all;
  }
  if (method == "gradient") return gradient(g, s, o);
  if (method == "saliency") return saliency(g, s, o);
  if (method == "input_x_gradient") return input_x_gradient(g, s, o);
  if (method == "integrated_gradients") return integrated_gradients(g, s, {}, o);
  if (method == "deeplift") return deeplift(g, s, {}, o);
  if (method == "deeplift_shap") return deeplift_shap(g, s, baselines, {}, o);
  if (method == "feature_ablation") return feature_ablation(g, s, {}, o);
  if (method == "shapley") return shapley(g, s, {}, o);
  if (method == "occlusion") {
    OcclusionOptions occ;
    occ.window = {2, 2, 2};  // the tool adds the (re, im) axis to --window 2,2
    return occlusion(g, s, occ, o);
  }
  if (method == "cd") {
    CdOptions cd;
    Attribution a;
    a.group_scores = contextual_decomposition(g, s, *o.grouping, cd).rel;
    return a;
  }
  FAIL("no reference for " << method);
  return {};
}

}  // namespace

TEST_CASE("cli: trim --help lists every command and each COMMAND --help documents its options", "[cli]") {
  CliFolder f;
  const std::string top = run_ok(f, {"--help"}).out;
  for (const char* c : {"info", "predict", "transform", "inverse", "attribute", "sweep", "nmf"}) {
    INFO(c);
    REQUIRE(top.find(std::string("  ") + c + " ") != std::string::npos);
    const std::string help = run_ok(f, {c, "--help"}).out;
    REQUIRE(help.find(std::string("Usage: trim ") + c) != std::string::npos);
    REQUIRE(help.find("-h, --help") != std::string::npos);
  }
  const std::string attribute = run_ok(f, {"attribute", "--help"}).out;
  for (const char* o : {"--transform", "--method", "--target", "--groups", "--baseline", "--steps", "--samples",
                        "--stdev", "--seed", "--window", "--strides", "--residual", "--output", "--plot", "--json",
                        "--quiet", "--no-convergence-delta", "radial:N", "band:CENTER:WIDTH", "subbands", "levels", "components",
                        "mask:FILE.npy"})
    CHECK(attribute.find(o) != std::string::npos);
  for (const char* m : {"gradient", "saliency", "input_x_gradient", "smoothgrad", "integrated_gradients", "deeplift",
                        "deeplift_shap", "gradient_shap", "feature_ablation", "occlusion", "shapley", "cd"})
    CHECK(attribute.find(std::string("  ") + m + ":") != std::string::npos);
  const std::string sweep = run_ok(f, {"sweep", "--help"}).out;
  CHECK(sweep.find("full width") != std::string::npos);
  CHECK(sweep.find("[c - W/2, c + W/2)") != std::string::npos);
  const std::string nmf = run_ok(f, {"nmf", "--help"}).out;
  for (const char* o : {"--components", "--solver", "--init", "--max-iter", "--beta-loss", "--tol", "--seed"})
    CHECK(nmf.find(o) != std::string::npos);
}

TEST_CASE("cli: info reports the per-example shapes, the outputs and opaque nodes", "[cli]") {
  CliFolder f;
  const std::string lenet = run_ok(f, {"info", test::fixture_model("lenet")}).out;
  CHECK(lenet.find("one example is [1,16,16]") != std::string::npos);
  CHECK(lenet.find("10 values per example") != std::string::npos);
  CHECK(lenet.find("log_softmax '/LogSoftmax'") != std::string::npos);
  const std::string relu = run_ok(f, {"info", f.file("relu.onnx")}).out;
  CHECK(relu.find("[N,1,8,8]") != std::string::npos);
  CHECK(relu.find("all (no opaque node)") != std::string::npos);
}

TEST_CASE("cli: predict equals the model's forward pass, for a batch and for one example", "[cli]") {
  CliFolder f;
  const Tensor x = test::randn({3, 4, 5}, 9);
  io::write_npy(f.file("mlp_x.npy"), x);
  io::write_npy(f.file("mlp_x1.npy"), rows_of(x, 1, 2).reshaped({4, 5}));
  const Graph mlp = io::load_onnx(test::fixture_model("mlp"));
  run_ok(f, {"predict", test::fixture_model("mlp"), "mlp_x.npy", "-o", "y.npy"});
  require_same(io::read_npy(f.file("y.npy")), mlp.evaluate(x), 1e-6);
  run_ok(f, {"predict", test::fixture_model("mlp"), "mlp_x1.npy", "-o", "y1.npy"});
  require_same(io::read_npy(f.file("y1.npy")), rows_of(mlp.evaluate(x), 1, 2), 1e-6);
  // Without -o the outputs are printed, one example per line.
  const std::string printed = run_ok(f, {"predict", test::fixture_model("mlp"), "mlp_x.npy"}).out;
  CHECK(std::count(printed.begin(), printed.end(), '\n') == 3);
  CHECK(printed.rfind("2:", 0) == std::string::npos);
  CHECK(printed.find("\n2: ") != std::string::npos);
}

TEST_CASE("cli: transform equals the library per example and inverse reconstructs, for every spec kind", "[cli]") {
  CliFolder f;
  f.write_dictionaries();
  struct Case {
    std::string spec;
    bool needs_shape;  // dwt: the coefficients do not determine the signal size; dictionaries: [1, 64] by default
    bool exact;
  };
  const std::vector<Case> cases = {
      {"identity", false, true},       {"fft1", false, true},         {"fft2", false, true},
      {"rfft1", false, true},          {"rfft2:ortho", false, true},  {"dct1", false, true},
      {"dct2:ortho", false, true},     {"dwt1:db2", true, true},      {"dwt2:db2:2:periodization", true, true},
      {"swt1:haar:2", false, true},    {"swt2:haar:1", false, true},
      {"fft2:polar", false, true},     {"rfft1:ortho:polar", false, true}, {"fft3", false, true},
      {"rfft3:polar", false, true},    {"dct3", false, true},         {"dwt3:haar:1", true, true},
      {"dict:" + f.file("dict.npy"), true, true},
      {"pca:" + f.file("pca.npy"), true, false}, {"nmf:" + f.file("nmf.npy"), true, false},  // nmf last: used below
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    const Tensor& x = c.spec.rfind("nmf", 0) == 0 ? f.positive : f.x;
    io::write_npy(f.file("in.npy"), x);
    run_ok(f, {"transform", c.spec, "in.npy", "-o", "s.npy"});
    const auto t = make_transform(c.spec, {1, 8, 8});
    const Tensor s = io::read_npy(f.file("s.npy"));
    require_same(s, t->forward(x), 1e-5);
    std::vector<std::string> inverse = {"inverse", c.spec, "s.npy", "-o", "back.npy"};
    if (c.needs_shape) inverse.insert(inverse.end(), {"--shape", "1,8,8"});
    run_ok(f, inverse);
    const Tensor back = io::read_npy(f.file("back.npy"));
    if (c.exact) {
      require_same(back, x, 1e-4);
    } else {
      require_same(back, t->inverse(s), 1e-5);
    }
  }
  // Without --shape a dictionary's inverse gives its features on the last axis.
  run_ok(f, {"inverse", "nmf:" + f.file("nmf.npy"), "s.npy", "-o", "flat.npy"});
  CHECK(io::read_npy(f.file("flat.npy")).shape() == Shape({2, 1, 64}));
  // --shape only validates: the same coefficients as the whole array.
  io::write_npy(f.file("in.npy"), f.x);
  run_ok(f, {"transform", "dwt2:haar", "in.npy", "--shape", "1,8,8", "-o", "s2.npy"});
  run_ok(f, {"transform", "dwt2:haar", "in.npy", "-o", "s1.npy"});
  require_same(io::read_npy(f.file("s2.npy")), io::read_npy(f.file("s1.npy")), 0);
  // A learned decoder: one example is what it decodes (64 values as 1x8x8).
  const std::string onnx = std::string(TRIM_FIXTURE_DIR) + "/onnx/";
  const std::string dec = "decoder:" + onnx + "vae_decoder.onnx:" + onnx + "vae_encoder.onnx";
  const auto td = make_transform(dec, {1, 8, 8});
  run_ok(f, {"transform", dec, "in.npy", "--shape", "1,8,8", "-o", "z.npy"});
  const Tensor z = io::read_npy(f.file("z.npy"));
  require_same(z, td->forward(f.x), 1e-5);
  run_ok(f, {"inverse", dec, "z.npy", "--shape", "1,8,8", "-o", "xd.npy"});
  require_same(io::read_npy(f.file("xd.npy")), td->inverse(z), 1e-5);
}

TEST_CASE("cli: attribute agrees with the library for every method", "[cli]") {
  CliFolder f;
  io::write_npy(f.file("refs.npy"), test::randn({3, 1, 8, 8}, 5, 0.3f));
  const Graph model = f.model("smooth.onnx");
  const auto t = make_transform("fft2", {1, 8, 8});
  const TrimModel tm(model, t);
  const Tensor s = tm.coefficients(f.x);
  const Grouping bands = radial_bands(*t, 4);
  for (const std::string method : {"gradient", "saliency", "input_x_gradient", "smoothgrad", "integrated_gradients",
                                   "deeplift", "deeplift_shap", "gradient_shap", "feature_ablation", "occlusion",
                                   "shapley", "cd"}) {
    INFO(method);
    std::vector<std::string> args = {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2",
                                     "--method",  method,        "-o",    "a.npy"};
    const bool grouped = method == "feature_ablation" || method == "shapley" || method == "cd";
    if (grouped) args.insert(args.end(), {"--groups", "radial:4"});
    if (method == "occlusion") args.insert(args.end(), {"--window", "2,2"});
    if (method == "smoothgrad") args.insert(args.end(), {"--samples", "4", "--stdev", "0.1", "--seed", "7"});
    if (method == "gradient_shap") args.insert(args.end(), {"--samples", "8", "--stdev", "0.05", "--seed", "3"});
    if (method == "deeplift_shap") args.insert(args.end(), {"--baseline", "refs.npy"});
    run_ok(f, args);
    const Tensor a = io::read_npy(f.file("a.npy"));
    AttributionOptions o;
    if (grouped) o.grouping = &bands;
    const Tensor baselines = method == "deeplift_shap" ? t->forward(io::read_npy(f.file("refs.npy")))
                                                       : Tensor({1, 1, 8, 8, 2});
    const Attribution ref = library_attribution(method, tm.graph(), s, o, baselines);
    require_same(a, grouped ? ref.group_scores : ref.attributions);
    CHECK(a.dim(0) == 3);
    CHECK(a.dim(1) == 2);
  }
}

TEST_CASE("cli: integrated gradients sum to the model's output difference", "[cli]") {
  CliFolder f;
  const Graph model = f.model("smooth.onnx");
  const Tensor y = model.evaluate(f.x);
  SECTION("zero baseline, fft2") {
    run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "integrated_gradients", "-o",
               "ig.npy"});
    require_same(per_target_sums(io::read_npy(f.file("ig.npy"))),
                 output_difference(y, model.evaluate(Tensor({1, 1, 8, 8}))), 1e-4);
  }
  SECTION("constant baseline, dwt2, one target") {
    run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "dwt2:db2", "--method", "integrated_gradients",
               "--baseline", "0.5", "--target", "1", "--steps", "64", "-o", "ig.npy"});
    const Tensor ig = io::read_npy(f.file("ig.npy"));
    REQUIRE(ig.dim(0) == 1);
    const Tensor d = output_difference(y, model.evaluate(Tensor({1, 1, 8, 8}, 0.5f)));
    require_same(per_target_sums(ig), rows_of(d, 1, 2), 1e-4);
  }
  SECTION("one baseline per example from a file, dct2") {
    const Tensor b = test::randn({2, 1, 8, 8}, 6, 0.5f);
    io::write_npy(f.file("b.npy"), b);
    run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "dct2", "--method", "integrated_gradients",
               "--baseline", "b.npy", "-o", "ig.npy"});
    require_same(per_target_sums(io::read_npy(f.file("ig.npy"))), output_difference(y, model.evaluate(b)), 1e-4);
  }
  SECTION("lossy NMF: the residual is held fixed") {
    f.write_dictionaries();
    run_ok(f, {"attribute", "smooth.onnx", "pos.npy", "--transform", "nmf:" + f.file("nmf.npy"), "--method",
               "integrated_gradients", "-o", "ig.npy", "--json", "ig.json"});
    // F(T(0)) = model(T^-1(0) + r) = model(r), since NMF has no mean.
    const auto t = make_transform("nmf:" + f.file("nmf.npy"), {1, 8, 8});
    const Tensor r = transform_residual(*t, f.positive);
    require_same(per_target_sums(io::read_npy(f.file("ig.npy"))),
                 output_difference(model.evaluate(f.positive), model.evaluate(r)), 1e-3);
    CHECK(read_text(f.file("ig.json")).find("\"residual\": true") != std::string::npos);
  }
}

TEST_CASE("cli: DeepLIFT and Shapley values are complete on a piecewise-linear CNN", "[cli]") {
  CliFolder f;
  const Graph model = f.model("relu.onnx");
  const Tensor d = output_difference(model.evaluate(f.x), model.evaluate(Tensor({1, 1, 8, 8})));
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "dwt2:haar:2", "--method", "deeplift", "-o", "dl.npy"});
  require_same(per_target_sums(io::read_npy(f.file("dl.npy"))), d, 1e-4);
  // A memory budget changes the batches, not the result. One too small says
  // what one row needs (in KiB here; the kernels' scratch depends on the
  // threads); that much, rounded up, runs one row at a time.
  const test::RunResult small = test::run_trim({"attribute", "relu.onnx", "x.npy", "--transform", "dwt2:haar:2", "--method",
                                    "deeplift", "-o", "dl_m.npy", "--max-memory", "16K"},
                                   f.dir.path.string());
  REQUIRE(small.status != 0);
  const std::string needs = "needs at least ";
  const size_t at = small.err.find(needs);
  REQUIRE(at != std::string::npos);
  const double kib = std::stod(small.err.substr(at + needs.size()));
  REQUIRE(small.err.substr(at + needs.size()).find(" KiB") != std::string::npos);
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "dwt2:haar:2", "--method", "deeplift", "-o", "dl_m.npy",
             "--max-memory", std::to_string(static_cast<int64_t>(kib * 1.01 * 1024) + 1)});
  require_same(io::read_npy(f.file("dl_m.npy")), io::read_npy(f.file("dl.npy")), 1e-6);
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "rfft2", "--method", "shapley", "--groups", "radial:5",
             "-o", "sh.npy"});
  const Tensor sh = io::read_npy(f.file("sh.npy"));
  REQUIRE(sh.shape() == Shape({3, 2, 5}));
  require_same(per_target_sums(sh), d, 1e-4);
}

TEST_CASE("cli: every grouping gives [targets, batch, groups], the sums of the attributions", "[cli]") {
  CliFolder f;
  f.write_dictionaries();
  // A mask over the complex fft2 coefficients without the (re, im) axis.
  Tensor mask({1, 8, 8});
  for (int64_t i = 0; i < mask.numel(); ++i) mask[i] = static_cast<float>(i % 3) - 1;  // -1, 0, 1
  io::write_npy(f.file("mask.npy"), mask);
  struct Case {
    std::string spec, groups;
    int n_groups;
  };
  const std::vector<Case> cases = {
      {"fft2", "radial:3", 3},         {"rfft2", "band:0.5:0.4", 1},          {"dwt2:db2:2", "subbands", 7},
      {"swt1:haar:2", "levels", 3},    {"nmf:" + f.file("nmf.npy"), "components", 6},
      {"fft2", "mask:mask.npy", 2},
  };
  for (const Case& c : cases) {
    INFO(c.spec << " " << c.groups);
    const std::string x = c.spec.rfind("nmf", 0) == 0 ? "pos.npy" : "x.npy";
    run_ok(f, {"attribute", "smooth.onnx", x, "--transform", c.spec, "--method", "gradient", "-o", "full.npy"});
    run_ok(f, {"attribute", "smooth.onnx", x, "--transform", c.spec, "--method", "gradient", "--groups", c.groups,
               "-o", "grouped.npy"});
    const Tensor grouped = io::read_npy(f.file("grouped.npy"));
    REQUIRE(grouped.shape() == Shape({3, 2, c.n_groups}));
    // Independent of the tool's grouping code: sum the per-coefficient output by hand for the mask.
    const auto t = make_transform(c.spec, {1, 8, 8});
    if (c.groups.rfind("mask", 0) == 0) {
      const Tensor full = io::read_npy(f.file("full.npy"));
      Tensor by_hand({3, 2, 2});
      const int64_t per = full.numel() / 6;
      for (int64_t i = 0; i < 6; ++i)
        for (int64_t j = 0; j < per; ++j) {
          const int label = static_cast<int>(mask[j / 2]);
          if (label >= 0) by_hand[i * 2 + label] += full[i * per + j];
        }
      require_same(grouped, by_hand, 1e-5);
    } else {
      const Grouping g = c.groups == "radial:3"      ? radial_bands(*t, 3)
                   : c.groups == "subbands"    ? wavelet_subbands(*t)
                   : c.groups == "levels"      ? wavelet_levels(*t)
                   : c.groups == "components"  ? component_groups(*t)
                                               : radial_band(*t, 0.5, 0.4);
      require_same(grouped, group_sums(io::read_npy(f.file("full.npy")), g), 1e-5);
    }
  }
}

TEST_CASE("cli: --target selects rows, and random methods give an example the same result alone or in a batch",
          "[cli]") {
  CliFolder f;
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "rfft2", "--method", "smoothgrad", "--seed", "11",
             "-o", "all.npy"});
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "rfft2", "--method", "smoothgrad", "--seed", "11",
             "--target", "2,0", "-o", "two.npy"});
  const Tensor all = io::read_npy(f.file("all.npy")), two = io::read_npy(f.file("two.npy"));
  REQUIRE(two.dim(0) == 2);
  const int64_t per = all.numel() / 3;
  require_same(rows_of(two, 0, 1), rows_of(all, 2, 3), 1e-6);
  require_same(rows_of(two, 1, 2), rows_of(all, 0, 1), 1e-6);
  // Example 1 alone with seed 11 + 1 is row 1 of the batch run.
  io::write_npy(f.file("x1.npy"), rows_of(f.x, 1, 2).reshaped({1, 8, 8}));
  run_ok(f, {"attribute", "smooth.onnx", "x1.npy", "--transform", "rfft2", "--method", "smoothgrad", "--seed", "12",
             "-o", "one.npy"});
  const Tensor one = io::read_npy(f.file("one.npy"));
  REQUIRE(one.dim(1) == 1);
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t j = 0; j < per / 2; ++j) REQUIRE(one[k * per / 2 + j] == all[k * per + per / 2 + j]);
}

TEST_CASE("cli: sweep equals the library's CD band sweep", "[cli]") {
  CliFolder f;
  run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0.1:1.3:7", "--width", "0.2",
             "--target", "0,2", "-o", "curve.npy"});
  const Tensor curve = io::read_npy(f.file("curve.npy"));
  REQUIRE(curve.shape() == Shape({2, 2, 7}));
  const auto t = make_transform("fft2", {1, 8, 8});
  const TrimModel tm(f.model("relu.onnx"), t);
  CdOptions o;
  o.targets = Targets(std::vector<int64_t>{0, 2});
  const std::vector<double> centers = {0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3};
  require_same(curve, cd_band_sweep(tm.graph(), tm.coefficients(f.x), *t, centers, 0.2, o).rel);
  // A memory budget (smaller chunks) gives the same curve.
  run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0.1:1.3:7", "--width", "0.2",
             "--target", "0,2", "-o", "curve_m.npy", "--max-memory", "40K"});
  require_same(io::read_npy(f.file("curve_m.npy")), curve);
}

TEST_CASE("cli: nmf fits the library's NMF and its dictionary works as a transform", "[cli]") {
  CliFolder f;
  Tensor data = test::randn({30, 1, 8, 8}, 8);
  for (float& v : data) v = std::fabs(v);
  io::write_npy(f.file("data.npy"), data);
  const std::string summary =
      run_ok(f, {"nmf", "data.npy", "--components", "5", "--solver", "mu", "--max-iter", "50", "-o", "d.npy"}).out;
  CHECK(summary.find("5 components of 64 features from 30 samples") != std::string::npos);
  NmfOptions o;
  o.n_components = 5;
  o.solver = NmfSolver::Mu;
  o.max_iter = 50;
  NMF nmf(o);
  nmf.fit(to_matrix(data));
  const DictionaryFile d = read_dictionary(f.file("d.npy"));
  REQUIRE(d.components.rows() == 5);
  REQUIRE((d.components - nmf.components()).cwiseAbs().maxCoeff() <= 1e-9 * nmf.components().cwiseAbs().maxCoeff());
  REQUIRE(d.mean.cwiseAbs().maxCoeff() == 0);
  run_ok(f, {"attribute", "smooth.onnx", "pos.npy", "--transform", "nmf:d.npy", "--method", "deeplift", "--groups",
             "components", "-o", "a.npy", "--quiet"});
  CHECK(io::read_npy(f.file("a.npy")).shape() == Shape({3, 2, 5}));
}

TEST_CASE("cli: --json summarises the prediction, top groups, delta and timings", "[cli]") {
  CliFolder f;
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "integrated_gradients",
             "--groups", "radial:4", "-o", "g.npy", "--json", "g.json"});
  const std::string j = read_text(f.file("g.json"));
  REQUIRE(j.front() == '{');
  REQUIRE(j.substr(j.size() - 2) == "}\n");
  for (const char* key : {"\"prediction\"", "\"top\"", "\"groups\"", "\"delta\"", "\"max_abs_delta\"", "\"seconds\"",
                          "\"attribution\"", "\"method\": \"integrated_gradients\"", "\"0.00-0.35\"",
                          "\"output_shape\": [3, 2, 4]"})
    CHECK(j.find(key) != std::string::npos);
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "a.npy",
             "--json", "a.json"});
  const std::string a = read_text(f.file("a.json"));
  CHECK(a.find("\"delta\": null") != std::string::npos);
  CHECK(a.find("\"coefficients\"") != std::string::npos);
}

namespace {

/// The numbers of the JSON array that follows `"key": ` in `json` (nested
/// arrays flattened, in order); empty when the key is missing or not an array.
std::vector<double> json_numbers(const std::string& json, const std::string& key) {
  const std::string head = "\"" + key + "\": [";
  const size_t at = json.find(head);
  std::vector<double> v;
  if (at == std::string::npos) return v;
  int depth = 0;
  for (size_t i = at + head.size() - 1; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '[') ++depth;
    else if (c == ']' && --depth == 0) break;
    else if (c == '-' || (c >= '0' && c <= '9')) {
      char* end = nullptr;
      v.push_back(std::strtod(json.c_str() + i, &end));
      i = static_cast<size_t>(end - json.c_str()) - 1;
    }
  }
  return v;
}

}  // namespace

TEST_CASE("cli: --no-convergence-delta skips gradient SHAP's delta, the JSON says so, the attributions stay",
          "[cli]") {
  CliFolder f;
  io::write_npy(f.file("refs.npy"), test::randn({3, 1, 8, 8}, 5, 0.3f));
  const std::vector<std::string> gs = {"attribute", "smooth.onnx", "x.npy",     "--transform", "fft2",
                                       "--method",  "gradient_shap", "--baseline", "refs.npy",  "--samples",
                                       "6",         "--stdev",       "0.05",       "--seed",    "3"};
  auto with = [&](const std::vector<std::string>& more) {
    std::vector<std::string> a = gs;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  run_ok(f, with({"-o", "on.npy", "--json", "on.json", "--quiet"}));
  run_ok(f, with({"--no-convergence-delta", "-o", "off.npy", "--json", "off.json", "--quiet"}));
  const Tensor on = io::read_npy(f.file("on.npy")), off = io::read_npy(f.file("off.npy"));
  REQUIRE(on.shape() == off.shape());
  CHECK(std::equal(on.begin(), on.end(), off.begin()));  // bit for bit: the same samples

  // On: the delta is the library's gradient SHAP delta (one example at a time, seed 3 + e).
  const std::string jon = read_text(f.file("on.json")), joff = read_text(f.file("off.json"));
  const std::vector<double> written = json_numbers(jon, "delta");
  const Graph model = f.model("smooth.onnx");
  const auto t = make_transform("fft2", {1, 8, 8});
  const TrimModel tm(model, t);
  const Tensor s = tm.coefficients(f.x), refs = t->forward(io::read_npy(f.file("refs.npy")));
  REQUIRE(written.size() == 3 * 2);  // [targets, examples]
  for (int64_t e = 0; e < 2; ++e) {
    GradientShapOptions o;
    o.n_samples = 6;
    o.stdev = 0.05f;
    o.seed = 3 + static_cast<uint64_t>(e);
    const Attribution ref = gradient_shap(tm.graph(), rows_of(s, e, e + 1), refs, o);
    REQUIRE(ref.delta.shape() == Shape({3, 1}));
    for (int64_t k = 0; k < 3; ++k) {
      INFO("target " << k << ", example " << e);
      CHECK(static_cast<float>(written[static_cast<size_t>(k * 2 + e)]) == ref.delta[k]);
    }
  }
  CHECK(jon.find("\"max_abs_delta\"") != std::string::npos);
  CHECK(jon.find("delta_not_computed") == std::string::npos);
  CHECK(jon.find("\"convergence_delta\": true") != std::string::npos);
  // Off: no numbers where a delta would be read, and why.
  CHECK(joff.find("\"delta\": null") != std::string::npos);
  CHECK(joff.find("\"delta_not_computed\": \"turned off by --no-convergence-delta\"") != std::string::npos);
  CHECK(joff.find("max_abs_delta") == std::string::npos);
  CHECK(joff.find("\"convergence_delta\": false") != std::string::npos);
  // A method without a delta has a null one and no note.
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "g.npy",
             "--json", "g.json"});
  CHECK(read_text(f.file("g.json")).find("delta_not_computed") == std::string::npos);
}

TEST_CASE("cli: --plot writes a PNG for every layout", "[cli]") {
  CliFolder f;
  if (!io::plotting_available()) {
    const test::RunResult r = run_trim({"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                        "gradient", "-o", "a.npy", "--plot", "a.png"},
                                       f.dir.path.string());
    CHECK(r.status == 1);
    CHECK(r.err.find("PLplot") != std::string::npos);
    CHECK(!std::ifstream(f.file("a.npy")));
    return;
  }
  f.write_dictionaries();
  const std::vector<std::vector<std::string>> runs = {
      {"--transform", "fft2", "--method", "gradient"},           // frequency-centred heatmap
      {"--transform", "rfft2", "--method", "saliency"},          // half-spectrum heatmap
      {"--transform", "fft1", "--method", "gradient"},           // curve over frequency
      {"--transform", "dwt2:db2:2", "--method", "deeplift"},     // sub-band mosaic
      {"--transform", "dwt1:haar", "--method", "gradient"},      // one-strip mosaic
      {"--transform", "swt2:haar:1", "--method", "gradient"},    // one image per band
      {"--transform", "swt1:haar:2", "--method", "gradient"},    // band x position heatmap
      {"--transform", "identity", "--method", "gradient"},       // pixels
      {"--transform", "dct2", "--method", "gradient"},           // DCT indices
      {"--transform", "nmf:" + f.file("nmf.npy"), "--method", "gradient"},              // bars per component
      {"--transform", "fft2", "--method", "cd", "--groups", "radial:4"},                // curve over bands
      {"--transform", "dwt2:db2:2", "--method", "gradient", "--groups", "subbands"},    // bars per sub-band
  };
  int n = 0;
  for (std::vector<std::string> args : runs) {
    const std::string png = "p" + std::to_string(n++) + ".png";
    const bool positive = args[1].rfind("nmf", 0) == 0;
    args.insert(args.begin(), {"attribute", "smooth.onnx", positive ? "pos.npy" : "x.npy"});
    args.insert(args.end(), {"-o", "a.npy", "--plot", png});
    INFO(args[4]);
    run_ok(f, args);
    CHECK(test::is_png(f.file(png)));
  }
  run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "rfft2", "--centers", "0.1:1.3:7", "--width", "0.2", "-o",
             "c.npy", "--plot", "sweep.png"});
  CHECK(test::is_png(f.file("sweep.png")));
}

TEST_CASE("cli: the progress bar shows on a terminal, not with --quiet, not on a pipe", "[cli]") {
  CliFolder f;
  const std::vector<std::string> args = {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2",
                                         "--method",  "integrated_gradients", "-o", "a.npy"};
  test::RunOptions terminal;
  terminal.terminal_stderr = true;  // and TRIM_PROGRESS_DELAY=0, so a short run shows it
  const test::RunResult shown = run_trim(args, f.dir.path.string(), terminal);
  REQUIRE(shown.status == 0);
  CHECK(shown.err.find("trim integrated_gradients [") != std::string::npos);
  CHECK(shown.err.find("integration points") != std::string::npos);
  CHECK(shown.err.find("\r\033[K") != std::string::npos);  // erased at the end
  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  const test::RunResult silent = run_trim(quiet, f.dir.path.string(), terminal);
  REQUIRE(silent.status == 0);
  CHECK(silent.err.empty());
  run_ok(f, args);  // a pipe: nothing on stderr
}
