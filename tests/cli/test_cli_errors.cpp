// End-to-end tests of the `trim` tool on bad input: every case must exit with
// the right status (2: the command line is wrong, 1: a file, the data or the
// model does not fit), print exactly one line on stderr naming the problem,
// and leave no output file (nor a temporary one) behind.
#include <algorithm>
#include <fstream>
#include <set>

#include "cli_fixture.hpp"

using namespace trim;
using trim::test::CliFolder;

namespace {

struct Case {
  std::string name;
  std::vector<std::string> args;
  int status;
  std::vector<std::string> mentions;  ///< substrings the message must contain
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A model whose output overflows float for inputs of size 10: y = 3e38 · Σx.
Graph overflowing_model() {
  Graph g(0);
  NodeId x = nn::input(g, "x", {4});
  g.set_outputs({nn::linear(g, x, 2, "fc")});
  g.finalize();
  g.parameter("fc.weight").value.fill(3e38f);
  g.parameter("fc.bias").value.fill(0.0f);
  return g;
}

/// The folder with broken files next to the good ones.
void add_bad_files(const CliFolder& f) {
  write_bytes(f.file("corrupt.npy"), "this is not a numpy file at all");
  const std::string good_npy = read_bytes(f.file("x.npy"));
  write_bytes(f.file("truncated.npy"), good_npy.substr(0, good_npy.size() / 2));
  write_bytes(f.file("corrupt.onnx"), "\x08\x07garbage\xff\xff\xff protobuf");
  const std::string good_onnx = read_bytes(f.file("relu.onnx"));
  write_bytes(f.file("truncated.onnx"), good_onnx.substr(0, good_onnx.size() / 2));
  Tensor nan = f.x, inf = f.x;
  nan.at({1, 0, 3, 4}) = std::nanf("");
  inf.at({0, 0, 0, 2}) = INFINITY;
  io::write_npy(f.file("nan.npy"), nan);
  io::write_npy(f.file("inf.npy"), inf);
  io::write_npy(f.file("wrong.npy"), test::randn({2, 1, 8, 7}, 3));
  io::write_npy(f.file("three.npy"), test::randn({3, 1, 8, 8}, 4));
  io::write_npy(f.file("lenet_x.npy"), test::randn({1, 16, 16}, 5));
  io::write_npy(f.file("mask.npy"), Tensor({1, 8, 5}));
  io::write_npy(f.file("neg.npy"), test::randn({10, 6}, 6));
  io::save_onnx(overflowing_model(), f.file("overflow.onnx"));
  io::write_npy(f.file("tens.npy"), Tensor({4}, 10.0f));
  f.write_dictionaries();
}

std::vector<Case> cases() {
  const std::string lenet = test::fixture_model("lenet");
  const std::vector<std::string> ig = {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2",
                                       "--method",  "integrated_gradients"};
  auto with = [](std::vector<std::string> base, const std::vector<std::string>& more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  const std::vector<std::string> out = {"-o", "out.npy", "--json", "out.json", "--plot", "out.png"};
  return {
      // the command line
      {"no command", {}, 2, {"missing COMMAND"}},
      {"unknown command", {"frobnicate"}, 2, {"unknown command 'frobnicate'"}},
      {"unknown option", with(ig, {"--bogus", "-o", "out.npy"}), 2, {"--bogus"}},
      {"missing output", ig, 2, {"--output"}},
      {"missing positional", {"predict", "smooth.onnx"}, 2, {"INPUT.npy"}},
      {"extra positional", {"predict", "smooth.onnx", "x.npy", "y.npy", "-o", "out.npy"}, 2, {"'y.npy'"}},
      {"bad number", with(ig, {"--steps", "abc", "-o", "out.npy"}), 2, {"--steps 'abc'"}},
      {"option of another method", with(ig, {"--window", "2,2", "-o", "out.npy"}), 2,
       {"--window", "integrated_gradients"}},
      {"gradient SHAP's delta option on another method", with(ig, {"--no-convergence-delta", "-o", "out.npy"}), 2,
       {"--no-convergence-delta", "integrated_gradients"}},
      {"gradient SHAP's delta option with a value", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2",
                                                      "--method", "gradient_shap", "--no-convergence-delta=1", "-o",
                                                      "out.npy"}, 2, {"--no-convergence-delta", "no value"}},
      {"unknown method", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "magic", "-o",
                          "out.npy"}, 2, {"unknown method 'magic'"}},
      {"unknown spec", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft4", "--method", "gradient", "-o",
                        "out.npy"}, 2, {"'fft4'"}},
      {"unknown wavelet", {"transform", "dwt2:db99", "x.npy", "-o", "out.npy"}, 2, {"'db99'"}},
      {"target out of range", with(ig, {"--target", "3", "-o", "out.npy"}), 2, {"--target 3", "3 outputs"}},
      {"grouping for another transform", {"attribute", "smooth.onnx", "x.npy", "--transform", "dwt2:haar",
                                          "--method", "gradient", "--groups", "radial:4", "-o", "out.npy"}, 2,
       {"radial:4", "dwt2"}},
      {"unknown grouping", with(ig, {"--groups", "octaves", "-o", "out.npy"}), 2, {"'octaves'"}},
      {"method needs groups", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "cd", "-o",
                               "out.npy"}, 2, {"'cd' needs --groups"}},
      {"window too large", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "occlusion",
                            "--window", "9,2", "-o", "out.npy"}, 2, {"--window '9,2'"}},
      {"same file twice", with(ig, {"-o", "out.npy", "--json", "out.npy"}), 2, {"'out.npy'"}},
      {"bad memory size", with(ig, {"--max-memory", "2Q", "-o", "out.npy"}), 2, {"--max-memory '2Q'"}},
      {"memory budget for cd below one row", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                              "cd", "--groups", "radial:3", "--max-memory", "1K", "-o", "out.npy"}, 1,
       {"contextual_decomposition", "too small for one row"}},
      {"memory budget below one row", with(ig, {"--max-memory", "64", "-o", "out.npy"}), 1,
       {"64 B", "too small for one row"}},
      {"inverse of dwt without a shape", {"inverse", "dwt2:haar", "x.npy", "-o", "out.npy"}, 2, {"--shape"}},
      {"sweep of a wavelet transform", {"sweep", "relu.onnx", "x.npy", "--transform", "dwt2:haar", "--centers",
                                        "0:1:3", "--width", "0.2", "-o", "out.npy"}, 2, {"Fourier"}},
      {"sweep without width", {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0:1:3", "-o",
                               "out.npy"}, 2, {"--width"}},
      {"bad centres", {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0:1", "--width", "0.2",
                       "-o", "out.npy"}, 2, {"--centers '0:1'"}},
      {"nmf solver", {"nmf", "tens.npy", "--components", "2", "--solver", "als", "-o", "out.npy"}, 2, {"--solver"}},
      // files, data and models
      {"missing model", {"predict", "missing.onnx", "x.npy", "-o", "out.npy"}, 1, {"missing.onnx", "cannot open"}},
      {"missing input", with({"attribute", "smooth.onnx", "missing.npy", "--transform", "fft2", "--method",
                              "gradient"}, out), 1, {"missing.npy"}},
      {"corrupt npy", {"predict", "smooth.onnx", "corrupt.npy", "-o", "out.npy"}, 1, {"corrupt.npy", "magic"}},
      {"truncated npy", {"transform", "fft2", "truncated.npy", "-o", "out.npy"}, 1, {"truncated.npy", "truncated"}},
      {"corrupt onnx", {"info", "corrupt.onnx"}, 1, {"corrupt.onnx"}},
      {"truncated onnx", {"predict", "truncated.onnx", "x.npy", "-o", "out.npy"}, 1, {"truncated.onnx"}},
      {"unsupported operator", {"info", test::fixture_model("errors_unsupported")}, 1, {"node 'cosine' (Cos)"}},
      {"every unsupported node at once",
       {"info", std::string(TRIM_FIXTURE_DIR) + "/reach/unsupported.onnx"},
       1,
       {"3 nodes trim cannot read", "node 'mix' (Einsum)", "node 'lstm' (LSTM)", "[usually torch.nn.LSTM]", "Swin"}},
      {"wrong input shape", with({"attribute", "smooth.onnx", "wrong.npy", "--transform", "fft2", "--method",
                                  "gradient"}, out), 1, {"wrong.npy", "[2,1,8,7]", "[1,8,8]"}},
      {"NaN input", with({"attribute", "smooth.onnx", "nan.npy", "--transform", "rfft2", "--method", "gradient"},
                         out), 1, {"nan.npy", "[1,0,3,4]", "NaN"}},
      {"infinite input", {"predict", "smooth.onnx", "inf.npy", "-o", "out.npy"}, 1, {"inf.npy", "infinite"}},
      {"NaN coefficients", {"inverse", "fft2", "nan.npy", "-o", "out.npy"}, 1, {"nan.npy", "NaN"}},
      {"NaN baseline", with(ig, {"--baseline", "nan.npy", "-o", "out.npy"}), 1, {"baseline 'nan.npy'", "NaN"}},
      {"baseline count", with(ig, {"--baseline", "three.npy", "-o", "out.npy"}), 1, {"three.npy", "3 examples"}},
      {"mask shape", {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "--groups",
                      "mask:mask.npy", "-o", "out.npy"}, 1, {"mask.npy", "[1,8,5]"}},
      {"missing dictionary", {"transform", "nmf:none.npy", "x.npy", "-o", "out.npy"}, 1, {"none.npy"}},
      {"not an NMF dictionary", {"transform", "nmf:neg.npy", "x.npy", "-o", "out.npy"}, 1, {"neg.npy"}},
      {"NMF codes of negative input", {"transform", "nmf:nmf.npy", "x.npy", "-o", "out.npy"}, 1,
       {"input 'x.npy'", "negative"}},
      {"wrong inverse shape", {"inverse", "fft2", "x.npy", "--shape", "1,8,7", "-o", "out.npy"}, 1, {"x.npy"}},
      {"cd through a softmax", with({"attribute", lenet, "lenet_x.npy", "--transform", "fft2", "--method", "cd",
                                     "--groups", "radial:3"}, out), 1, {"/LogSoftmax"}},
      {"output folder missing", {"predict", "smooth.onnx", "x.npy", "-o", "nodir/out.npy"}, 1, {"nodir"}},
      {"model output overflows", {"predict", "overflow.onnx", "tens.npy", "-o", "out.npy"}, 1, {"infinite"}},
      {"attributions overflow", with({"attribute", "overflow.onnx", "tens.npy", "--transform", "identity",
                                      "--method", "input_x_gradient"}, out), 1, {"input_x_gradient", "infinite"}},
      {"negative NMF data", {"nmf", "neg.npy", "--components", "2", "-o", "out.npy"}, 1, {"neg.npy", "negative"}},
  };
}

}  // namespace

TEST_CASE("cli: bad input exits with the right status, one message naming the problem and no output", "[cli]") {
  CliFolder f;
  add_bad_files(f);
  const std::vector<std::string> before = [&] {
    auto e = f.dir.entries();
    std::sort(e.begin(), e.end());
    return e;
  }();
  for (const Case& c : cases()) {
    INFO("case: " << c.name);
    const test::RunResult r = test::run_trim(c.args, f.dir.path.string());
    INFO("stderr: " << r.err);
    CHECK(r.status == c.status);
    CHECK(test::one_line(r.err));
    CHECK(r.err.rfind("trim", 0) == 0);
    for (const std::string& m : c.mentions) CHECK(r.err.find(m) != std::string::npos);
    CHECK(r.out.empty());
    auto after = f.dir.entries();
    std::sort(after.begin(), after.end());
    CHECK(after == before);  // no output, no temporary file
  }
}
