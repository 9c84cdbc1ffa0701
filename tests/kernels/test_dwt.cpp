// Wavelet kernels against PyWavelets 1.1.1 fixtures (tests/reference/make_dwt.py):
// every mode on even, odd, shorter-than-filter and length-1 signals, every
// wavelet, multilevel 1-D and 2-D with odd-size trimming, the stationary
// transform and its restrictions; perfect reconstruction; the exact adjoint
// of the flattened inverse; error messages.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/kernels/dwt.hpp"

using namespace trim;
using trim::test::message_of;
using namespace trim::kernels;
using trim::test::randn;

namespace {

const char* const all_modes[] = {"zero",   "constant",      "symmetric",   "reflect",      "periodic",
                                 "smooth", "antisymmetric", "antireflect", "periodization"};

std::string ident(std::string s) {
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (float v : t) m = std::max(m, double(std::fabs(v)));
  return m;
}

/// max |a − ref| <= tol · signal scale (the larger of `scale` and max |ref|).
void near(const Tensor& a, const Tensor& ref, double tol, const std::string& what, double scale = 1.0) {
  INFO(what << ": shapes " << a.shape().str() << " vs " << ref.shape().str());
  REQUIRE(a.shape() == ref.shape());
  const double s = std::max(scale, max_abs(ref));
  double worst = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - ref[i]));
  INFO(what << ": max abs error " << worst << " at scale " << s);
  REQUIRE(worst <= tol * s);
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("wavelet names, filters and lengths", "[dwt]") {
  CHECK(wavelet_names().size() == 106);
  const Wavelet& db4 = wavelet("db4");
  CHECK(db4.length() == 8);
  CHECK(db4.family == "db");
  CHECK(db4.orthogonal);
  CHECK(wavelet("sym7").length() == 14);
  CHECK(wavelet("coif3").length() == 18);
  CHECK(wavelet("dmey").length() == 62);
  CHECK(wavelet("db38").length() == 76);
  CHECK_FALSE(wavelet("bior2.2").orthogonal);
  CHECK(wavelet("bior2.2").biorthogonal);
  // PyWavelets' Wavelet('db4').dec_lo, Wavelet('db2').dec_hi / rec_hi, bior1.3's rec_lo / dec_lo.
  CHECK(db4.dec_lo[7] == Approx(0.2303778133088965).epsilon(1e-15));
  const Wavelet& db2 = wavelet("db2");
  CHECK(db2.dec_hi[0] == Approx(-0.48296291314453416).epsilon(1e-15));
  CHECK(db2.rec_hi[3] == Approx(-0.48296291314453416).epsilon(1e-15));
  CHECK(db2.rec_hi[0] == Approx(-0.12940952255126037).epsilon(1e-15));
  CHECK(wavelet("bior1.3").rec_lo[2] == Approx(0.7071067811865476).epsilon(1e-15));
  CHECK(wavelet("bior1.3").dec_lo[0] == Approx(-0.08838834764831845).epsilon(1e-15));
  CHECK(wavelet("haar").dec_lo == wavelet("db1").dec_lo);

  CHECK(dwt_coeff_len(13, 8, DwtMode::Symmetric) == 10);
  CHECK(dwt_coeff_len(13, 8, DwtMode::Periodization) == 7);
  CHECK(dwt_coeff_len(1, 62, DwtMode::Zero) == 31);
  CHECK(dwt_max_level(1024, 8) == 7);  // pywt.dwt_max_level(1024, 8)
  CHECK(dwt_max_level(28, 8) == 2);
  CHECK(dwt_max_level(6, 8) == 0);
  CHECK(swt_max_level(1024) == 10);
  CHECK(swt_max_level(12) == 2);
  CHECK(swt_max_level(7) == 0);
  for (const char* m : all_modes) CHECK(std::string(dwt_mode_name(dwt_mode(m))) == m);
}

TEST_CASE("wavelet errors say what to do", "[dwt]") {
  std::string m = message_of<ValueError>([] { wavelet("db39"); });
  CHECK(contains(m, "unknown wavelet 'db39'"));
  CHECK(contains(m, "did you mean 'db38'"));
  CHECK(contains(message_of<ValueError>([] { wavelet("DB4"); }), "'db4'"));
  CHECK(contains(message_of<ValueError>([] { wavelet("coif18"); }), "'coif17'"));
  CHECK(contains(message_of<ValueError>([] { wavelet("bior2.3"); }), "'bior2.2'"));
  m = message_of<ValueError>([] { dwt_mode("symetric"); });
  CHECK(contains(m, "'symetric'"));
  CHECK(contains(m, "periodization"));

  const Tensor one(Shape{1, 1}, 1.0f);
  m = message_of<ValueError>([&] { dwt(one, wavelet("db2"), DwtMode::Reflect); });
  CHECK(contains(m, "reflect"));
  CHECK(contains(m, "at least 2 samples"));
  CHECK_THROWS_AS(dwt(one, wavelet("db2"), DwtMode::Antireflect), ValueError);
  // Level 2 of haar on 2 samples reaches a single sample.
  CHECK_THROWS_AS(wavedec(Tensor(Shape{2}), wavelet("haar"), DwtMode::Reflect, 2), ValueError);
  m = message_of<ValueError>([] { wavedec(Tensor(Shape{8}), wavelet("haar"), DwtMode::Symmetric, -3); });
  CHECK(contains(m, "wavedec: level -3"));
  // Above dwt_max_level is allowed (PyWavelets warns), but not without end.
  CHECK(wavedec(Tensor(Shape{8}), wavelet("haar"), DwtMode::Symmetric, 64).size() == 65);
  m = message_of<ValueError>([] { wavedec(Tensor(Shape{8}), wavelet("haar"), DwtMode::Symmetric, 1000000); });
  CHECK(contains(m, "wavedec: level 1000000 too high: at most 64"));
  CHECK(contains(m, "dwt_max_level for size 8 is 3"));
  CHECK_THROWS_AS(wavedec2(Tensor(Shape{8, 8}), wavelet("haar"), DwtMode::Symmetric, 65), ValueError);
  CHECK_THROWS_AS(dwt(Tensor::scalar(1.0f), wavelet("haar")), ShapeError);
  CHECK_THROWS_AS(dwt2(Tensor(Shape{8}), wavelet("haar")), ShapeError);
  m = message_of<ValueError>([] { idwt(Tensor(Shape{2}), Tensor(Shape{2}), wavelet("db4")); });
  CHECK(contains(m, "idwt"));
  CHECK_THROWS_AS(idwt(Tensor(Shape{4}), Tensor(Shape{5}), wavelet("db2")), ShapeError);
  // pywt.idwt: "Invalid coefficient arrays length for specified wavelet".
  CHECK_THROWS_AS(idwt(Tensor(Shape{5}), Tensor(Shape{5}), wavelet("bior3.5")), ValueError);
  m = message_of<ShapeError>([] {
    auto c = wavedec(Tensor(Shape{37}), wavelet("db2"), DwtMode::Symmetric, 2);
    c[1] = Tensor(Shape{3});
    waverec(c, wavelet("db2"));
  });
  CHECK(contains(m, "cD_2"));
}

TEST_CASE("dwt matches pywt.dwt in every mode and at every length", "[dwt]") {
  const test::Fixture f("dwt_modes.txt");
  int checked = 0;
  for (int n : {1, 3, 13, 16}) {
    const Tensor& x = f["x_" + std::to_string(n)];
    for (const char* wn : {"db4", "bior3.5", "haar"})
      for (const char* mn : all_modes) {
        const std::string key = "modes_" + ident(wn) + "_" + mn + "_" + std::to_string(n);
        if (!f.has(key + "_a")) continue;
        const DwtCoeffs c = dwt(x, wavelet(wn), dwt_mode(mn));
        near(c.a, f[key + "_a"], 1e-5, key + " a", max_abs(x));
        near(c.d, f[key + "_d"], 1e-5, key + " d", max_abs(x));
        // Perfect reconstruction, trimmed to the signal (odd n gives n + 1).
        const Tensor y = idwt(c.a, c.d, wavelet(wn), dwt_mode(mn));
        REQUIRE(y.dim(1) >= n);
        double err = 0.0;
        for (int64_t b = 0; b < 2; ++b)
          for (int64_t i = 0; i < n; ++i) err = std::max(err, double(std::fabs(y[b * y.dim(1) + i] - x[b * n + i])));
        INFO(key << " reconstruction error " << err);
        REQUIRE(err <= 1e-5 * max_abs(x));
        ++checked;
      }
  }
  CHECK(checked == 3 * 9 * 4 - 3 * 2);
  for (const char* wn : {"db4", "bior3.5"})
    for (const char* mn : {"symmetric", "periodization"})
      for (int n : {7, 8}) {
        const std::string key = std::string("idwt_") + ident(wn) + "_" + mn + "_" + std::to_string(n);
        near(idwt(f[key + "_a"], f[key + "_d"], wavelet(wn), dwt_mode(mn)), f[key + "_y"], 1e-5, key);
        // None (an empty tensor) stands for zeros.
        const Tensor zeros(f[key + "_d"].shape());
        near(idwt(f[key + "_a"], Tensor(), wavelet(wn), dwt_mode(mn)),
             idwt(f[key + "_a"], zeros, wavelet(wn), dwt_mode(mn)), 0.0, key + " None");
      }
}

TEST_CASE("dwt matches pywt for every wavelet", "[dwt]") {
  const test::Fixture f("dwt_families.txt");
  const Tensor& x = f["x"];
  for (const std::string& name : wavelet_names()) {
    const DwtCoeffs c = dwt(x, wavelet(name));
    near(c.a, f["fam_" + ident(name) + "_a"], 1e-5, name + " a", max_abs(x));
    near(c.d, f["fam_" + ident(name) + "_d"], 1e-5, name + " d", max_abs(x));
  }
}

TEST_CASE("perfect reconstruction for every wavelet, 1-D and 2-D", "[dwt]") {
  const Tensor x1 = randn({2, 41}, 3);
  const Tensor x2 = randn({2, 19, 24}, 4);
  for (const std::string& name : wavelet_names()) {
    const Wavelet& w = wavelet(name);
    // dmey is not exactly invertible: PyWavelets itself is off by ~6e-3 of the scale here.
    const double tol = name == "dmey" ? 1e-2 : 1e-5;
    for (DwtMode m : {DwtMode::Symmetric, DwtMode::Periodization}) {
      INFO(name << " " << dwt_mode_name(m));
      const int level = name == "dmey" ? 1 : 2;
      Tensor y = waverec(wavedec(x1, w, m, level), w, m);
      Tensor cut(x1.shape());
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t i = 0; i < 41; ++i) cut[b * 41 + i] = y[b * y.dim(1) + i];
      near(cut, x1, tol, name + " 1-D");
      // The flattened round trip trims to the signal itself.
      const WaveletLayout L = wavelet_layout({19, 24}, w, m, 1, false);
      std::vector<float> c(static_cast<size_t>(2 * L.size));
      wavedec_flat(x2.data(), 2, L, w, c.data());
      Tensor back(x2.shape());
      waverec_flat(c.data(), 2, L, w, back.data());
      near(back, x2, tol, name + " 2-D");
    }
  }
}

TEST_CASE("wavedec and waverec match pywt, including odd lengths", "[dwt]") {
  const test::Fixture f("dwt_multilevel.txt");
  struct Case {
    const char* w;
    const char* mode;
    int level;
  };
  const Case cases[] = {{"db4", "symmetric", -1},   {"db4", "periodization", -1}, {"sym3", "smooth", 3},
                        {"bior2.4", "zero", 2},      {"haar", "reflect", 5},       {"coif1", "antireflect", 2},
                        {"db2", "periodic", 3},      {"rbio3.3", "antisymmetric", 2}, {"db4", "constant", 3},
                        {"db8", "symmetric", 2}};
  for (int i = 0; i < 10; ++i) {
    const Case& c = cases[i];
    const std::string key = "wavedec" + std::to_string(i);
    const Tensor& x = f[key + "_x"];
    const Wavelet& w = wavelet(c.w);
    const auto coeffs = wavedec(x, w, dwt_mode(c.mode), c.level);
    std::vector<Tensor> r;
    for (size_t j = 0; j < coeffs.size(); ++j) {
      near(coeffs[j], f[key + "_c" + std::to_string(j)], 1e-5, key + " c" + std::to_string(j), max_abs(x));
      r.push_back(f[key + "_r" + std::to_string(j)]);
    }
    REQUIRE_FALSE(f.has(key + "_c" + std::to_string(coeffs.size())));
    near(waverec(r, w, dwt_mode(c.mode)), f[key + "_rec"], 1e-5, key + " waverec");
  }
}

TEST_CASE("dwt2, wavedec2 and waverec2 match pywt", "[dwt]") {
  const test::Fixture f("dwt_2d.txt");
  const Tensor& x = f["dwt2_x"];
  for (const char* wn : {"db2", "bior2.2"})
    for (const char* mn : all_modes) {
      const std::string key = std::string("dwt2_") + ident(wn) + "_" + mn + "_";
      const Dwt2Coeffs c = dwt2(x, wavelet(wn), dwt_mode(mn));
      near(c.a, f[key + "a"], 1e-5, key + "a", max_abs(x));
      near(c.h, f[key + "h"], 1e-5, key + "h", max_abs(x));
      near(c.v, f[key + "v"], 1e-5, key + "v", max_abs(x));
      near(c.d, f[key + "d"], 1e-5, key + "d", max_abs(x));
      const Tensor y = idwt2(c, wavelet(wn), dwt_mode(mn));
      double err = 0.0;
      for (int64_t i = 0; i < 7; ++i)
        for (int64_t j = 0; j < 6; ++j) err = std::max(err, double(std::fabs(y[i * y.dim(1) + j] - x[i * 6 + j])));
      REQUIRE(err <= 1e-5 * max_abs(x));
    }
  struct Case {
    const char* w;
    const char* mode;
    int level;
  };
  const Case cases[] = {{"db2", "symmetric", 2}, {"bior1.3", "periodization", -1}, {"db4", "symmetric", 2},
                        {"db4", "periodization", 1}, {"sym4", "smooth", 2},        {"haar", "antireflect", 3}};
  for (int i = 0; i < 6; ++i) {
    const Case& c = cases[i];
    const std::string key = "wavedec2_" + std::to_string(i) + "_";
    const Tensor& xi = f[key + "x"];
    const Wavelet& w = wavelet(c.w);
    const Wavedec2Coeffs co = wavedec2(xi, w, dwt_mode(c.mode), c.level);
    near(co.a, f[key + "a"], 1e-5, key + "a", max_abs(xi));
    Wavedec2Coeffs r;
    r.a = f[key + "ra"];
    for (size_t j = 0; j < co.details.size(); ++j) {
      const std::string lj = std::to_string(j);
      near(co.details[j][0], f[key + "h" + lj], 1e-5, key + "h" + lj, max_abs(xi));
      near(co.details[j][1], f[key + "v" + lj], 1e-5, key + "v" + lj, max_abs(xi));
      near(co.details[j][2], f[key + "d" + lj], 1e-5, key + "d" + lj, max_abs(xi));
      r.details.push_back({f[key + "rh" + lj], f[key + "rv" + lj], f[key + "rd" + lj]});
    }
    REQUIRE_FALSE(f.has(key + "h" + std::to_string(co.details.size())));
    near(waverec2(r, w, dwt_mode(c.mode)), f[key + "rec"], 1e-5, key + "waverec2");
  }
}

TEST_CASE("swt, iswt, swt2 and iswt2 match pywt", "[dwt][swt]") {
  const test::Fixture f("dwt_swt.txt");
  struct Case {
    const char* w;
    int level;
  };
  const Case c1[] = {{"db2", 3}, {"haar", -1}, {"bior2.2", 2}, {"sym4", 1}, {"coif2", 2}};
  for (int i = 0; i < 5; ++i) {
    const std::string key = "swt" + std::to_string(i);
    const Tensor& x = f[key + "_x"];
    const Wavelet& w = wavelet(c1[i].w);
    const auto c = swt(x, w, c1[i].level);
    std::vector<Tensor> r;
    for (size_t j = 0; j < c.size(); ++j) {
      near(c[j], f[key + "_c" + std::to_string(j)], 1e-5, key + " c" + std::to_string(j), max_abs(x));
      r.push_back(f[key + "_r" + std::to_string(j)]);
    }
    REQUIRE_FALSE(f.has(key + "_c" + std::to_string(c.size())));
    near(iswt(c, w), x, 1e-5, key + " reconstruction");
    near(iswt(r, w), f[key + "_rec"], 1e-5, key + " iswt");
  }
  const Case c2[] = {{"db2", 2}, {"haar", 3}, {"bior1.3", 1}};
  for (int i = 0; i < 3; ++i) {
    const std::string key = "swt2_" + std::to_string(i) + "_";
    const Tensor& x = f[key + "x"];
    const Wavelet& w = wavelet(c2[i].w);
    const Wavedec2Coeffs c = swt2(x, w, c2[i].level);
    near(c.a, f[key + "a"], 1e-5, key + "a", max_abs(x));
    Wavedec2Coeffs r;
    r.a = f[key + "ra"];
    for (size_t j = 0; j < c.details.size(); ++j) {
      const std::string lj = std::to_string(j);
      near(c.details[j][0], f[key + "h" + lj], 1e-5, key + "h" + lj, max_abs(x));
      near(c.details[j][1], f[key + "v" + lj], 1e-5, key + "v" + lj, max_abs(x));
      near(c.details[j][2], f[key + "d" + lj], 1e-5, key + "d" + lj, max_abs(x));
      r.details.push_back({f[key + "rh" + lj], f[key + "rv" + lj], f[key + "rd" + lj]});
    }
    near(iswt2(c, w), x, 1e-5, key + "reconstruction");
    near(iswt2(r, w), f[key + "rec"], 1e-5, key + "iswt2");
  }
}

TEST_CASE("swt length and level restrictions as PyWavelets", "[dwt][swt]") {
  const Wavelet& w = wavelet("db1");
  std::string m = message_of<ValueError>([&] { swt(Tensor(Shape{7}), w, 1); });
  CHECK(contains(m, "swt: signal length 7 must be even"));
  m = message_of<ValueError>([&] { swt(Tensor(Shape{6}), w, 2); });
  CHECK(contains(m, "level 2 too high"));
  CHECK(contains(m, "maximum"));
  CHECK(contains(m, " 1 "));
  m = message_of<ValueError>([&] { swt(Tensor(Shape{8}), w, 0); });
  CHECK(contains(m, "at least 1"));
  CHECK_THROWS_AS(swt2(Tensor(Shape{6, 8}), w, 2), ValueError);
  CHECK_THROWS_AS(swt2(Tensor(Shape{8, 7}), w, 1), ValueError);
  CHECK(swt(Tensor(Shape{3, 12}), w).size() == 3);  // default level = swt_max_level(12) = 2
  CHECK_THROWS_AS(iswt({Tensor(Shape{8}), Tensor(Shape{6})}, w), ShapeError);
}

TEST_CASE("waverec_flat_adjoint is the exact transpose of waverec_flat", "[dwt][adjoint]") {
  struct Case {
    std::vector<int64_t> input;
    bool stationary;
  };
  const Case shapes[] = {{{13}, false}, {{16}, false}, {{3}, false},     {{9, 6}, false},
                         {{4, 11}, false}, {{16}, true}, {{8, 12}, true}};
  uint64_t seed = 100;
  for (const char* wn : {"db4", "bior3.5", "haar", "rbio2.2", "sym3"})
    for (const Case& c : shapes)
      for (const char* mn : all_modes) {
        if (c.stationary && std::string(mn) != "periodization") continue;
        const Wavelet& w = wavelet(wn);
        const DwtMode mode = dwt_mode(mn);
        const int level = c.stationary ? -1 : 2;
        const WaveletLayout L = wavelet_layout(c.input, w, mode, level, c.stationary);
        INFO(wn << " " << mn << " input " << c.input[0] << (c.input.size() > 1 ? "x" + std::to_string(c.input[1]) : "")
                << (c.stationary ? " stationary" : "") << " level " << L.level);
        const int64_t B = 3, n = L.input_size();
        const Tensor s = randn({B, L.size}, ++seed);
        const Tensor g = randn({B, n}, ++seed);
        std::vector<float> As(static_cast<size_t>(B * n)), Atg(static_cast<size_t>(B * L.size));
        waverec_flat(s.data(), B, L, w, As.data());
        waverec_flat_adjoint(g.data(), B, L, w, Atg.data());
        const double lhs = dot(As, g.to_vector()), rhs = dot(s.to_vector(), Atg);
        const double scale = std::sqrt(dot(As, As) * dot(g.to_vector(), g.to_vector())) +
                             std::sqrt(dot(s.to_vector(), s.to_vector()) * dot(Atg, Atg));
        INFO("<As,g> = " << lhs << "  <s,Atg> = " << rhs);
        REQUIRE(std::fabs(lhs - rhs) <= 1e-5 * scale);
        // Orthogonal wavelet + periodization (even sizes): the adjoint is the forward transform.
        if (std::string(wn) == "db4" && mode == DwtMode::Periodization && !c.stationary && c.input[0] % 4 == 0 &&
            c.input.size() == 1) {
          std::vector<float> fwd(static_cast<size_t>(B * L.size));
          wavedec_flat(g.data(), B, L, w, fwd.data());
          double err = 0.0;
          for (size_t i = 0; i < fwd.size(); ++i) err = std::max(err, double(std::fabs(fwd[i] - Atg[i])));
          REQUIRE(err < 1e-5);
        }
      }
}

TEST_CASE("wavelet layouts: band order, offsets and sizes", "[dwt]") {
  const WaveletLayout L = wavelet_layout({13, 20}, wavelet("db2"), DwtMode::Symmetric, 2, false);
  REQUIRE(L.bands.size() == 7);
  const char* names[] = {"cA_2", "cH_2", "cV_2", "cD_2", "cH_1", "cV_1", "cD_1"};
  int64_t off = 0;
  for (size_t i = 0; i < 7; ++i) {
    CHECK(L.bands[i].name == names[i]);
    CHECK(L.bands[i].offset == off);
    off += L.bands[i].size;
  }
  CHECK(off == L.size);
  // pywt.wavedec2(np.zeros((13, 20)), 'db2', level=2): level 1 is 8x11, level 2 5x7.
  CHECK(L.bands[0].shape == std::vector<int64_t>{5, 7});
  CHECK(L.bands[4].shape == std::vector<int64_t>{8, 11});
  const WaveletLayout d = wavelet_layout({28}, wavelet("db4"), DwtMode::Symmetric, -1, false);
  CHECK(d.level == 2);
  CHECK(d.bands.size() == 3);
  CHECK(d.bands[1].name == "cD_2");
  const WaveletLayout s = wavelet_layout({8, 12}, wavelet("haar"), DwtMode::Symmetric, -1, true);
  CHECK(s.level == 2);
  CHECK(s.size == 7 * 96);
  // Levels above the maximum are allowed (PyWavelets warns) and level 0 keeps the signal.
  CHECK(wavelet_layout({20}, wavelet("db4"), DwtMode::Symmetric, 3, false).level == 3);
  CHECK(wavelet_layout({20}, wavelet("db4"), DwtMode::Symmetric, 0, false).size == 20);
}

TEST_CASE("batched transforms equal per-signal transforms (threads split the batch)", "[dwt]") {
  const Tensor x = randn({3, 2, 100, 90}, 9);
  const Wavelet& w = wavelet("db4");
  const Wavedec2Coeffs all = wavedec2(x, w, DwtMode::Symmetric, 3);
  for (int64_t i = 0; i < 6; ++i) {
    Tensor one({100, 90});
    std::copy(x.data() + i * 9000, x.data() + (i + 1) * 9000, one.data());
    const Wavedec2Coeffs c = wavedec2(one, w, DwtMode::Symmetric, 3);
    int64_t mismatches = 0;
    for (size_t lev = 0; lev < 3; ++lev)
      for (int o = 0; o < 3; ++o) {
        const int64_t n = c.details[lev][o].numel();
        for (int64_t j = 0; j < n; ++j) mismatches += c.details[lev][o][j] != all.details[lev][o][i * n + j];
      }
    const int64_t n = c.a.numel();
    for (int64_t j = 0; j < n; ++j) mismatches += c.a[j] != all.a[i * n + j];
    REQUIRE(mismatches == 0);
  }
  const Tensor back = waverec2(all, w, DwtMode::Symmetric);
  REQUIRE(back.shape() == Shape({3, 2, 100, 90}));
  near(back, x, 1e-5, "batched round trip");
  // 1-D batch and the adjoint through the same split.
  const Tensor s = randn({64, 300}, 10);
  const WaveletLayout L = wavelet_layout({300}, w, DwtMode::Smooth, 4, false);
  std::vector<float> c(static_cast<size_t>(64 * L.size)), c1(static_cast<size_t>(L.size));
  waverec_flat_adjoint(s.data(), 64, L, w, c.data());
  waverec_flat_adjoint(s.data() + 5 * 300, 1, L, w, c1.data());
  CHECK(std::equal(c1.begin(), c1.end(), c.begin() + 5 * L.size));
}

TEST_CASE("a single large image split by rows across threads equals the serial transform", "[dwt]") {
  // Passes over one big image (work > 1e6) split its rows and columns over
  // threads, a path the small fixtures never reach; it must not change a bit.
  const Tensor x = randn({600, 530}, 12);
  struct Threads {
    explicit Threads(int n) { set_num_threads(n); }
    ~Threads() { set_num_threads(0); }
  };
  for (const char* wn : {"db4", "bior3.5"})
    for (DwtMode mode : {DwtMode::Symmetric, DwtMode::Periodization, DwtMode::Smooth}) {
      INFO(wn << " " << dwt_mode_name(mode));
      const Wavelet& w = wavelet(wn);
      const WaveletLayout L = wavelet_layout({600, 530}, w, mode, 3, false);
      std::vector<float> c_serial(static_cast<size_t>(L.size)), c_split(c_serial.size());
      std::vector<float> y_serial(static_cast<size_t>(x.numel())), y_split(y_serial.size());
      std::vector<float> a_serial(c_serial.size()), a_split(c_serial.size());
      {
        const Threads one(1);
        wavedec_flat(x.data(), 1, L, w, c_serial.data());
        waverec_flat(c_serial.data(), 1, L, w, y_serial.data());
        waverec_flat_adjoint(x.data(), 1, L, w, a_serial.data());
      }
      {
        const Threads four(4);
        wavedec_flat(x.data(), 1, L, w, c_split.data());
        waverec_flat(c_serial.data(), 1, L, w, y_split.data());
        waverec_flat_adjoint(x.data(), 1, L, w, a_split.data());
      }
      CHECK(c_split == c_serial);
      CHECK(y_split == y_serial);
      CHECK(a_split == a_serial);
      near(Tensor(x.shape(), y_serial), x, 1e-5, "reconstruction");
      // The PyWavelets-shaped kernels take the same split.
      const Threads four(4);
      const Wavedec2Coeffs co = wavedec2(x, w, mode, 3);
      CHECK(std::equal(co.a.begin(), co.a.end(), c_serial.begin()));
    }
}
