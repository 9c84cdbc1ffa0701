// Frequency groupings (radial bands, physical bands) against NumPy labels
// made by tests/reference/make_grouping.py, and the band partition of
// bandpass.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/grouping.hpp"

using namespace trim;
using trim::test::Fixture;

// Throws `type` with a message starting with `prefix`.
#define REQUIRE_THROWS_PREFIX(expr, type, prefix)                   \
  do {                                                              \
    REQUIRE_THROWS_AS(expr, type);                                  \
    REQUIRE_THROWS_WITH(expr, Catch::Matchers::StartsWith(prefix)); \
  } while (0)

namespace {

/// A transform with only a spec and a layout, so the label computations are
/// tested independently of the Fourier transform implementations.
class LayoutOnly : public Transform {
 public:
  LayoutOnly(std::string spec, Shape in, Shape coef)
      : Transform(std::move(in), std::move(coef)), spec_(std::move(spec)) {}
  std::string spec() const override { return spec_; }
  int axes() const override { return spec_[spec_.find_first_of("12")] - '0'; }
  Tensor forward(const Tensor&) const override { throw Error("not used"); }
  Tensor inverse(const Tensor&) const override { throw Error("not used"); }
  std::shared_ptr<const Op> inverse_op() const override { return nullptr; }

 private:
  std::string spec_;
};

/// The layout a Fourier transform of `kind` has on inputs of shape `in`.
LayoutOnly fourier(const std::string& kind, const Shape& in) {
  Shape coef;
  for (int64_t d : in) coef.push_back(d);
  if (kind[0] == 'r') coef[coef.rank() - 1] = in[in.rank() - 1] / 2 + 1;
  coef.push_back(2);
  return LayoutOnly(kind, in, coef);
}

/// Labels over the frequency bins of one channel (skipping the im entries).
std::vector<int32_t> per_bin(const Grouping& g, int64_t bins, int64_t channel = 0) {
  std::vector<int32_t> out;
  for (int64_t i = 0; i < bins; ++i) out.push_back(g.labels[static_cast<size_t>(2 * (channel * bins + i))]);
  return out;
}

void require_labels(const Grouping& g, const Tensor& expected, int64_t channels = 1) {
  const int64_t bins = expected.numel();
  REQUIRE(static_cast<int64_t>(g.labels.size()) == 2 * bins * channels);
  REQUIRE(g.coefficient_shape.numel() == 2 * bins * channels);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < bins; ++i) {
      const size_t k = static_cast<size_t>(2 * (c * bins + i));
      INFO("channel " << c << " bin " << i);
      REQUIRE(g.labels[k] == static_cast<int32_t>(expected[i]));
      REQUIRE(g.labels[k + 1] == g.labels[k]);  // re and im share the label
    }
}

const std::vector<std::string> kSizes = {"8x8", "7x9", "8", "9"};

Shape parse_dims(const std::string& tag) {
  Shape s;
  size_t at = 0;
  while (at < tag.size()) {
    const size_t x = tag.find('x', at);
    s.push_back(std::stoll(tag.substr(at, x == std::string::npos ? std::string::npos : x - at)));
    at = x == std::string::npos ? tag.size() : x + 1;
  }
  return s;
}

}  // namespace

TEST_CASE("radial_bands match NumPy fftfreq labels", "[grouping]") {
  Fixture fx("grouping.txt");
  for (const auto& tag : kSizes) {
    const Shape dims = parse_dims(tag);
    const std::string d = std::to_string(dims.rank());
    for (int nb : {1, 3, 4, 5}) {
      for (bool half : {false, true}) {
        INFO(tag << " n_bands " << nb << (half ? " rfft" : " fft"));
        const auto t = fourier((half ? "rfft" : "fft") + d, dims);
        const Grouping g = radial_bands(t, nb);
        require_labels(g, fx[std::string(half ? "radial_rfft_" : "radial_fft_") + tag + "_b" + std::to_string(nb)]);
        REQUIRE(g.size() == nb);
        REQUIRE(g.centers.size() == static_cast<size_t>(nb));
        REQUIRE(g.units == "normalised radius");
        REQUIRE(g.coefficient_shape == t.coefficient_shape());
      }
    }
  }
}

TEST_CASE("radial_bands repeat over channels, names and centres", "[grouping]") {
  Fixture fx("grouping.txt");
  const auto t = fourier("rfft2:ortho", {3, 7, 9});
  const Grouping g = radial_bands(t, 4);
  require_labels(g, fx["radial_rfft_7x9_b4"], 3);
  const double w = std::sqrt(2.0) / 4;
  REQUIRE(g.names[0] == "0.00-0.35");
  REQUIRE(g.names[3] == "1.06-1.41");
  for (int b = 0; b < 4; ++b) REQUIRE(g.centers[static_cast<size_t>(b)] == Approx((b + 0.5) * w));

  const auto t1 = fourier("fft1", {2, 8});
  const Grouping g1 = radial_bands(t1, 4);
  require_labels(g1, fx["radial_fft_8_b4"], 2);
  REQUIRE(g1.names[1] == "0.25-0.50");
  REQUIRE(g1.centers[1] == Approx(0.375));
}

TEST_CASE("radial_bands partition the coefficients; half spectrum agrees with the full one", "[grouping]") {
  for (const auto& tag : kSizes) {
    const Shape dims = parse_dims(tag);
    const std::string d = std::to_string(dims.rank());
    for (int nb : {1, 2, 6, 10}) {
      INFO(tag << " n_bands " << nb);
      const auto full = fourier("fft" + d, dims), half = fourier("rfft" + d, dims);
      const Grouping gf = radial_bands(full, nb), gh = radial_bands(half, nb);
      for (const Grouping* g : {&gf, &gh}) {
        // exactly one band per coefficient: the masks sum to one everywhere
        Tensor total(g->coefficient_shape);
        for (int b = 0; b < nb; ++b) {
          const Tensor m = g->mask(b);
          REQUIRE(m.shape() == g->coefficient_shape);
          for (int64_t i = 0; i < m.numel(); ++i) total[i] += m[i];
        }
        for (int64_t i = 0; i < total.numel(); ++i) REQUIRE(total[i] == 1.0f);
      }
      // half-spectrum bin (..., k) is full-spectrum bin (..., k) for k <= n/2
      const int64_t n_last = dims[dims.rank() - 1], h = n_last / 2 + 1;
      const int64_t rows = dims.rank() == 2 ? dims[0] : 1;
      const auto lf = per_bin(gf, rows * n_last), lh = per_bin(gh, rows * h);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < h; ++k) REQUIRE(lh[static_cast<size_t>(r * h + k)] == lf[static_cast<size_t>(r * n_last + k)]);
    }
  }
}

TEST_CASE("radial_band selects one annulus", "[grouping]") {
  Fixture fx("grouping.txt");
  for (const auto& tag : kSizes) {
    INFO(tag);
    const Shape dims = parse_dims(tag);
    const auto t = fourier("fft" + std::to_string(dims.rank()), dims);
    const Grouping g = radial_band(t, 0.5, 0.5);  // full width: [0.25, 0.75)
    require_labels(g, fx["band_" + tag]);
    REQUIRE(g.size() == 1);
    REQUIRE(g.centers[0] == 0.5);
    REQUIRE(g.names[0] == "0.25-0.75");
  }
}

TEST_CASE("physical_bands in Hz and multipoles match NumPy", "[grouping]") {
  Fixture fx("grouping.txt");
  const Tensor ell = fx["ell_edges"], hz = fx["hz_edges"];
  const std::vector<double> ell_edges(ell.begin(), ell.end()), hz_edges(hz.begin(), hz.end());

  const Grouping gl = physical_bands(fourier("fft2", {7, 9}), ell_edges, 0.5, "multipole l");
  require_labels(gl, fx["ell_fft_7x9"]);
  REQUIRE(gl.units == "multipole l");
  REQUIRE(gl.size() == 3);
  REQUIRE(gl.names[0] == "1000-5000");
  REQUIRE(gl.centers[2] == 15000.0);
  require_labels(physical_bands(fourier("rfft2", {7, 9}), ell_edges, 0.5, "multipole l"), fx["ell_rfft_7x9"]);

  const Grouping gh = physical_bands(fourier("rfft1", {16}), hz_edges, 0.01, "Hz");
  require_labels(gh, fx["hz_rfft_16"]);
  REQUIRE(gh.units == "Hz");
  REQUIRE(gh.names[2] == "20-50");
  require_labels(physical_bands(fourier("fft1", {16}), hz_edges, 0.01, "Hz"), fx["hz_fft_16"]);
}

TEST_CASE("grouping errors", "[grouping]") {
  const auto t = fourier("fft2", {8, 8});
  REQUIRE_THROWS_PREFIX(radial_bands(t, 0), ValueError, ("radial_bands: n_bands 0"));
  REQUIRE_THROWS_PREFIX(radial_band(t, 0.5, 0.0), ValueError, ("radial_band: width"));
  REQUIRE_THROWS_PREFIX(radial_band(t, 0.5, -1.0), ValueError, ("radial_band: width"));
  REQUIRE_THROWS_PREFIX(physical_bands(t, {0.0, 2.0, 1.0}, 1.0, "Hz"), ValueError,
                         ("physical_bands: edges must be strictly ascending"));
  REQUIRE_THROWS_PREFIX(physical_bands(t, {1.0, 1.0}, 1.0, "Hz"), ValueError, ("physical_bands: edges"));
  REQUIRE_THROWS_PREFIX(physical_bands(t, {1.0}, 1.0, "Hz"), ValueError, ("physical_bands: 1 edges"));
  REQUIRE_THROWS_PREFIX(physical_bands(t, {0.0, 1.0}, 0.0, "Hz"), ValueError, ("physical_bands: spacing"));

  for (const char* kind : {"identity", "dct2", "dct1:ortho"}) {
    INFO(kind);
    const LayoutOnly other(kind, {8, 8}, {8, 8});
    REQUIRE_THROWS_PREFIX(radial_bands(other, 4), ValueError, ("radial_bands: transform '"));
    REQUIRE_THROWS_AS(radial_band(other, 0.5, 0.1), ValueError);
    REQUIRE_THROWS_AS(physical_bands(other, {0.0, 1.0}, 1.0, "Hz"), ValueError);
  }
  const Grouping g = radial_bands(t, 3);
  REQUIRE_THROWS_AS(g.mask(3), ValueError);
  REQUIRE_THROWS_AS(g.mask(-1), ValueError);
}

TEST_CASE("bandpass parts of a band partition sum to the input", "[grouping]") {
  struct Case {
    std::string spec;
    Shape in;
    int bands;
  };
  const std::vector<Case> cases = {{"fft2", {1, 8, 8}, 4},   {"rfft2", {1, 8, 8}, 4}, {"fft2:ortho", {2, 7, 9}, 5},
                                   {"rfft2", {7, 9}, 3},     {"fft1", {2, 16}, 4},    {"rfft1:forward", {9}, 3}};
  for (const auto& c : cases) {
    INFO(c.spec << " on " << c.in.str());
    const auto t = make_transform(c.spec, c.in);
    Shape batch{3};
    for (int64_t d : c.in) batch.push_back(d);
    const Tensor x = trim::test::randn(batch, 11);
    const Grouping g = radial_bands(*t, c.bands);
    Tensor sum(batch);
    double low_energy = 0;
    for (int b = 0; b < g.size(); ++b) {
      const Tensor part = bandpass(*t, x, g, b);
      REQUIRE(part.shape() == batch);
      for (int64_t i = 0; i < sum.numel(); ++i) {
        REQUIRE(std::isfinite(part[i]));
        sum[i] += part[i];
        if (b == 0) low_energy += double(part[i]) * part[i];
      }
    }
    trim::test::require_close(sum, x, 1e-5, 1.0, "sum of bands");
    REQUIRE(low_energy > 0);  // the bands are not trivially empty
  }
  // A single band is the identity; a band with no coefficient gives zero.
  const auto t = make_transform("rfft2", {8, 8});
  const Tensor x = trim::test::randn({2, 8, 8}, 3);
  trim::test::require_close(bandpass(*t, x, radial_bands(*t, 1), 0), x, 1e-5, 1.0);
  const Tensor none = bandpass(*t, x, radial_band(*t, 5.0, 0.1), 0);
  for (float v : none) REQUIRE(v == 0.0f);
  // the DC band of a constant image is the image
  const Tensor flat({1, 8, 8}, 2.5f);
  trim::test::require_close(bandpass(*t, flat, radial_band(*t, 0.0, 0.01), 0), flat, 1e-5, 1.0);

  REQUIRE_THROWS_PREFIX(bandpass(*t, trim::test::randn({2, 8, 7}, 1), radial_bands(*t, 2), 0), ShapeError,
                         ("bandpass: input [2,8,7]"));
  const auto other = make_transform("fft2", {8, 8});
  REQUIRE_THROWS_AS(bandpass(*t, x, radial_bands(*other, 2), 0), ShapeError);
  REQUIRE_THROWS_AS(bandpass(*t, x, radial_bands(*t, 2), 2), ValueError);
}

TEST_CASE("frequency_radii: the normalised radius of every coefficient, shared by re and im", "[grouping]") {
  // fft2 on 8x8: fftfreq(8) = [0, 1, 2, 3, -4, -3, -2, -1] / 8, max |f| = 4/8.
  const auto t = fourier("fft2", {2, 8, 8});  // two channels
  const std::vector<double> r = frequency_radii(t);
  REQUIRE(r.size() == static_cast<size_t>(t.coefficient_shape().numel()));
  auto at = [&](int64_t c, int64_t k, int64_t l, int part) { return r[static_cast<size_t>(((c * 8 + k) * 8 + l) * 2 + part)]; };
  auto f = [](int64_t k) { return (k < 4 ? k : k - 8) / 4.0; };
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t k = 0; k < 8; ++k)
      for (int64_t l = 0; l < 8; ++l) {
        CHECK(at(c, k, l, 0) == Approx(std::hypot(f(k), f(l))));
        CHECK(at(c, k, l, 1) == at(c, k, l, 0));
      }
  CHECK(at(0, 4, 4, 0) == Approx(std::sqrt(2.0)));
  // radial_bands puts each coefficient in the band its radius falls into
  // (radii within rounding of an edge may go either way).
  const Grouping g = radial_bands(t, 4);
  const double step = std::sqrt(2.0) / 4;
  for (size_t i = 0; i < r.size(); ++i) {
    const double band = r[i] / step;
    if (std::fabs(band - std::round(band)) > 1e-9) CHECK(g.labels[i] == std::min(3, static_cast<int>(band)));
  }
  REQUIRE_THROWS_AS(frequency_radii(LayoutOnly("dct2", {8, 8}, {8, 8})), ValueError);
}
