// Peak resident memory of `trim attribute --max-memory`: the budget counts the
// weights, the method's arrays, the planned buffers, the kernels' scratch and
// the rows, so the resident set above a plain prediction stays within the budget,
// where an unbudgeted run of the same work goes far beyond it. Built without
// sanitizers only (their shadow memory and quarantine change the resident set).
#include <algorithm>
#include <cmath>
#include <string>

#include "cli_runner.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/graph/nn.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/onnx.hpp"

using namespace trim;

namespace {

/// Three 3×3 convolutions of 32 channels at 32², 10 outputs: about 0.2 MB
/// of activations per row, small weights.
Graph conv_net() {
  using nn::Conv2dOptions;
  Graph g(5);
  NodeId x = nn::input(g, "x", {3, 32, 32});
  x = nn::relu(g, nn::conv2d(g, x, 32, {3, 3}, "c1", Conv2dOptions().padding(1)));
  x = nn::relu(g, nn::conv2d(g, x, 32, {3, 3}, "c2", Conv2dOptions().padding(1)));
  x = nn::max_pool2d(g, x, {2, 2});
  x = nn::relu(g, nn::conv2d(g, x, 32, {3, 3}, "c3", Conv2dOptions().padding(1)));
  g.set_outputs({nn::linear(g, nn::flatten(g, x), 10, "fc")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("cli: --max-memory bounds the peak resident set", "[cli][memory]") {
  test::TempDir dir("memory");
  io::save_onnx(conv_net(), dir.file("net.onnx"));
  io::write_npy(dir.file("x.npy"), test::randn({8, 3, 32, 32}, 3));
  const std::string folder = dir.path.string();
  // The process itself: libraries, thread pool, the model loaded and run once.
  const test::RunResult bare = test::run_trim({"predict", "net.onnx", "x.npy", "-o", "y.npy"}, folder);
  REQUIRE(bare.status == 0);
  const double base = bare.max_rss_kib / 1024.0;
  const auto run = [&](const std::string& method, const std::string& out, const std::string& budget) {
    std::vector<std::string> args{"attribute", "net.onnx", "x.npy", "--transform", "fft2", "--method", method,
                                  "--target", "0", "-o", out, "--quiet", "--threads", "2"};
    if (method == "integrated_gradients") args.insert(args.end(), {"--steps", "64"});
    if (!budget.empty()) args.insert(args.end(), {"--max-memory", budget});
    const test::RunResult r = test::run_trim(args, folder, {false, 120, {}, {}});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return r.max_rss_kib / 1024.0 - base;
  };
  for (const char* method : {"integrated_gradients", "deeplift"}) {
    INFO(method << ", the process itself " << base << " MiB");
    const std::string m(method);
    const double free_run = run(m, "free.npy", "");
    const double budgeted = run(m, "budget.npy", "12M");
    INFO("above the process: " << free_run << " MiB without a budget, " << budgeted << " MiB with 12M");
    if (m == "integrated_gradients") CHECK(free_run > 2 * 12.0);  // the budget has work to do
    // Above a plain prediction (which holds the process, the model and one
    // small forward) the run stays within the budget. (Before the weights'
    // second copy, the rows' copies and the kernels' scratch were counted,
    // these runs took 12.8 and 13.8 MiB.)
    CHECK(budgeted <= 12.0);
    const Tensor a = io::read_npy(dir.file("free.npy")), b = io::read_npy(dir.file("budget.npy"));
    float scale = 0.0f;
    for (float v : a) scale = std::max(scale, std::fabs(v));
    CHECK(max_abs_diff(a, b) <= 1e-4f * (1.0f + scale));  // the same attributions
  }
  // Less than the weights and one row need: an error naming both numbers.
  const test::RunResult tiny = test::run_trim({"attribute", "net.onnx", "x.npy", "--transform", "fft2", "--method",
                                               "integrated_gradients", "-o", "t.npy", "--max-memory", "1M"},
                                              folder);
  CHECK(tiny.status != 0);
  CHECK_THAT(tiny.err, Catch::Contains("max_memory 1.00 MiB is too small") && Catch::Contains("needs at least"));
}
