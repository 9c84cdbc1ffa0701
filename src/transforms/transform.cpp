#include "trim/transforms/transform.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "fourier.hpp"
#include "inverse_op.hpp"
#include "families.hpp"
#include "trim/core/error.hpp"

namespace trim {

namespace {

/// y = x: the inverse of `identity` (Kind::Linear, no bias).
class IdentityOp final : public detail::TransformInverseOp {
 public:
  explicit IdentityOp(const Shape& shape) : TransformInverseOp(shape, shape) {}
  std::string type() const override { return "inverse_identity"; }
  void forward(const OpArgs& a, Tensor& y) const override {
    std::copy(a.input().begin(), a.input().end(), y.begin());
  }

 private:
  void add_adjoint(const Tensor& dy, Tensor& ds) const override { ds.as_vector() += dy.as_vector(); }
};

/// Coefficients = input.
class Identity final : public Transform {
 public:
  explicit Identity(const Shape& s) : Transform(s, s) {}
  std::string spec() const override { return "identity"; }
  std::string family() const override { return "identity"; }
  CoefficientLayout coefficient_layout() const override { return CoefficientLayout::Samples; }
  int axes() const override { return 0; }
  Tensor forward(const Tensor& x) const override {
    detail::check_batched(x.shape(), input_shape(), "transform 'identity' forward");
    return x;
  }
  Tensor inverse(const Tensor& s) const override {
    detail::check_batched(s.shape(), coefficient_shape(), "transform 'identity' inverse");
    return s;
  }
  std::shared_ptr<const Op> inverse_op() const override { return std::make_shared<IdentityOp>(input_shape()); }
};

std::shared_ptr<const Transform> make_identity(const std::string& spec, const Shape& input_shape) {
  const size_t colon = spec.find(':');
  if (colon != std::string::npos)
    throw ValueError("transform 'identity' takes no normalisation, got '" + spec.substr(colon + 1) + "' in '" + spec +
                     "'");
  return std::make_shared<Identity>(input_shape);
}

std::vector<TransformFamily> build_table() {
  std::vector<TransformFamily> table;
  TransformFamily id;
  id.name = "identity";
  id.layout = CoefficientLayout::Samples;
  id.make = make_identity;
  id.signal_shape = [](const std::string&, const Shape& coef) -> std::optional<Shape> { return coef; };
  table.push_back(std::move(id));
  detail::add_fourier_families(table);
  detail::add_wavelet_families(table);
  detail::add_dictionary_families(table);
  detail::add_decoder_families(table);
  detail::add_stft_family(table);
  return table;
}

/// "a, b or c" of the family names.
std::string family_list() {
  std::string s;
  const auto& table = transform_families();
  for (size_t i = 0; i < table.size(); ++i)
    s += (i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + table[i].name;
  return s;
}

}  // namespace

void detail::require_coefficient_rank(const Shape& coefficients, int rank, const std::string& spec) {
  if (coefficients.rank() < rank)
    throw ShapeError("coefficients of shape " + coefficients.str() + " have too few axes for '" + spec + "'");
}

std::string Transform::family() const {
  const std::string s = spec();
  return s.substr(0, s.find(':'));
}

CoefficientLayout Transform::coefficient_layout() const {
  const TransformFamily* f = find_transform_family(family());
  return f ? f->layout : CoefficientLayout::Other;
}

bool Transform::complex_pairs() const {
  const CoefficientLayout l = coefficient_layout();
  return l == CoefficientLayout::Spectrum || l == CoefficientLayout::HalfSpectrum ||
         l == CoefficientLayout::TimeFrequency;
}

std::vector<std::string> Transform::groupings() const {
  switch (coefficient_layout()) {
    case CoefficientLayout::Spectrum:
    case CoefficientLayout::HalfSpectrum:
      if (axes() == 1) return {"radial", "band", "bands", "hz", "mel"};
      if (axes() == 2) return {"radial", "band", "bands", "ell"};
      return {"radial", "band", "bands"};
    case CoefficientLayout::TimeFrequency: return {"tiles", "segments", "hz", "mel"};
    case CoefficientLayout::Subbands:
    case CoefficientLayout::StationaryBands: return {"subbands", "levels"};
    case CoefficientLayout::Components: return {"components"};
    case CoefficientLayout::Cosine:
      if (axes() == 1) return {"hz", "mel"};
      return {};
    case CoefficientLayout::Samples:
    case CoefficientLayout::Other: return {};
  }
  return {};
}

FigureKind Transform::figure_kind() const {
  switch (coefficient_layout()) {
    case CoefficientLayout::Spectrum:
    case CoefficientLayout::HalfSpectrum: return FigureKind::Spectrum;
    case CoefficientLayout::Subbands: return FigureKind::Mosaic;
    case CoefficientLayout::StationaryBands: return FigureKind::Bands;
    case CoefficientLayout::Components: return FigureKind::Bars;
    case CoefficientLayout::TimeFrequency: return FigureKind::Spectrogram;
    case CoefficientLayout::Samples:
    case CoefficientLayout::Cosine:
    case CoefficientLayout::Other: return FigureKind::Grid;
  }
  return FigureKind::Grid;
}

const std::vector<TransformFamily>& transform_families() {
  static const std::vector<TransformFamily> table = build_table();
  return table;
}

const TransformFamily* find_transform_family(const std::string& spec) {
  const std::string name = spec.substr(0, spec.find(':'));
  for (const TransformFamily& f : transform_families())
    if (f.name == name) return &f;
  return nullptr;
}

std::optional<Shape> signal_shape_for(const std::string& spec, const Shape& coefficients) {
  const TransformFamily* f = find_transform_family(spec);
  if (!f)
    throw ValueError("unknown transform '" + spec.substr(0, spec.find(':')) + "' in '" + spec + "' (expected " +
                     family_list() + ")");
  return f->signal_shape(spec, coefficients);
}

std::shared_ptr<const Transform> make_transform(const std::string& spec, const Shape& input_shape) {
  if (input_shape.has_free_dim())
    throw ShapeError("transform '" + spec + "': input shape " + input_shape.str() +
                     " must be one example's concrete shape (no batch axis)");
  const TransformFamily* f = find_transform_family(spec);
  if (!f)
    throw ValueError("unknown transform '" + spec.substr(0, spec.find(':')) + "' in '" + spec + "' (expected " +
                     family_list() + ")");
  return f->make(spec, input_shape);
}

NodeId Transform::add_inverse_nodes(Graph& g, NodeId coefficients, const std::string& name) const {
  return g.add(inverse_op(), {coefficients}, {}, name);
}

NodeId add_inverse(Graph& g, NodeId coefficients, const Transform& t, const std::string& name) {
  return t.add_inverse_nodes(g, coefficients, name);
}

}  // namespace trim
