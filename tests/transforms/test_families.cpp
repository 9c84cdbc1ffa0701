// What a transform answers about its coefficients (family, layout, complex
// pairs, groupings, figure kind), the family table behind make_transform,
// signal_shape_for, and mask_groups. The facts are checked against the
// coefficient shapes the transforms actually produce and against the layouts
// documented in transform.hpp, not against the table itself.
#include <memory>
#include <string>
#include <vector>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

using namespace trim;

namespace {

/// A transform that only has a spec, as one written outside the library.
class SpecOnly : public Transform {
 public:
  SpecOnly(std::string spec, Shape s) : Transform(s, s), spec_(std::move(spec)) {}
  std::string spec() const override { return spec_; }
  int axes() const override { return 1; }
  Tensor forward(const Tensor& x) const override { return x; }
  Tensor inverse(const Tensor& s) const override { return s; }
  std::shared_ptr<const Op> inverse_op() const override { return nullptr; }

 private:
  std::string spec_;
};

}  // namespace

TEST_CASE("every family of the table makes transforms that answer its name and layout", "[transform][families]") {
  const Shape in{2, 8, 6};
  std::vector<std::string> names;
  for (const TransformFamily& f : transform_families()) {
    names.push_back(f.name);
    REQUIRE(find_transform_family(f.name + ":x") == &f);
    if (f.reads_file) continue;  // dictionaries: below
    const std::string spec = f.layout == CoefficientLayout::Subbands || f.layout == CoefficientLayout::StationaryBands
                                 ? f.name + ":haar:1"
                             : f.layout == CoefficientLayout::TimeFrequency ? f.name + ":hamming:4:2"
                                                                            : f.name;
    const auto t = make_transform(spec, in);
    INFO(spec);
    CHECK(t->family() == f.name);
    CHECK(t->coefficient_layout() == f.layout);
    // (re, im) pairs exactly when the coefficients end in an axis of 2 the input does not have.
    const bool pairs = t->coefficient_shape().rank() >= in.rank() + 1 && t->coefficient_shape().dim(-1) == 2;
    CHECK(t->complex_pairs() == pairs);
  }
  CHECK(names == std::vector<std::string>{"identity", "fft1", "fft2", "fft3", "rfft1", "rfft2", "rfft3", "dct1",
                                          "dct2", "dct3", "dwt1", "dwt2", "dwt3", "swt1", "swt2", "nmf", "pca", "dict",
                                          "decoder", "stft"});
  CHECK(find_transform_family("fft4") == nullptr);
  REQUIRE_THROWS_WITH(make_transform("fft4:ortho", in),
                      Catch::Contains("'fft4'") && Catch::Contains("identity, fft1") && Catch::Contains("dict, decoder"));
}

TEST_CASE("layouts decide groupings and figures", "[transform][families]") {
  const Shape in{8, 8};
  CHECK(make_transform("rfft2", in)->coefficient_layout() == CoefficientLayout::HalfSpectrum);
  CHECK(make_transform("rfft2", in)->groupings() == std::vector<std::string>{"radial", "band", "bands", "ell"});
  CHECK(make_transform("rfft1", in)->groupings() == std::vector<std::string>{"radial", "band", "bands", "hz", "mel"});
  CHECK(make_transform("dct1", in)->groupings() == std::vector<std::string>{"hz", "mel"});
  CHECK(make_transform("fft1", in)->figure_kind() == FigureKind::Spectrum);
  CHECK(make_transform("dct2", in)->figure_kind() == FigureKind::Grid);
  CHECK(make_transform("dct2", in)->groupings().empty());
  CHECK(make_transform("dwt2:haar", in)->figure_kind() == FigureKind::Mosaic);
  CHECK(make_transform("swt1:haar:1", in)->figure_kind() == FigureKind::Bands);
  CHECK(make_transform("swt2:haar:1", in)->groupings() == std::vector<std::string>{"subbands", "levels"});
  CHECK(make_transform("identity", in)->figure_kind() == FigureKind::Grid);

  MatrixXdRM D = MatrixXdRM::Identity(3, 8);
  const DictionaryTransform d(LinearDictionary(D), in);
  CHECK(d.family() == "dict");
  CHECK(d.coefficient_layout() == CoefficientLayout::Components);
  CHECK(d.figure_kind() == FigureKind::Bars);
  CHECK(d.groupings() == std::vector<std::string>{"components"});
  CHECK_FALSE(d.complex_pairs());
}

TEST_CASE("a transform that only has a spec gets its family's answers", "[transform][families]") {
  const SpecOnly r("rfft1:ortho", {8});
  CHECK(r.family() == "rfft1");
  CHECK(r.coefficient_layout() == CoefficientLayout::HalfSpectrum);
  CHECK(r.complex_pairs());
  const SpecOnly other("mine:3", {8});
  CHECK(other.family() == "mine");
  CHECK(other.coefficient_layout() == CoefficientLayout::Other);
  CHECK(other.figure_kind() == FigureKind::Grid);
  CHECK(other.groupings().empty());
}

TEST_CASE("signal_shape_for recovers the example shape from coefficients", "[transform][families]") {
  for (const Shape& in : {Shape{3, 8, 6}, Shape{10}}) {
    for (const char* spec : {"identity", "fft1", "fft2", "rfft1", "rfft2", "dct1", "dct2:ortho", "swt1:haar:1",
                             "swt2:haar:1"}) {
      if (in.rank() < 2 && std::string(spec).find('2') != std::string::npos) continue;
      INFO(spec << " on " << in.str());
      const auto s = signal_shape_for(spec, make_transform(spec, in)->coefficient_shape());
      REQUIRE(s);
      CHECK(*s == in);  // even last axes: rfft's 2·(m − 1) is exact
    }
  }
  CHECK_FALSE(signal_shape_for("dwt2:db2", make_transform("dwt2:db2", {8, 8})->coefficient_shape()));
  CHECK(*signal_shape_for("rfft1", {4, 4, 2}) == Shape{4, 6});  // NumPy's irfft default length
  CHECK_THROWS_AS(signal_shape_for("fft2", {5}), ShapeError);
  CHECK_THROWS_AS(signal_shape_for("fft9", {5, 2}), ValueError);
}

TEST_CASE("mask_groups: labels per coefficient, or per complex coefficient shared by re and im",
          "[grouping][families]") {
  const auto t = make_transform("rfft1", {4});  // coefficients [3, 2]
  const Grouping g = mask_groups(*t, {3}, {1, -1, 0});
  CHECK(g.labels == std::vector<int32_t>{1, 1, -1, -1, 0, 0});
  CHECK(g.names == std::vector<std::string>{"group 0", "group 1"});
  CHECK(g.coefficient_shape == t->coefficient_shape());
  CHECK(mask_groups(*t, {3, 2}, {0, 1, 1, 1, 0, 0}).labels == std::vector<int32_t>{0, 1, 1, 1, 0, 0});
  REQUIRE_THROWS_WITH(mask_groups(*t, {4}, {0, 0, 0, 0}, "mask 'm.npy'"),
                      Catch::StartsWith("mask 'm.npy' has shape [4]") && Catch::Contains("shared by re and im"));
  CHECK_THROWS_WITH(mask_groups(*t, {3}, {0, 0.5, 0}), Catch::Contains("element [1] is 0.5"));
  CHECK_THROWS_WITH(mask_groups(*t, {3}, {-1, -1, -1}), Catch::Contains("every label is -1"));
  const auto real = make_transform("dct1", {4});  // no pairs: per-coefficient labels only
  CHECK_THROWS_AS(mask_groups(*real, {3}, {0, 0, 0}), ShapeError);
  CHECK(mask_groups(*real, {4}, {0, 1, 2, 3}).size() == 4);
}
