// The STFT transform against scipy.signal.stft and torch.stft (fixtures from
// tests/reference/make_stft.py), its overlap-add inverse (perfect
// reconstruction, NOLA refusal, exact adjoint, gradient and kind checks, the
// TRIM composition), and its groupings; the physical-unit groupings (Hz, mel,
// multipole l) against NumPy labels and librosa's documented mel values.
#include <cmath>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "composition.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/frequency_bands.hpp"
#include "trim/transforms/stft.hpp"

using namespace trim;
using test::Fixture;
using test::randn;
using test::require_close;
using test::require_ok;

namespace {

const char* const kCases[] = {"hann_c", "hamming", "rect_c", "hann_long", "hamming_c"};

std::string spec_of(const Tensor& config) {
  static const char* const windows[] = {"hann", "hamming", "rect"};
  return std::string("stft:") + windows[static_cast<int>(config[0])] + ":" +
         std::to_string(static_cast<int>(config[1])) + ":" + std::to_string(static_cast<int>(config[2])) +
         (config[3] != 0 ? ":center" : "");
}

/// Frames [0, m) of s [..., bins, frames, 2].
Tensor first_frames(const Tensor& s, int64_t m) {
  Shape out = s.shape();
  const int64_t frames = s.dim(-2);
  out[out.rank() - 2] = m;
  Tensor r(out);
  const int64_t rows = s.numel() / (frames * 2);
  for (int64_t i = 0; i < rows; ++i)
    std::copy(s.data() + i * frames * 2, s.data() + (i * frames + m) * 2, r.data() + i * m * 2);
  return r;
}

/// Ratio of the largest error to the largest reference value.
double max_error(const Tensor& a, const Tensor& b) {
  double err = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    err = std::max(err, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return err / scale;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a[i]) * b[i];
  return s;
}

Graph inverse_graph(const Transform& t) {
  Graph g;
  const NodeId in = nn::input(g, "s", t.coefficient_shape());
  g.set_outputs({add_inverse(g, in, t, "inv")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("stft equals scipy.signal.stft and torch.stft on odd and even lengths", "[transform][stft]") {
  Fixture fx("stft.txt");
  for (const char* c : kCases) {
    const std::string name = c;
    const Tensor& x = fx[name + "_x"];  // [2, n]: two examples of one channel
    const std::string spec = spec_of(fx[name + "_config"]);
    INFO(name << ": " << spec);
    const auto t = make_transform(spec, {x.dim(1)});
    const Tensor s = t->forward(x);
    const Tensor& scipy = fx[name + "_scipy"];
    REQUIRE(s.shape() == scipy.shape());
    const double e_scipy = max_error(s, scipy);
    const Tensor& torch = fx[name + "_torch"];
    const double e_torch = max_error(first_frames(s, torch.dim(-2)), torch);
    INFO("relative error: scipy " << e_scipy << ", torch " << e_torch);
    CHECK(e_scipy < 1e-5);
    CHECK(e_torch < 1e-5);
  }
}

TEST_CASE("stft: perfect reconstruction by overlap-add, graph op equals inverse()", "[transform][stft]") {
  Fixture fx("stft.txt");
  uint64_t seed = 40;
  for (const char* c : kCases) {
    const std::string spec = spec_of(fx[std::string(c) + "_config"]);
    for (const Shape& in : {Shape{fx[std::string(c) + "_x"].dim(1)}, Shape{3, 2, 17}}) {
      INFO(spec << " on " << in.str());
      const auto t = make_transform(spec, in);
      REQUIRE(t->exact());
      Shape batch{2};
      for (int64_t d : in) batch.push_back(d);
      const Tensor x = randn(batch, ++seed);
      require_close(t->inverse(t->forward(x)), x, 1e-5, 1.0, "reconstruction");
      Graph g = inverse_graph(*t);
      const Tensor r = randn(t->forward(x).shape(), ++seed);  // not the STFT of any signal
      require_close(g.evaluate(r), t->inverse(r), 1e-6, 1e-3, "graph vs inverse()");
    }
  }
}

TEST_CASE("stft inverse op: exact adjoint, gradients and kind", "[transform][stft]") {
  uint64_t seed = 70;
  for (const char* spec : {"stft:hann:8:2:center", "stft:hamming:7:3", "stft:rect:6:4:center", "stft:hann:5:2:center"}) {
    for (const Shape& in : {Shape{21}, Shape{2, 16}}) {
      INFO(spec << " on " << in.str());
      const auto t = make_transform(spec, in);
      Graph g = inverse_graph(*t);
      Shape sb{2}, xb{2};
      for (int64_t d : t->coefficient_shape()) sb.push_back(d);
      for (int64_t d : in) xb.push_back(d);
      const Tensor s = randn(sb, ++seed), u = randn(xb, ++seed);
      Workspace ws;
      forward(g, ws, {s});
      const Tensor as = outputs(g, ws)[0];
      const Tensor atu = backward(g, ws, {u}).inputs.at(0);
      REQUIRE(atu.shape() == s.shape());
      const double lhs = dot(as, u), rhs = dot(s, atu);
      const double scale = std::sqrt(dot(as, as) * dot(u, u)) + std::sqrt(dot(s, s) * dot(atu, atu));
      INFO("<As,u> = " << lhs << ", <s,Atu> = " << rhs);
      CHECK(std::fabs(lhs - rhs) <= 1e-5 * scale);
      const NodeId inv = g.outputs()[0];
      REQUIRE(g.node(inv).op->kind() == Kind::Linear);
      REQUIRE(g.node(inv).op->type() == "inverse_stft");
      require_ok(check_gradients(g, {s}));
      require_ok(check_kind(g, inv, {s}));
    }
  }
}

TEST_CASE("TRIM composition: model on the stft inverse of T(x) equals model on x", "[transform][stft]") {
  for (const char* spec : {"stft:hann:8:2:center", "stft:hamming:7:3", "stft:rect:4:4"}) test::check_trim_composition(spec, Shape{2, 19});
}

TEST_CASE("stft refuses windows and hops that fail NOLA, and bad specs", "[transform][stft]") {
  // Periodic hann has w[0] = 0: without center the first sample meets only it.
  CHECK_THROWS_WITH(make_transform("stft:hann:8:2", {32}),
                    Catch::Contains("NOLA") && Catch::Contains("sample 0 of 32") && Catch::Contains("center"));
  // Hop = N_FFT with hann: every frame's first sample is lost (sample 4 with centring).
  CHECK_THROWS_WITH(make_transform("stft:hann:8:8:center", {32}), Catch::Contains("NOLA") && Catch::Contains("sample 4"));
  CHECK_NOTHROW(make_transform("stft:hamming:8:8", {32}));  // hamming is never 0
  CHECK_THROWS_WITH(make_transform("stft:hann:8", {32}), Catch::Contains("stft:WINDOW:N_FFT:HOP[:center]"));
  CHECK_THROWS_WITH(make_transform("stft:kaiser:8:2", {32}), Catch::Contains("unknown window 'kaiser'"));
  CHECK_THROWS_WITH(make_transform("stft:hann:8:9", {32}), Catch::Contains("HOP 9"));
  CHECK_THROWS_WITH(make_transform("stft:hann:8:0", {32}), Catch::Contains("HOP 0"));
  CHECK_THROWS_WITH(make_transform("stft:hann:64:16:center", {32}), Catch::Contains("longer than the signal (32 samples)"));
  CHECK_THROWS_WITH(make_transform("stft:hann:x:2", {32}), Catch::Contains("N_FFT 'x'"));
  CHECK_THROWS_WITH(make_transform("stft:hann:8:2:centre", {32}), Catch::Contains("unexpected part 'centre'"));
  CHECK_THROWS_AS(make_transform("stft:hann:8:2:center", Shape{}), ShapeError);
  const auto t = make_transform("stft:hann:8:2:center", {2, 16});
  CHECK_THROWS_AS(t->forward(Tensor(Shape{1, 16})), ShapeError);
  CHECK_THROWS_AS(t->inverse(Tensor(Shape{1, 2, 5, 8})), ShapeError);
}

TEST_CASE("stft answers its family, layout, groupings and figure", "[transform][stft][families]") {
  const auto t = make_transform("stft:rectangular:8:2:center", {3, 20});
  CHECK(t->spec() == "stft:rect:8:2:center");
  CHECK(t->family() == "stft");
  CHECK(t->axes() == 1);
  CHECK(t->coefficient_shape() == Shape{3, 5, 11, 2});  // [channels, bins, frames, (re, im)]
  CHECK(t->coefficient_layout() == CoefficientLayout::TimeFrequency);
  CHECK(t->complex_pairs());
  CHECK(t->figure_kind() == FigureKind::Spectrogram);
  CHECK(t->groupings() == std::vector<std::string>{"tiles", "segments", "hz", "mel"});
  CHECK_FALSE(signal_shape_for("stft:hann:8:2", t->coefficient_shape()));  // frames cover several lengths
  const StftTransform& s = as_stft(*t, "test");
  CHECK(s.frames() == 11);
  CHECK(s.frame_center(3) == 6.0);
  CHECK(as_stft(*make_transform("stft:hann:8:2:center", {20}), "t").frame_center(0) == 0.0);
  CHECK(as_stft(*make_transform("stft:hamming:8:2", {20}), "t").frame_center(1) == 6.0);  // scipy's t·fs
  CHECK_THROWS_WITH(as_stft(*make_transform("rfft1", {20}), "stft_tiles"), Catch::Contains("'rfft1' is not an STFT"));
  CHECK_THROWS_AS(radial_bands(*t, 4), ValueError);  // no radius: a ValueError the CLI turns into advice
}

TEST_CASE("stft tiles and segments partition the coefficients", "[transform][stft][grouping]") {
  const auto t = make_transform("stft:hann:8:2:center", {2, 20});  // bins 5, frames 11
  const Grouping g = stft_tiles(*t, 2, 3);
  REQUIRE(g.size() == 6);
  REQUIRE(g.labels.size() == static_cast<size_t>(t->coefficient_shape().numel()));
  // array_split: bins 0-2 | 3-4, frames 0-3 | 4-7 | 8-10.
  CHECK(g.names == std::vector<std::string>{"f 0-2, t 0-3", "f 0-2, t 4-7", "f 0-2, t 8-10", "f 3-4, t 0-3",
                                            "f 3-4, t 4-7", "f 3-4, t 8-10"});
  const auto label = [&](int64_t c, int64_t k, int64_t m, int part) {
    return g.labels[static_cast<size_t>(((c * 5 + k) * 11 + m) * 2 + part)];
  };
  CHECK(label(0, 0, 0, 0) == 0);
  CHECK(label(1, 2, 7, 1) == 1);
  CHECK(label(0, 3, 8, 0) == 5);
  CHECK(label(1, 4, 4, 0) == 4);
  CHECK(stft_tiles(*t, 1, 1, 8000).names[0] == "0-4000 Hz, 0-0.0025 s");
  CHECK_THROWS_WITH(stft_tiles(*t, 6, 1), Catch::Contains("6 frequency runs, expected 1 to 5"));

  const Grouping seg = stft_segments(*t, 4, 1000);
  CHECK(seg.size() == 4);
  CHECK(seg.units == "s");
  CHECK(seg.names[0] == "0-0.004 s");  // frames 0-2, centres 0 and 4 samples
  CHECK(seg.centers[0] == Approx(0.002));
  CHECK(seg.labels[static_cast<size_t>(((1 * 5 + 4) * 11 + 10) * 2)] == 3);
  CHECK(stft_segments(*t, 2).units == "frame centre (samples)");
  CHECK_THROWS_AS(stft_segments(*make_transform("fft1", {8}), 2), ValueError);
  // The bandpass parts of a partition sum back to the input.
  const Tensor x = randn({1, 2, 20}, 3);
  Tensor sum(x.shape());
  for (int k = 0; k < g.size(); ++k) sum.as_vector() += bandpass(*t, x, g, k).as_vector();
  require_close(sum, x, 1e-5, 1.0, "sum of tiles");
}

TEST_CASE("mel scales equal librosa's documented values", "[grouping][mel]") {
  // librosa.hz_to_mel / mel_to_hz docstring examples (Slaney's scale).
  CHECK(hz_to_mel(60, MelScale::Slaney) == Approx(0.9));
  CHECK(hz_to_mel(440, MelScale::Slaney) == Approx(6.6));
  CHECK(hz_to_mel(11025, MelScale::Slaney) == Approx(49.91059448015905).epsilon(1e-12));
  CHECK(mel_to_hz(3, MelScale::Slaney) == Approx(200.0));
  CHECK(mel_to_hz(5, MelScale::Slaney) == Approx(333.333).epsilon(1e-5));
  CHECK(hz_to_mel(1000, MelScale::Htk) == Approx(999.98553).epsilon(1e-7));  // 2595·log10(1 + 10/7)
  for (MelScale m : {MelScale::Slaney, MelScale::Htk})
    for (double f : {0.0, 50.0, 999.0, 1000.0, 1001.0, 7000.0}) CHECK(mel_to_hz(hz_to_mel(f, m), m) == Approx(f).margin(1e-9));
  Fixture fx("bands.txt");
  const std::vector<double> s = mel_frequencies(11, 0, 4000, MelScale::Slaney), h = mel_frequencies(11, 0, 4000, MelScale::Htk);
  for (size_t i = 0; i < 11; ++i) {
    CHECK(s[i] == Approx(fx["mel_slaney"][static_cast<int64_t>(i)]).epsilon(1e-6));
    CHECK(h[i] == Approx(fx["mel_htk"][static_cast<int64_t>(i)]).epsilon(1e-6));
  }
}

TEST_CASE("Hz bands of rfft1, fft1, dct1 and stft match NumPy's frequencies", "[grouping][units]") {
  Fixture fx("bands.txt");
  const std::vector<double> edges{0, 500, 1000, 2000, 4000};
  const auto check = [](const Grouping& g, const Tensor& expected, int64_t per_bin, int64_t reps) {
    REQUIRE(static_cast<int64_t>(g.labels.size()) == expected.numel() * per_bin * reps);
    for (int64_t r = 0; r < reps; ++r)  // channels
      for (int64_t k = 0; k < expected.numel(); ++k)
        for (int64_t j = 0; j < per_bin; ++j) {
          INFO("bin " << k);
          REQUIRE(g.labels[static_cast<size_t>((r * expected.numel() + k) * per_bin + j)] ==
                  static_cast<int32_t>(expected[k]));
        }
  };
  const Grouping r = hz_bands(*make_transform("rfft1", {2, 64}), edges, 8000);
  check(r, fx["rfft1_hz_labels"], 2, 2);
  CHECK(r.names[1] == "500-1000 Hz");
  CHECK(r.units == "Hz");
  CHECK(r.centers[3] == 3000);
  check(hz_bands(*make_transform("dct1", {64}), edges, 8000), fx["dct1_hz_labels"], 1, 1);
  const auto st = make_transform("stft:hann:32:8:center", {40});
  check(hz_bands(*st, edges, 8000), fx["stft_hz_labels"], 2 * as_stft(*st, "t").frames(), 1);
  // fft1: bins k and n - k are the same frequency.
  const Grouping f = hz_bands(*make_transform("fft1", {8}), {0, 1500, 4000}, 8000);
  CHECK(f.labels == std::vector<int32_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  CHECK(largest_frequency_hz(*make_transform("rfft1", {9}), 9000) == 4000);
}

TEST_CASE("a band that holds no coefficient is an error naming it and the reach", "[grouping][units]") {
  const auto r = make_transform("rfft1", {64});
  CHECK_THROWS_WITH(hz_bands(*r, {0, 2000, 5000, 8000}, 8000),
                    Catch::Contains("band 5000-8000 Hz holds no coefficient") && Catch::Contains("4000 Hz") &&
                        Catch::Contains("every 125 Hz"));
  CHECK_THROWS_WITH(hz_bands(*r, {0, 10, 20}, 8000), Catch::Contains("band 10-20 Hz"));  // between two bins
  CHECK_THROWS_AS(hz_bands(*make_transform("fft2", {8, 8}), {0, 1}, 8000), ValueError);
  CHECK_THROWS_WITH(hz_bands(*r, {0, 100}, -1), Catch::Contains("sample rate -1"));

  const Grouping m = mel_bands(*make_transform("stft:hann:256:64:center", {1000}), 20, 16000, MelScale::Htk);
  CHECK(m.size() == 20);
  CHECK(m.units == "mel (HTK)");
  CHECK(m.names[0].rfind("mel 0: 0-", 0) == 0);
  CHECK_THROWS_WITH(mel_bands(*make_transform("rfft1", {32}), 40, 16000, MelScale::Slaney),
                    Catch::Contains("band mel 1: 75.41-150.8 Hz holds no coefficient") &&
                        Catch::Contains("fewer bands"));

  const auto map = make_transform("rfft2", {16, 16});  // 2 arcmin pixels: l every 675, corner 7636.75
  const Grouping l = ell_bands(*map, {0, 1000, 3000, 7637}, 2.0);
  CHECK(l.names[1] == "l 1000-3000");
  CHECK(l.units == "multipole l");
  CHECK_THROWS_WITH(ell_bands(*map, {0, 1000, 8000, 10000}, 2.0),
                    Catch::Contains("bin l 8000-10000 holds no coefficient") && Catch::Contains("l = 7636.75") &&
                        Catch::Contains("every 675"));
  CHECK_THROWS_AS(ell_bands(*make_transform("rfft1", {16}), {0, 100}, 2.0), ValueError);
}
