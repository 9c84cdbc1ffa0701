// End-to-end tests of `trim evaluate` and `trim compare-methods`: the report
// agrees with the library called directly, the table and figure are written,
// and bad input is named.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_fixture.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/evaluate.hpp"
#include "trim/io/plot.hpp"

using namespace trim;
using trim::test::CliFolder;
using trim::test::run_ok;
using trim::test::run_trim;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The "mean" of summary entry `key` in the first report of a JSON file.
double summary_mean(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\"");
  REQUIRE(at != std::string::npos);
  const size_t mean = json.find("\"mean\":", at);
  REQUIRE(mean != std::string::npos);
  return std::strtod(json.c_str() + mean + 7, nullptr);
}

}  // namespace

TEST_CASE("cli: evaluate scores an attribution file as the library does", "[cli][evaluate]") {
  CliFolder f;
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "fft2", "--method", "deeplift", "--groups", "radial:4",
             "-o", "a.npy", "--quiet"});
  const bool plots = io::plotting_available();
  std::vector<std::string> args = {
      "evaluate", "relu.onnx",       "x.npy", "--transform", "fft2", "--groups", "radial:4", "--attributions",
      "a.npy",    "--random-orders", "3",     "--subsets",   "10",   "-o",       "r.json",   "--table",
      "r.txt"};
  if (plots) args.insert(args.end(), {"--plot", "r.png"});
  const test::RunResult r = run_ok(f, args);
  REQUIRE(r.out.find("insertion_minus_deletion") != std::string::npos);
  REQUIRE(read_all(f.file("r.txt")) == r.out);
  if (plots) REQUIRE(std::filesystem::file_size(f.file("r.png")) > 1000);
  const std::string json = read_all(f.file("r.json"));

  // The library on the same model and input.
  const Graph model = f.model("relu.onnx");
  const TrimModel tm(model, make_transform("fft2", {1, 8, 8}));
  const Tensor s = tm.coefficients(f.x);
  const Grouping g = radial_bands(tm.transform(), 4);
  AttributionOptions o;
  o.grouping = &g;
  const Attribution a = deeplift(tm.graph(), s, {}, o);
  EvaluationOptions eo;
  eo.faithfulness.n_random = 3;
  eo.faithfulness.mu_subsets = 10;
  const EvaluationReport ref = evaluate_attribution(tm, s, a, {}, eo, o);
  double del = 0, mu = 0;
  for (float v : ref.curves.deletion_auc) del += v / double(ref.curves.deletion_auc.numel());
  for (float v : ref.mu_fidelity) mu += v / double(ref.mu_fidelity.numel());
  REQUIRE(summary_mean(json, "deletion_auc") == Approx(del).epsilon(1e-4).margin(1e-6));
  REQUIRE(summary_mean(json, "mu_fidelity") == Approx(mu).epsilon(1e-4).margin(1e-6));
}

TEST_CASE("cli: evaluate with --method adds sensitivity_max and the randomisation check", "[cli][evaluate]") {
  CliFolder f;
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "dct2", "--method", "integrated_gradients", "--steps",
             "8", "--target", "1", "-o", "a.npy", "--quiet"});
  run_ok(f, {"evaluate",
             "relu.onnx",
             "x.npy",
             "--transform",
             "dct2",
             "--target",
             "1",
             "--attributions",
             "a.npy",
             "--method",
             "integrated_gradients",
             "--steps",
             "8",
             "--curve-steps",
             "8",
             "--random-orders",
             "2",
             "--subsets",
             "5",
             "-o",
             "r.json",
             "--quiet"});
  const std::string json = read_all(f.file("r.json"));
  REQUIRE(json.find("\"layers_from_the_top\"") != std::string::npos);
  const double sens = summary_mean(json, "sensitivity_max");
  REQUIRE(std::isfinite(sens));
  REQUIRE(sens >= 0.0);
  // Without it, the two are absent.
  run_ok(f, {"evaluate", "relu.onnx", "x.npy", "--transform", "dct2", "--target", "1", "--attributions", "a.npy",
             "--curve-steps", "8", "--random-orders", "2", "--subsets", "5", "-o", "r2.json", "--quiet"});
  REQUIRE(read_all(f.file("r2.json")).find("\"layers_from_the_top\"") == std::string::npos);
}

TEST_CASE("cli: compare-methods runs every method and names the most faithful", "[cli][evaluate]") {
  CliFolder f;
  const test::RunResult r =
      run_ok(f, {"compare-methods", "smooth.onnx", "x.npy", "--transform", "dwt2:haar:2", "--groups", "subbands",
                 "--methods", "gradient,integrated_gradients,deeplift,cd", "--target", "0", "--steps", "16",
                 "--random-orders", "4", "--subsets", "10", "-o", "c.json"});
  for (const char* m : {"gradient", "integrated_gradients", "deeplift", "cd"})
    REQUIRE(r.out.find(m) != std::string::npos);
  REQUIRE(r.out.find("most faithful") != std::string::npos);
  const std::string json = read_all(f.file("c.json"));
  REQUIRE(json.find("\"most_faithful_by_insertion_minus_deletion\"") != std::string::npos);
  REQUIRE(json.find("\"randomisation\"") != std::string::npos);
  REQUIRE(json.find("\"layers_from_the_top\"") != std::string::npos);
}

TEST_CASE("cli: evaluate and compare-methods name bad input", "[cli][evaluate][errors]") {
  CliFolder f;
  run_ok(f, {"attribute", "relu.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "a.npy"});
  // Per-coefficient scores given with --groups: the shapes are named.
  test::RunResult r = run_trim({"evaluate", "relu.onnx", "x.npy", "--transform", "fft2", "--groups", "radial:4",
                                "--attributions", "a.npy", "-o", "r.json"},
                               f.dir.path.string());
  REQUIRE(r.status == 1);
  REQUIRE(r.err.find("a.npy") != std::string::npos);
  REQUIRE(r.err.find("[3,2,4]") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(f.file("r.json")));
  r = run_trim(
      {"compare-methods", "relu.onnx", "x.npy", "--transform", "fft2", "--methods", "gradient,nope", "-o", "c.json"},
      f.dir.path.string());
  REQUIRE(r.status == 2);
  REQUIRE(r.err.find("nope") != std::string::npos);
  r = run_trim({"compare-methods", "relu.onnx", "x.npy", "--transform", "fft2", "--methods", "cd", "-o", "c.json"},
               f.dir.path.string());
  REQUIRE(r.status == 2);
  REQUIRE(r.err.find("--groups") != std::string::npos);
  r = run_trim({"evaluate", "relu.onnx", "x.npy", "--transform", "fft2", "--attributions", "a.npy", "--baseline", "abc",
                "-o", "r.json"},
               f.dir.path.string());
  REQUIRE(r.status == 2);
}
