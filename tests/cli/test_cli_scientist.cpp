// End-to-end tests of what a scientist sees around a result: progress while
// it runs (on a terminal and in a log), the summary printed on success, the
// provenance in the JSON (version, options, file digests, threads, date),
// `--version`, `--threads`, SVG / PDF figures, `trim info`'s file facts and
// physical coordinates of the top groups.
#include <fstream>
#include <regex>

#include "cli_fixture.hpp"
#include "trim/io/plot.hpp"
#include "trim/io/sha256.hpp"

using namespace trim;
using trim::test::CliFolder;
using trim::test::file_text;
using trim::test::run_ok;
using trim::test::run_trim;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// A run long enough for several progress reports: IG with many steps (a
/// tenth of a second on an idle machine; the tests set the delay before the
/// first report to zero, whose default of a second would outlast it).
const std::vector<std::string> kLongRun = {"attribute", "relu.onnx", "x.npy", "--transform", "fft2", "--method",
                                           "integrated_gradients", "--steps", "1000",
                                           "--target", "0", "-o", "a.npy"};

}  // namespace

TEST_CASE("cli: progress counts the method's units of work, with rate and time left", "[cli][progress]") {
  CliFolder f;
  SECTION("on a terminal: a bar redrawn in place and erased") {
    test::RunOptions terminal;
    terminal.terminal_stderr = true;
    terminal.env = {{"TRIM_PROGRESS_DELAY", "0"}};
    const test::RunResult r = run_trim(kLongRun, f.dir.path.string(), terminal);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("trim integrated_gradients [") != std::string::npos);
    CHECK(r.err.find("/2000 integration points") != std::string::npos);  // 1000 steps x 2 examples
    CHECK(r.err.find("integration points/s") != std::string::npos);
    CHECK(r.err.find("2000/2000 integration points (100%)") != std::string::npos);  // the final count
    CHECK(r.err.find('\n') == std::string::npos);                  // one line, redrawn
    CHECK(r.err.substr(r.err.size() - 4) == "\r\033[K");          // erased at the end
  }
  SECTION("in a log: a line every interval and a last line") {
    test::RunOptions log;
    log.env = {{"TRIM_PROGRESS_INTERVAL", "0.001"}};  // the run takes tens of milliseconds
    const test::RunResult r = run_trim(kLongRun, f.dir.path.string(), log);
    REQUIRE(r.status == 0);
    INFO(r.err);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find('\033') == std::string::npos);
    // How many lines come before the last depends on the machine's speed
    // and load (a busy one may not schedule the reporting thread before the
    // work ends); each that does come has the count, the share, the rate and
    // the time left, and the last line always comes.
    const std::regex running("trim integrated_gradients: [0-9]+/(\\?|2000) integration points( \\([0-9]+%\\))?, "
                             "[0-9.]+ s(, [0-9.e+]+ integration points/s(, about [0-9.]+ s left)?)?");
    const std::string last = "trim integrated_gradients: 2000/2000 integration points (100%), done in ";
    REQUIRE(r.err.back() == '\n');
    std::vector<std::string> lines;
    for (size_t at = 0, end; (end = r.err.find('\n', at)) != std::string::npos; at = end + 1)
      lines.push_back(r.err.substr(at, end - at));
    REQUIRE(lines.size() >= 1);
    for (size_t k = 0; k + 1 < lines.size(); ++k) {
      INFO("line " << k << ": " << lines[k]);
      CHECK(std::regex_match(lines[k], running));
    }
    CHECK(lines.back().rfind(last, 0) == 0);
  }
  SECTION("nothing with --quiet, on a terminal or in a log") {
    std::vector<std::string> quiet = kLongRun;
    quiet.push_back("--quiet");
    test::RunOptions terminal;
    terminal.terminal_stderr = true;
    terminal.env = {{"TRIM_PROGRESS_INTERVAL", "0.01"}};
    const test::RunResult a = run_trim(quiet, f.dir.path.string(), terminal);
    CHECK(a.status == 0);
    CHECK(a.err.empty());
    CHECK(a.out.empty());
    test::RunOptions log;
    log.env = {{"TRIM_PROGRESS_INTERVAL", "0.01"}};
    const test::RunResult b = run_trim(quiet, f.dir.path.string(), log);
    CHECK(b.status == 0);
    CHECK(b.err.empty());
  }
  SECTION("sweep counts bands x examples, CD groups x examples") {
    test::RunOptions terminal;
    terminal.terminal_stderr = true;
    const test::RunResult s = run_trim({"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers",
                                        "0.05:1.35:27", "--width", "0.1", "-o", "c.npy"},
                                       f.dir.path.string(), terminal);
    REQUIRE(s.status == 0);
    CHECK(s.err.find("trim sweep [") != std::string::npos);
    CHECK(s.err.find("/54 bands x examples") != std::string::npos);
    const test::RunResult c = run_trim({"attribute", "relu.onnx", "x.npy", "--transform", "fft2", "--method", "cd",
                                        "--groups", "radial:5", "-o", "cd.npy"},
                                       f.dir.path.string(), terminal);
    REQUIRE(c.status == 0);
    CHECK(c.err.find("/10 groups x examples") != std::string::npos);
  }
}

TEST_CASE("cli: attribute and sweep print what they wrote, and the top groups", "[cli]") {
  CliFolder f;
  const test::RunResult a = run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                       "integrated_gradients", "--groups", "radial:4", "-o", "g.npy", "--json",
                                       "g.json"});
  INFO(a.out);
  CHECK(a.out.rfind("trim attribute: wrote g.npy [3,2,4] (integrated_gradients on fft2, 2 examples, 3 targets) in ",
                    0) == 0);
  CHECK(count(a.out, "top groups") == 3);  // one line per target
  CHECK(std::regex_search(a.out, std::regex("\n  target 0, mean of 2: top groups [0-9.]+-[0-9.]+ \\(-?[0-9.e-]+\\), ")));
  CHECK(a.out.find("groups in normalised radius") != std::string::npos);
  CHECK(a.out.find("also wrote g.json") != std::string::npos);
  const test::RunResult plain = run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "dct2", "--method",
                                           "gradient", "--target", "1", "-o", "d.npy"});
  CHECK(plain.out.find("wrote d.npy [1,2,1,8,8]") != std::string::npos);
  CHECK(count(plain.out, "\n") == 1);
  const test::RunResult s = run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "rfft2", "--centers",
                                       "0.1:1.3:7", "--width", "0.2", "-o", "c.npy", "--target", "2"});
  CHECK(s.out.rfind("trim sweep: wrote c.npy [1,2,7] (CD band sweep on rfft2, 2 examples, 7 bands) in ", 0) == 0);
  CHECK(s.out.find("target 2, mean of 2: largest |rel|") != std::string::npos);
  const test::RunResult q = run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "rfft2", "--centers",
                                       "0.1:1.3:7", "--width", "0.2", "-o", "c.npy", "--quiet"});
  CHECK(q.out.empty());
}

TEST_CASE("cli: the JSON says how to reproduce the result", "[cli]") {
  CliFolder f;
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "integrated_gradients",
             "--groups", "radial:4", "-o", "g.npy", "--json", "g.json", "--threads", "1", "--quiet"});
  const std::string j = file_text(f.file("g.json"));
  const size_t p = j.find("\"provenance\"");
  REQUIRE(p != std::string::npos);
  const std::string prov = j.substr(p);
  CHECK(prov.find("\"version\": \"") != std::string::npos);
  CHECK(prov.find("\"buildtype\": \"") != std::string::npos);
  CHECK(prov.find("\"command_line\": [\"trim\", \"attribute\", \"smooth.onnx\", \"x.npy\", \"--transform\"") !=
        std::string::npos);
  // every option of the command, given or not; the values used, defaults included
  for (const char* key : {"\"steps\": null", "\"seed\": null", "\"groups\": \"radial:4\"", "\"threads\": \"1\"",
                          "\"quiet\": true", "\"steps\": 50", "\"baseline\": \"zero\"", "\"threads\": 1"})
    CHECK(prov.find(key) != std::string::npos);
  // the files read, with size and SHA-256 (the library's, tested on NIST vectors)
  for (const char* name : {"smooth.onnx", "x.npy"}) {
    const std::string path = f.file(name);
    const std::string entry = "\"path\": \"" + std::string(name) + "\",\n        \"bytes\": " +
                              std::to_string(std::ifstream(path, std::ios::ate | std::ios::binary).tellg()) +
                              ",\n        \"sha256\": \"" + io::sha256_file(path) + "\"";
    CHECK(prov.find(entry) != std::string::npos);
  }
  CHECK(std::regex_search(prov, std::regex("\"date\": \"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z\"")));
  // a mask, a baseline and a dictionary are files the result depends on too
  f.write_dictionaries();
  io::write_npy(f.file("b.npy"), Tensor({1, 8, 8}, 0.5f));
  run_ok(f, {"attribute", "smooth.onnx", "pos.npy", "--transform", "nmf:nmf.npy", "--method", "deeplift",
             "--baseline", "b.npy", "-o", "d.npy", "--json", "d.json", "--quiet"});
  const std::string d = file_text(f.file("d.json"));
  for (const char* role : {"\"role\": \"model\"", "\"role\": \"input\"", "\"role\": \"dictionary\"",
                           "\"role\": \"baseline\""})
    CHECK(d.find(role) != std::string::npos);
  CHECK(d.find(io::sha256_file(f.file("nmf.npy"))) != std::string::npos);
  // sweep --json too
  run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0.1:1.3:7", "--width", "0.2", "-o",
             "c.npy", "--json", "c.json", "--quiet"});
  const std::string c = file_text(f.file("c.json"));
  for (const char* key : {"\"provenance\"", "\"peak_center\"", "\"width\": 0.2", "\"sha256\"", "\"units\": \"normalised radius\""})
    CHECK(c.find(key) != std::string::npos);
}

TEST_CASE("cli: --version prints the version and the build", "[cli]") {
  CliFolder f;
  const test::RunResult r = run_ok(f, {"--version"});
  CHECK(std::regex_search(r.out, std::regex("^trim [0-9]+\\.[0-9]+\\.[0-9]+\n")));
  CHECK(r.out.find("build: ") != std::string::npos);
  CHECK(run_ok(f, {"--help"}).out.find("--version") != std::string::npos);
}

TEST_CASE("cli: --threads on every command, with the same results", "[cli]") {
  CliFolder f;
  const std::vector<std::vector<std::string>> runs = {
      {"info", "smooth.onnx"},
      {"predict", "smooth.onnx", "x.npy", "-o", "y.npy"},
      {"transform", "fft2", "x.npy", "-o", "s.npy"},
      {"inverse", "fft2", "s.npy", "-o", "r.npy"},
      {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0.1:1.3:4", "--width", "0.2", "-o", "c.npy"},
      {"nmf", "pos.npy", "--components", "3", "-o", "nmf3.npy"},
  };
  for (std::vector<std::string> args : runs) {
    args.insert(args.end(), {"--threads", "1"});
    INFO(args[0]);
    run_ok(f, args);
    CHECK(run_ok(f, {args[0], "--help"}).out.find("--threads N") != std::string::npos);
  }
  CHECK(run_ok(f, {"attribute", "--help"}).out.find("OMP_WAIT_POLICY=passive") != std::string::npos);
  const std::vector<std::string> ig = {"attribute", "relu.onnx", "x.npy", "--transform", "fft2", "--method",
                                       "integrated_gradients", "-o"};
  std::vector<std::string> one = ig, two = ig;
  one.insert(one.end(), {"one.npy", "--threads", "1"});
  two.insert(two.end(), {"two.npy", "--threads", "2"});
  run_ok(f, one);
  run_ok(f, two);
  CHECK(file_text(f.file("one.npy")) == file_text(f.file("two.npy")));
  for (const char* bad : {"0", "-1", "many"}) {
    const test::RunResult r = run_trim({"info", "smooth.onnx", "--threads", bad}, f.dir.path.string());
    CHECK(r.status == 2);
    CHECK(r.err.find("--threads") != std::string::npos);
  }
}

TEST_CASE("cli: --plot writes SVG and PDF by extension and refuses others", "[cli]") {
  CliFolder f;
  if (!io::plotting_available()) return;  // test_cli.cpp checks the message without PLplot
  const std::vector<std::string> base = {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                         "gradient", "--groups", "radial:4", "-o", "a.npy", "--plot"};
  for (const char* name : {"f.svg", "f.pdf", "F.PDF", "f.png"}) {
    std::vector<std::string> args = base;
    args.push_back(name);
    run_ok(f, args);
  }
  CHECK(test::is_svg(f.file("f.svg")));
  CHECK(test::is_pdf(f.file("f.pdf")));
  CHECK(test::is_pdf(f.file("F.PDF")));
  CHECK(test::is_png(f.file("f.png")));
  CHECK(!test::is_pdf(f.file("f.svg")));
  run_ok(f, {"sweep", "relu.onnx", "x.npy", "--transform", "fft2", "--centers", "0.1:1.3:7", "--width", "0.2", "-o",
             "c.npy", "--plot", "s.svg"});
  CHECK(test::is_svg(f.file("s.svg")));
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "h.npy",
             "--plot", "h.pdf"});
  CHECK(test::is_pdf(f.file("h.pdf")));
  for (const char* bad : {"f.jpg", "f", "f.png.bak"}) {
    std::vector<std::string> args = base;
    args.push_back(bad);
    args[10] = "never.npy";
    const test::RunResult r = run_trim(args, f.dir.path.string());
    INFO(bad);
    CHECK(r.status == 2);
    CHECK(r.err.find(".png, .svg or .pdf") != std::string::npos);
    CHECK(!std::ifstream(f.file("never.npy")));
    CHECK(!std::ifstream(f.file(bad)));
  }
}

TEST_CASE("cli: info names the file's outputs, opset, producer and BatchNorm", "[cli]") {
  CliFolder f;
  const test::RunResult lenet = run_ok(f, {"info", test::fixture_model("lenet")});
  INFO(lenet.out);
  CHECK(lenet.out.find("output      'y' [N,10]") != std::string::npos);  // the exporter's name, not '/fc/Gemm'
  CHECK(lenet.out.find("input       'x' [N,1,16,16]") != std::string::npos);
  CHECK(lenet.out.find("opset 11") != std::string::npos);
  CHECK(lenet.out.find("produced by pytorch 1.13") != std::string::npos);
  CHECK(lenet.out.find("batchnorm   none (BatchNorm layers, if any, were folded") != std::string::npos);
  const test::RunResult bn = run_ok(f, {"info", test::fixture_model("bnres")});
  CHECK(bn.out.find("batchnorm   1 BatchNormalization node") != std::string::npos);
  CHECK(bn.out.find("opset 13") != std::string::npos);
}

TEST_CASE("cli: JSON top entries carry the grouping's units and the coefficient's place", "[cli]") {
  CliFolder f;
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "--groups",
             "radial:4", "-o", "g.npy", "--json", "g.json", "--quiet"});
  const std::string g = file_text(f.file("g.json"));
  CHECK(g.find("\"center\": 0.") != std::string::npos);
  CHECK(g.find("\"units\": \"normalised radius\"") != std::string::npos);
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "a.npy",
             "--json", "a.json", "--quiet"});
  const std::string a = file_text(f.file("a.json"));
  CHECK(a.find("\"where\": {\n            \"radius\": ") != std::string::npos);
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "dwt2:haar:2", "--method", "gradient", "-o", "w.npy",
             "--json", "w.json", "--quiet"});
  const std::string w = file_text(f.file("w.json"));
  CHECK(std::regex_search(w, std::regex("\"subband\": \"c[AHVD]_[12]\"")));
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "dwt2:haar:2", "--method", "gradient", "--groups",
             "subbands", "-o", "s.npy", "--json", "s.json", "--quiet"});
  CHECK(std::regex_search(file_text(f.file("s.json")), std::regex("\"group\": \"c[AHVD]_[12]\"")));
}

TEST_CASE("cli: bands:EDGES:SPACING:UNITS groups by physical frequency, reported in its units", "[cli]") {
  CliFolder f;
  // 8x8 pixels, spacing 1: frequencies in cycles/pixel, radii up to sqrt(0.5^2 + 0.5^2) = 0.707.
  const test::RunResult r = run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                       "gradient", "--groups", "bands:0,0.2,0.4,0.8:1:cycles/pixel", "-o", "g.npy",
                                       "--json", "g.json"});
  CHECK(r.out.find("groups in cycles/pixel") != std::string::npos);
  run_ok(f, {"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method", "gradient", "-o", "a.npy",
             "--quiet"});
  const Tensor g = io::read_npy(f.file("g.npy")), a = io::read_npy(f.file("a.npy"));
  REQUIRE(g.shape() == Shape({3, 2, 3}));
  // The edges cover every radius: the bands' scores add up to all the attributions.
  const int64_t per = a.numel() / 6;
  for (int64_t i = 0; i < 6; ++i) {
    double total = 0, bands = 0;
    for (int64_t j = 0; j < per; ++j) total += a[i * per + j];
    for (int64_t k = 0; k < 3; ++k) bands += g[i * 3 + k];
    CHECK(bands == Approx(total).margin(1e-6));
  }
  const std::string j = file_text(f.file("g.json"));
  CHECK(j.find("\"units\": \"cycles/pixel\"") != std::string::npos);
  CHECK(j.find("\"center\": 0.6") != std::string::npos);  // of the band 0.4-0.8
  for (const char* bad : {"bands:0.5,0.2:1", "bands:0,1", "bands:0,x:1"}) {
    const test::RunResult e = run_trim({"attribute", "smooth.onnx", "x.npy", "--transform", "fft2", "--method",
                                        "gradient", "--groups", bad, "-o", "n.npy"},
                                       f.dir.path.string());
    INFO(bad);
    CHECK(e.status == 2);
    CHECK(e.err.find("--groups") != std::string::npos);
  }
}
