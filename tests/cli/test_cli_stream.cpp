// Streamed runs of `trim attribute`, `sweep` and `predict` (src/cli/stream.cpp):
// chunked inputs in every format equal the in-memory run bit for bit (in the
// examples-first layout), summaries equal statistics computed here from the
// written output, --resume continues a failed or killed run, and (release
// suite only: tags [slow] and [mpi]) a 2 GiB input stays under 500 MB
// resident and mpirun -np 2 writes what one process writes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_fixture.hpp"
#include "trim/dataset/array.hpp"
#include "trim/io/json.hpp"
#include "trim/io/plot.hpp"

using namespace trim;
using trim::test::CliFolder;
using trim::test::run_ok;
using trim::test::run_trim;

namespace {

/// [T, N, rest...] as [N, T, rest...]: the in-memory layout as a streamed one.
Tensor examples_first(const Tensor& t) {
  const int64_t T = t.dim(0), n = t.dim(1), per = t.numel() / (T * n);
  Shape s = t.shape();
  std::swap(s[0], s[1]);
  Tensor out(s);
  for (int64_t k = 0; k < T; ++k)
    for (int64_t e = 0; e < n; ++e)
      for (int64_t i = 0; i < per; ++i) out[(e * T + k) * per + i] = t[(k * n + e) * per + i];
  return out;
}

void require_identical(const Tensor& a, const Tensor& b) {
  INFO("shapes " << a.shape().str() << " vs " << b.shape().str());
  REQUIRE(a.shape() == b.shape());
  int64_t differ = 0;
  for (int64_t i = 0; i < a.numel(); ++i) differ += a[i] != b[i];
  REQUIRE(differ == 0);
}

Tensor read_all(const std::string& spec) {
  auto r = dataset::open_array(spec);
  return r->read(0, r->rows());
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

/// A folder with a 20-example batch (x20.npy) and class labels (labels.npy).
struct StreamFolder : CliFolder {
  Tensor x20 = test::randn({20, 1, 8, 8}, 5);
  StreamFolder() {
    io::write_npy(file("x20.npy"), x20);
    Tensor labels({20});
    for (int64_t i = 0; i < 20; ++i) labels[i] = static_cast<float>(i % 3 == 0 ? 0 : 2);
    io::write_npy(file("labels.npy"), labels);
  }
};

const std::vector<std::string> kIg = {"attribute", "smooth.onnx", "x20.npy", "--transform", "fft2", "--method",
                                      "integrated_gradients", "--groups", "radial:4", "--steps", "16", "--quiet"};
const std::vector<std::string> kSweep = {"sweep", "relu.onnx", "x20.npy", "--transform", "fft2", "--centers",
                                         "0.1:1.3:7", "--width", "0.2", "--quiet"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

std::vector<std::string> on(std::vector<std::string> a, const std::string& input) {
  a[2] = input;
  return a;
}

/// Sample mean and standard deviation (ddof 1) of column c of rows [N, C], two-pass.
std::pair<double, double> mean_std(const Tensor& rows, int64_t c, const std::vector<int64_t>& pick = {}) {
  const int64_t N = rows.dim(0), C = rows.numel() / N;
  std::vector<double> v;
  for (int64_t e = 0; e < N; ++e)
    if (pick.empty() || std::find(pick.begin(), pick.end(), e) != pick.end()) v.push_back(rows[e * C + c]);
  double m = 0, ss = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / static_cast<double>(v.size() - 1))};
}

}  // namespace

TEST_CASE("stream: attribute, sweep and predict streamed equal the in-memory run bit for bit, examples first",
          "[stream]") {
  StreamFolder f;
  run_ok(f, with(kIg, {"-o", "ig_mem.npy"}));
  run_ok(f, with(kIg, {"-o", "ig_st.npy", "--chunk", "8"}));
  const Tensor mem = io::read_npy(f.file("ig_mem.npy"));
  REQUIRE(mem.shape() == Shape({3, 20, 4}));
  require_identical(io::read_npy(f.file("ig_st.npy")), examples_first(mem));

  // DeepLIFT without groups (rows [T, coefficients...]); a chunk that is not a multiple of the calls.
  const std::vector<std::string> dl = {"attribute", "relu.onnx", "x20.npy", "--transform", "dct2", "--method",
                                       "deeplift", "--target", "1", "--quiet"};
  run_ok(f, with(dl, {"-o", "dl_mem.npy"}));
  run_ok(f, with(dl, {"-o", "dl_st.npy", "--chunk", "5"}));
  require_identical(io::read_npy(f.file("dl_st.npy")), examples_first(io::read_npy(f.file("dl_mem.npy"))));

  run_ok(f, with(kSweep, {"-o", "sw_mem.npy"}));
  run_ok(f, with(kSweep, {"-o", "sw_st.npy", "--chunk", "4"}));
  require_identical(io::read_npy(f.file("sw_st.npy")), examples_first(io::read_npy(f.file("sw_mem.npy"))));

  run_ok(f, {"predict", "smooth.onnx", "x20.npy", "-o", "y_mem.npy"});
  run_ok(f, {"predict", "smooth.onnx", "x20.npy", "-o", "y_st.npy", "--chunk", "3"});
  require_identical(io::read_npy(f.file("y_st.npy")), io::read_npy(f.file("y_mem.npy")));
  // Printed, streamed: one line per example.
  const std::string printed = run_ok(f, {"predict", "smooth.onnx", "x20.npy", "--chunk", "7"}).out;
  CHECK(std::count(printed.begin(), printed.end(), '\n') == 20);
}

TEST_CASE("stream: HDF5 (chunked, gzip) and FITS inputs equal .npy; HDF5 outputs carry the settings", "[stream]") {
  if (!dataset::has_hdf5()) return;
  StreamFolder f;
  dataset::WriterOptions o;
  o.chunk_rows = 3;
  o.gzip = 4;
  auto w = dataset::create_array(f.file("suite.h5:/sims/maps"), {20, 1, 8, 8}, o);
  w->write(0, f.x20);
  w->commit();
  w.reset();
  run_ok(f, with(kIg, {"-o", "ig_npy.npy", "--chunk", "8"}));
  run_ok(f, with(on(kIg, "suite.h5:/sims/maps"), {"-o", "out.h5:/trim/ig"}));
  require_identical(read_all(f.file("out.h5:/trim/ig")), io::read_npy(f.file("ig_npy.npy")));
  run_ok(f, with(on(kSweep, "suite.h5:/sims/maps"), {"-o", "sw.npy"}));
  // The summary group may go next to the inputs; results into the inputs' file are refused, before any work.
  run_ok(f, with(on(kSweep, "suite.h5:/sims/maps"), {"-o", "res.h5:/sweep", "--summary", "suite.h5:/trim/sum"}));
  require_identical(read_all(f.file("res.h5:/sweep")), io::read_npy(f.file("sw.npy")));
  CHECK(read_all(f.file("suite.h5:/trim/sum/all/mean")).shape() == Shape({3, 7}));
  require_identical(read_all(f.file("suite.h5:/sims/maps")), f.x20);
  const auto same = run_trim(with(on(kSweep, "suite.h5:/sims/maps"), {"-o", "suite.h5:/trim/sweep"}), f.dir.path.string());
  CHECK(same.status == 2);
  CHECK(same.err.find("their own .h5 file") != std::string::npos);
  run_ok(f, with(kSweep, {"-o", "sw_mem.npy"}));
  require_identical(io::read_npy(f.file("sw.npy")), examples_first(io::read_npy(f.file("sw_mem.npy"))));
  // The run's settings are attributes of the dataset (h5dump -A shows them): the file holds their text.
  const std::string raw = read_text(f.file("out.h5"));
  for (const char* text : {"integrated_gradients", "radial:4", "examples first", "trim_command"})
    CHECK(raw.find(text) != std::string::npos);
  if (dataset::has_fits()) {
    // A FITS cube written by hand: NAXIS1 = 8, NAXIS2 = 8, NAXIS3 = 1, NAXIS4 = 20 (fastest first), BITPIX -32.
    std::string header;
    auto card = [&](const std::string& text) {
      std::string c = text;
      c.resize(80, ' ');
      header += c;
    };
    auto value = [&](const std::string& key, const std::string& v) {
      std::string k = key;
      k.resize(8, ' ');
      std::string vv(20 - std::min<size_t>(20, v.size()), ' ');
      card(k + "= " + vv + v);
    };
    value("SIMPLE", "T");
    value("BITPIX", "-32");
    value("NAXIS", "4");
    value("NAXIS1", "8");
    value("NAXIS2", "8");
    value("NAXIS3", "1");
    value("NAXIS4", "20");
    card("END");
    header.resize((header.size() + 2879) / 2880 * 2880, ' ');
    std::string data;
    for (float v : f.x20) {
      uint32_t u;
      std::memcpy(&u, &v, 4);
      for (int b = 3; b >= 0; --b) data += static_cast<char>((u >> (8 * b)) & 0xff);  // big-endian
    }
    data.resize((data.size() + 2879) / 2880 * 2880, '\0');
    std::ofstream(f.file("maps.fits"), std::ios::binary) << header << data;
    run_ok(f, with(on(kIg, "maps.fits"), {"-o", "ig_fits.npy"}));
    require_identical(io::read_npy(f.file("ig_fits.npy")), io::read_npy(f.file("ig_npy.npy")));
  }
}

TEST_CASE("stream: --summary gives the statistics of the written output, per class with --labels", "[stream]") {
  StreamFolder f;
  std::string summary = "s.json";
  if (dataset::has_hdf5()) summary += ",s.h5:/trim/summary";
  run_ok(f, with(kSweep, {"-o", "sw.npy", "--chunk", "8", "--summary", summary, "--labels", "labels.npy",
                          "--bootstrap", "200"}));
  const Tensor out = io::read_npy(f.file("sw.npy"));  // [20, 3, 7]
  REQUIRE(out.shape() == Shape({20, 3, 7}));
  const std::string j = read_text(f.file("s.json"));
  CHECK(j.find("\"examples\": 20") != std::string::npos);
  CHECK(j.find("\"replicates\": 200") != std::string::npos);
  CHECK(j.find("\"command\": \"sweep\"") != std::string::npos);
  CHECK(j.find("\"classes\"") != std::string::npos);
  CHECK(j.find("\"provenance\"") != std::string::npos);
  if (dataset::has_hdf5()) {
    // The same statistics as an HDF5 group, read back as arrays [3, 7].
    auto stat = [&](const std::string& set, const std::string& name) {
      return read_all(f.file("s.h5:/trim/summary/" + set + "/" + name));
    };
    const Tensor mean = stat("all", "mean"), sd = stat("all", "std"), sem = stat("all", "sem");
    const Tensor lo = stat("all", "ci_low"), hi = stat("all", "ci_high");
    const Tensor mean0 = stat("classes/0", "mean"), sd2 = stat("classes/2", "std");
    REQUIRE(mean.shape() == Shape({3, 7}));
    std::vector<int64_t> class0, class2;
    for (int64_t e = 0; e < 20; ++e) (e % 3 == 0 ? class0 : class2).push_back(e);
    for (int64_t c = 0; c < 21; ++c) {
      const auto [m, s] = mean_std(out, c);
      CHECK(mean[c] == Approx(m).epsilon(1e-6).margin(1e-9));
      CHECK(sd[c] == Approx(s).epsilon(1e-6).margin(1e-9));
      CHECK(sem[c] == Approx(s / std::sqrt(20.0)).epsilon(1e-6).margin(1e-9));
      CHECK(lo[c] <= m + 1e-6);
      CHECK(hi[c] >= m - 1e-6);
      CHECK(hi[c] > lo[c]);
      CHECK(mean0[c] == Approx(mean_std(out, c, class0).first).epsilon(1e-6).margin(1e-9));
      CHECK(sd2[c] == Approx(mean_std(out, c, class2).second).epsilon(1e-6).margin(1e-9));
    }
  }
  if (io::plotting_available()) {
    run_ok(f, with(kIg, {"-o", "ig.npy", "--summary", "ig.json", "--plot", "band.png"}));
    CHECK(test::is_png(f.file("band.png")));
  }
  // A summary's folder that does not exist fails before any work, with nothing written.
  const auto r = run_trim(with(kSweep, {"-o", "never.npy", "--summary", "nowhere/s.json"}), f.dir.path.string());
  CHECK(r.status == 1);
  CHECK(r.err.find("nowhere") != std::string::npos);
  CHECK(!exists(f.file("never.npy")));
}

TEST_CASE("stream: --resume continues a failed run from its finished chunks and equals an uninterrupted run",
          "[stream]") {
  StreamFolder f;
  run_ok(f, with(kIg, {"-o", "whole.npy", "--chunk", "8"}));
  Tensor bad = f.x20;
  bad[17 * 64 + 5] = std::nanf("");
  io::write_npy(f.file("in.npy"), bad);
  // Without --resume a failure leaves nothing behind.
  auto r = run_trim(with(on(kIg, "in.npy"), {"-o", "out.npy", "--chunk", "8"}), f.dir.path.string());
  CHECK(r.status == 1);
  CHECK(r.err.find("in.npy") != std::string::npos);
  CHECK(r.err.find("[17,0,0,5]") != std::string::npos);
  CHECK(!exists(f.file("out.npy")));
  CHECK(!exists(f.file("out.npy.partial")));
  // With --resume it keeps its two finished chunks (examples 0-15)...
  r = run_trim(with(on(kIg, "in.npy"), {"-o", "out.npy", "--chunk", "8", "--resume"}), f.dir.path.string());
  CHECK(r.status == 1);
  CHECK(!exists(f.file("out.npy")));
  CHECK(exists(f.file("out.npy.partial")));
  // ... which the resumed run does not recompute (it reads them back), once the input is repaired.
  io::write_npy(f.file("in.npy"), f.x20);
  std::vector<std::string> resume = with(on(kIg, "in.npy"), {"-o", "out.npy", "--chunk", "8", "--resume"});
  resume.erase(std::find(resume.begin(), resume.end(), "--quiet"));
  r = run_ok(f, resume);
  CHECK(r.out.find("16 of them from the resumed run") != std::string::npos);
  require_identical(io::read_npy(f.file("out.npy")), io::read_npy(f.file("whole.npy")));
  CHECK(!exists(f.file("out.npy.partial")));
}

TEST_CASE("stream: --resume after a kill equals an uninterrupted run", "[stream][slow]") {
  StreamFolder f;
  Tensor x = test::randn({96, 1, 8, 8}, 11);
  io::write_npy(f.file("x96.npy"), x);
  std::vector<std::string> slow = on(kIg, "x96.npy");
  slow[10] = "400";  // --steps: about a second per chunk of 8
  slow = with(slow, {"-o", "whole.npy", "--chunk", "8"});
  run_ok(f, slow);
  // The same run, killed once two chunks are on disk (their ranges follow the fingerprint line).
  std::vector<std::string> killed = slow;
  killed[std::find(killed.begin(), killed.end(), "whole.npy") - killed.begin()] = "out.npy";
  killed.push_back("--resume");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(f.dir.path.c_str()) != 0) ::_exit(127);
    std::vector<char*> argv{const_cast<char*>(TRIM_EXE)};
    for (const std::string& a : killed) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TRIM_EXE, argv.data());
    ::_exit(127);
  }
  bool stopped = false;
  for (int i = 0; i < 6000 && !stopped; ++i) {
    const std::string progress = read_text(f.file("out.npy.partial.progress"));
    if (std::count(progress.begin(), progress.end(), '\n') >= 3) {
      ::kill(pid, SIGKILL);
      stopped = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(stopped);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(!exists(f.file("out.npy")));
  killed.erase(std::find(killed.begin(), killed.end(), "--quiet"));
  const auto r = run_ok(f, killed);
  CHECK(r.out.find("of them from the resumed run") != std::string::npos);
  require_identical(io::read_npy(f.file("out.npy")), io::read_npy(f.file("whole.npy")));
}

TEST_CASE("stream: a 2 GiB input is processed with under 500 MB resident", "[stream][slow]") {
  StreamFolder f;
  // A tiny model over 256 x 256 maps, and a sparse 2 GiB .npy of 8192 maps (zeros: no disk space used).
  Graph g(5);
  NodeId x = nn::input(g, "x", {1, 256, 256});
  g.set_outputs({nn::linear(g, nn::flatten(g, nn::global_avg_pool(g, x, "pool")), 2, "fc")});
  g.finalize();
  io::save_onnx(g, f.file("tiny.onnx"));
  const int64_t N = 8192;
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(N) + ", 1, 256, 256), }";
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.resize(total - 10 - 1, ' ');
  header += '\n';
  std::string head = std::string("\x93NUMPY\x01\x00", 8);
  head += static_cast<char>(header.size() & 0xff);
  head += static_cast<char>(header.size() >> 8);
  head += header;
  const std::string big = f.file("big.npy");
  {
    std::ofstream(big, std::ios::binary) << head;
  }
  REQUIRE(::truncate(big.c_str(), static_cast<off_t>(head.size() + N * 256 * 256 * 4)) == 0);
  const auto r = run_trim({"predict", "tiny.onnx", "big.npy", "-o", "y.npy", "--chunk", "64"}, f.dir.path.string(),
                          {false, 300, {}, {}});
  std::remove(big.c_str());
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Tensor y = io::read_npy(f.file("y.npy"));
  REQUIRE(y.shape() == Shape({N, 2}));
  CHECK(y[2 * (N - 1)] == y[0]);  // every map is zeros: the same output (the bias)
  INFO("peak resident set " << r.max_rss_kib / 1024 << " MiB");
  CHECK(r.max_rss_kib > 0);
  CHECK(r.max_rss_kib < 500 * 1024);
}

#ifdef TRIM_TEST_MPIRUN
namespace {
test::RunResult run_mpi(const StreamFolder& f, int np, const std::vector<std::string>& args) {
  test::RunOptions o;
  o.timeout_seconds = 120;
  o.launcher = {TRIM_TEST_MPIRUN, "-np", std::to_string(np), "--oversubscribe", "--allow-run-as-root"};
  o.env = {{"OMPI_MCA_btl", "self,vader,tcp"},
           {"OMPI_MCA_btl_vader_single_copy_mechanism", "none"},
           {"OMPI_MCA_plm_rsh_agent", ""}};
  return run_trim(args, f.dir.path.string(), o);
}
}  // namespace

TEST_CASE("stream: mpirun -np 2 writes what one process writes (IG, DeepLIFT, CD sweep, summaries)",
          "[stream][mpi][slow]") {
  StreamFolder f;
  // 150 examples: rank 0 takes blocks [0, 128), rank 1 [128, 150).
  io::write_npy(f.file("x150.npy"), test::randn({150, 1, 8, 8}, 21));
  Tensor labels({150});
  for (int64_t i = 0; i < 150; ++i) labels[i] = static_cast<float>(i % 4);
  io::write_npy(f.file("l150.npy"), labels);
  const std::vector<std::vector<std::string>> runs = {
      with(on(kIg, "x150.npy"), {"--summary", "S.json", "--labels", "l150.npy", "--chunk", "16"}),
      {"attribute", "relu.onnx", "x150.npy", "--transform", "fft2", "--method", "deeplift", "--groups", "radial:5",
       "--quiet", "--chunk", "24"},
      with(on(kSweep, "x150.npy"), {"--summary", "S.json", "--chunk", "8"}),
  };
  int n = 0;
  for (const auto& run : runs) {
    ++n;
    std::vector<std::string> one = with(run, {"-o", "one.npy"}), two = with(run, {"-o", "two.npy"});
    std::replace(one.begin(), one.end(), std::string("S.json"), std::string("one.json"));
    std::replace(two.begin(), two.end(), std::string("S.json"), std::string("two.json"));
    INFO("run " << n);
    run_ok(f, one);
    const auto r = run_mpi(f, 2, two);
    INFO(r.err);
    REQUIRE(r.status == 0);
    require_identical(io::read_npy(f.file("two.npy")), io::read_npy(f.file("one.npy")));
    if (exists(f.file("one.json"))) {
      // The statistics ("all" and "classes", before "command") are the same text.
      auto stats = [&](const std::string& name) {
        const std::string t = read_text(f.file(name));
        return t.substr(t.find("\"all\""), t.find("\"command\"") - t.find("\"all\""));
      };
      CHECK(stats("one.json") == stats("two.json"));
      CHECK(read_text(f.file("two.json")).find("\"processes\": 2") != std::string::npos);
      std::remove(f.file("one.json").c_str());
      std::remove(f.file("two.json").c_str());
    }
  }
  // Rank 0 alone reports progress, of the whole job: one last line, counting all 150 examples.
  {
    std::vector<std::string> loud = with(on(kIg, "x150.npy"), {"-o", "loud.npy", "--chunk", "8"});
    loud.erase(std::find(loud.begin(), loud.end(), "--quiet"));
    test::RunOptions o;
    const auto r = [&] {
      test::RunOptions ro;
      ro.timeout_seconds = 120;
      ro.launcher = {TRIM_TEST_MPIRUN, "-np", "2", "--oversubscribe", "--allow-run-as-root"};
      ro.env = {{"OMPI_MCA_btl", "self,vader,tcp"},
                {"OMPI_MCA_btl_vader_single_copy_mechanism", "none"},
                {"OMPI_MCA_plm_rsh_agent", ""},
                {"TRIM_PROGRESS_INTERVAL", "0.001"}};
      return run_trim(loud, f.dir.path.string(), ro);
    }();
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("150/150 examples") != std::string::npos);
    size_t finals = 0;
    for (size_t at = r.err.find("done in"); at != std::string::npos; at = r.err.find("done in", at + 1)) ++finals;
    CHECK(finals == 1);
    CHECK(r.out.find("2 processes") != std::string::npos);
  }
  // A bad example in rank 1's slice: one message naming the rank and the file, no output, no part files.
  Tensor bad = io::read_npy(f.file("x150.npy"));
  bad[140 * 64 + 3] = INFINITY;
  io::write_npy(f.file("bad.npy"), bad);
  const auto r = run_mpi(f, 2, with(on(kIg, "bad.npy"), {"-o", "bad_out.npy", "--summary", "bad.json"}));
  CHECK(r.status != 0);
  CHECK(r.err.find("rank 1: input 'bad.npy': element [140,0,0,3] is infinite") != std::string::npos);
  CHECK(r.err.find("trim attribute:") == r.err.rfind("trim attribute:"));  // once
  for (const auto& e : std::filesystem::directory_iterator(f.dir.path)) {
    const std::string name = e.path().filename().string();
    CHECK(name.find("bad_out") == std::string::npos);
    CHECK(name.find("bad.json") == std::string::npos);
  }
}
#endif
