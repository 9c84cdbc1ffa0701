// `trim` with the STFT and groups in physical units: hz:EDGES and mel:N with
// --sample-rate, ell:EDGES with --arcmin-per-pixel, stft tiles and segments;
// labels in the JSON summary, and empty bands as errors naming the reach.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_fixture.hpp"
#include "trim/transforms/stft.hpp"

using namespace trim;
using test::CliFolder;
using test::run_ok;
using test::run_trim;

namespace {

/// A smooth model of a 1-D signal, [*, 1, 64] -> 3 outputs.
Graph audio_model() {
  Graph g(43);
  NodeId x = nn::input(g, "x", {1, 64});
  x = nn::tanh(g, nn::linear(g, nn::flatten(g, x), 8, "fc1"));
  g.set_outputs({nn::linear(g, x, 3, "fc2")});
  g.finalize();
  return g;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The group scores [T, N, G] sum to the plain attributions [T, N, ...] per
/// target and example (the groups partition the coefficients).
void require_partition(const Tensor& groups, const Tensor& plain) {
  const int64_t rows = groups.dim(0) * groups.dim(1), G = groups.dim(2), per = plain.numel() / rows;
  for (int64_t i = 0; i < rows; ++i) {
    double total = 0, sum = 0;
    for (int64_t j = 0; j < per; ++j) total += plain[i * per + j];
    for (int64_t k = 0; k < G; ++k) sum += groups[i * G + k];
    CHECK(sum == Approx(total).margin(1e-5));
  }
}

struct AudioFolder : CliFolder {
  Tensor signal = test::randn({2, 1, 64}, 9);
  AudioFolder() {
    io::save_onnx(audio_model(), file("audio.onnx"));
    io::write_npy(file("sig.npy"), signal);
  }
  std::vector<std::string> attribute(const std::string& transform, const std::string& out) const {
    return {"attribute", "audio.onnx", "sig.npy", "--transform", transform, "--method", "gradient", "-o", out,
            "--quiet"};
  }
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("cli: stft transform and inverse equal the library", "[cli][stft]") {
  AudioFolder f;
  const std::string spec = "stft:hann:16:4:center";
  run_ok(f, {"transform", spec, "sig.npy", "--shape", "1,64", "-o", "s.npy"});
  const Tensor s = io::read_npy(f.file("s.npy"));
  const auto t = make_transform(spec, {1, 64});
  REQUIRE(s.shape() == Shape({2, 1, 9, 17, 2}));
  test::require_close(s, t->forward(f.signal), 1e-6, 1e-3, "trim transform");
  run_ok(f, {"inverse", spec, "s.npy", "--shape", "1,64", "-o", "back.npy"});
  test::require_close(io::read_npy(f.file("back.npy")), f.signal, 1e-5, 1.0, "trim inverse");
  // The frames do not say the length: --shape is asked for.
  const test::RunResult e = run_trim({"inverse", spec, "s.npy", "-o", "b2.npy"}, f.dir.path.string());
  CHECK(e.status == 2);
  CHECK(e.err.find("--shape") != std::string::npos);
  const test::RunResult nola = run_trim({"transform", "stft:hann:16:4", "sig.npy", "-o", "n.npy"}, f.dir.path.string());
  CHECK(nola.status == 2);
  CHECK(nola.err.find("NOLA") != std::string::npos);
}

TEST_CASE("cli: hz and mel groups with --sample-rate, labelled in their units", "[cli][stft]") {
  AudioFolder f;
  for (const char* transform : {"stft:hann:16:4:center", "rfft1", "fft1", "dct1"}) {
    INFO(transform);
    run_ok(f, f.attribute(transform, "a.npy"));
    run_ok(f, f.attribute(transform, "hz.npy") +
                  std::vector<std::string>{"--groups", "hz:0,1000,2000,4000", "--sample-rate", "8000", "--json",
                                           "hz.json"});
    const Tensor hz = io::read_npy(f.file("hz.npy"));
    REQUIRE(hz.shape() == Shape({3, 2, 3}));
    require_partition(hz, io::read_npy(f.file("a.npy")));
    const std::string j = text_of(f.file("hz.json"));
    CHECK(j.find("\"units\": \"Hz\"") != std::string::npos);
    CHECK(j.find("\"group\": \"2000-4000 Hz\"") != std::string::npos);
    for (const char* mel : {"mel:6", "mel:6:htk"}) {
      run_ok(f, f.attribute(transform, "mel.npy") +
                    std::vector<std::string>{"--groups", mel, "--sample-rate", "8000", "--json", "mel.json"});
      const Tensor m = io::read_npy(f.file("mel.npy"));
      REQUIRE(m.shape() == Shape({3, 2, 6}));
      require_partition(m, io::read_npy(f.file("a.npy")));
      CHECK(text_of(f.file("mel.json")).find(std::string("mel (") + (std::string(mel) == "mel:6" ? "Slaney" : "HTK")) !=
            std::string::npos);
    }
  }
}

TEST_CASE("cli: stft tiles and segments, the spectrogram figure", "[cli][stft]") {
  AudioFolder f;
  const std::string spec = "stft:hamming:16:8";
  run_ok(f, f.attribute(spec, "a.npy") + std::vector<std::string>{"--plot", "spec.png"});
  CHECK(std::filesystem::file_size(f.file("spec.png")) > 0);
  run_ok(f, f.attribute(spec, "t.npy") +
                std::vector<std::string>{"--groups", "tiles:3:2", "--sample-rate", "8000", "--plot", "tiles.png",
                                         "--json", "t.json"});
  require_partition(io::read_npy(f.file("t.npy")), io::read_npy(f.file("a.npy")));
  CHECK(text_of(f.file("t.json")).find(" Hz, ") != std::string::npos);
  run_ok(f, f.attribute(spec, "g.npy") + std::vector<std::string>{"--groups", "segments:3", "--plot", "seg.png"});
  CHECK(io::read_npy(f.file("g.npy")).shape() == Shape({3, 2, 3}));
  require_partition(io::read_npy(f.file("g.npy")), io::read_npy(f.file("a.npy")));
}

TEST_CASE("cli: ell groups with --arcmin-per-pixel on a map", "[cli][units]") {
  CliFolder f;
  // 8x8 pixels of 2 arcmin: l every 21600 / 16 = 1350 along an axis, the corner at 4·1350·√2 = 7636.75.
  const std::vector<std::string> base = {"attribute", "smooth.onnx", "x.npy", "--transform", "rfft2", "--method",
                                         "gradient", "--quiet"};
  run_ok(f, base + std::vector<std::string>{"-o", "a.npy"});
  run_ok(f, base + std::vector<std::string>{"-o", "l.npy", "--groups", "ell:0,2000,4000,8000", "--arcmin-per-pixel",
                                            "2", "--json", "l.json"});
  require_partition(io::read_npy(f.file("l.npy")), io::read_npy(f.file("a.npy")));
  const std::string j = text_of(f.file("l.json"));
  CHECK(j.find("\"units\": \"multipole l\"") != std::string::npos);
  CHECK(j.find("\"group\": \"l 4000-8000\"") != std::string::npos);
  const test::RunResult e = run_trim(base + std::vector<std::string>{"-o", "e.npy", "--groups", "ell:0,2000,9000,12000",
                                                                     "--arcmin-per-pixel", "2"},
                                     f.dir.path.string());
  CHECK(e.status == 2);
  CHECK(e.err.find("l 9000-12000 holds no coefficient") != std::string::npos);
  CHECK(e.err.find("l = 7636.75") != std::string::npos);
}

TEST_CASE("cli: units errors name the band, the reach or the missing option", "[cli][units]") {
  AudioFolder f;
  const auto fails = [&](const std::vector<std::string>& extra, const std::string& transform, const std::string& says) {
    const test::RunResult e = run_trim(f.attribute(transform, "e.npy") + extra, f.dir.path.string());
    INFO(e.err);
    CHECK(e.status == 2);
    CHECK(e.err.find(says) != std::string::npos);
  };
  // A band past Nyquist (4000 Hz at 8 kHz).
  fails({"--groups", "hz:0,2000,5000,8000", "--sample-rate", "8000"}, "rfft1", "band 5000-8000 Hz holds no coefficient");
  fails({"--groups", "hz:0,2000,5000,8000", "--sample-rate", "8000"}, "stft:hann:16:4:center",
        "from 0 to the largest, 4000 Hz");
  fails({"--groups", "mel:40", "--sample-rate", "8000"}, "rfft1", "fewer bands");
  // bands: (spacing 1/8000 s) refuses an empty band as well.
  fails({"--groups", "bands:0,2000,5000,8000:0.000125:Hz"}, "rfft1",
        "band 5000-8000 holds no coefficient of 'rfft1' (its largest radius is 4000 Hz)");
  fails({"--groups", "hz:0,1000"}, "rfft1", "needs --sample-rate");
  fails({"--groups", "radial:4", "--sample-rate", "8000"}, "rfft1", "--sample-rate is the unit of");
  fails({"--sample-rate", "8000"}, "rfft1", "--groups, which is not given");
  fails({"--groups", "mel:4:bark", "--sample-rate", "8000"}, "rfft1", "mel:N[:htk|slaney]");
  fails({"--groups", "tiles:2:2"}, "rfft1", "not an STFT");
  fails({"--groups", "ell:0,100", "--arcmin-per-pixel", "1"}, "rfft1", "fft2 or rfft2");
  fails({"--groups", "radial:4"}, "stft:hann:16:4:center", "tiles:NF:NT");  // the forms that fit are listed
}
