// Linear dictionaries (x ≈ s·D + mean) as TRIM transforms: the synthesis op,
// least-squares analysis, the .npy file format, component groupings and the
// `nmf:` / `pca:` / `dict:` spec strings.

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "inverse_op.hpp"
#include "families.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/op.hpp"
#include "trim/io/npy.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim {

namespace detail {

/// Everything the synthesis needs, in float, shared by a DictionaryTransform
/// and its inverse ops (which may outlive it).
struct DictionarySynthesis {
  MatrixRM D;               // [k, m]
  Eigen::RowVectorXf mean;  // [m]
  bool has_mean = false;
  int64_t k = 0, m = 0;
  Shape input_shape, coefficient_shape;  // one example
  std::string kind;

  /// y [R, m] = s [R, k]·D (+ mean).
  void synthesise(const Tensor& s, Tensor& y, bool bias) const {
    const int64_t rows = s.numel() / k;
    auto Y = y.as_matrix(rows, m);
    Y.noalias() = s.as_matrix(rows, k) * D;
    if (bias && has_mean) Y.rowwise() += mean;
  }
};

}  // namespace detail

namespace {

using Mat = MatrixXdRM;
using detail::DictionarySynthesis;

std::string dims(int64_t r, int64_t c) { return "[" + std::to_string(r) + "," + std::to_string(c) + "]"; }


/// The synthesis s ↦ s·D + mean as a graph op: Kind::Linear, the mean is
/// its bias, backward is the adjoint g ↦ g·Dᵀ.
class DictionaryInverse final : public detail::TransformInverseOp {
 public:
  explicit DictionaryInverse(std::shared_ptr<const DictionarySynthesis> d)
      : TransformInverseOp(d->coefficient_shape, d->input_shape), d_(std::move(d)) {}
  std::string type() const override { return "inverse_" + d_->kind; }
  void forward(const OpArgs& a, Tensor& y) const override { d_->synthesise(a.input(), y, true); }
  void forward_unbiased(const OpArgs& a, Tensor& y) const override { d_->synthesise(a.input(), y, false); }
  bool has_bias(const OpArgs&) const override { return d_->has_mean; }
  void add_bias(const OpArgs&, Tensor& y, float scale) const override {
    if (!d_->has_mean) return;
    const int64_t rows = y.numel() / d_->m;
    y.as_matrix(rows, d_->m).rowwise() += scale * d_->mean;
  }

 private:
  void add_adjoint(const Tensor& dy, Tensor& ds) const override {
    const int64_t rows = ds.numel() / d_->k;
    ds.as_matrix(rows, d_->k).noalias() += dy.as_matrix(rows, d_->m) * d_->D.transpose();
  }

  std::shared_ptr<const DictionarySynthesis> d_;
};

struct Layout {
  Shape coefficients;
  int axes = 0;
  int64_t channels = 1;
};

/// The fewest trailing axes of `input` whose sizes multiply to m.
Layout layout_for(int64_t m, int64_t k, const Shape& input, const std::string& where) {
  if (input.has_free_dim())
    throw ShapeError(where + ": input shape " + input.str() + " must be one example's concrete shape (no batch axis)");
  for (int64_t v : input)
    if (v < 1) throw ShapeError(where + ": input shape " + input.str() + " must have positive sizes");
  int64_t p = 1;
  for (int a = 1; a <= input.rank(); ++a) {
    p *= input[input.rank() - a];
    if (p == m) {
      Layout l;
      l.axes = a;
      for (int i = 0; i < input.rank() - a; ++i) {
        l.coefficients.push_back(input[i]);
        l.channels *= input[i];
      }
      l.coefficients.push_back(k);
      return l;
    }
    if (p > m) break;
  }
  throw ShapeError(where + ": no trailing axes of the input shape " + input.str() + " multiply to the dictionary's " +
                   std::to_string(m) + " features");
}

std::string default_spec(const LinearDictionary& d) { return d.kind() + ":<in memory>"; }

void check_finite_values(const Mat& A, const std::string& where, const char* what) {
  for (int64_t i = 0; i < A.size(); ++i)
    if (!std::isfinite(A.data()[i]))
      throw ValueError(where + ": " + what + " has a NaN or infinite value at flat index " + std::to_string(i));
}

}  // namespace

// ---- conversions ---------------------------------------------------------------------

MatrixXdRM to_matrix(const Tensor& t) {
  const int64_t rows = t.rank() >= 2 ? t.dim(0) : 1;
  const int64_t cols = t.rank() >= 2 ? t.shape().numel(1, t.rank()) : t.numel();
  Mat m(rows, cols);
  const float* p = t.data();
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = p[i];
  return m;
}

Tensor to_tensor(const MatrixXdRM& m, const Shape& shape) {
  const Shape s = shape.rank() == 0 ? Shape{m.rows(), m.cols()} : shape;
  if (s.numel() != m.size())
    throw ShapeError("to_tensor: matrix " + dims(m.rows(), m.cols()) + " does not fit shape " + s.str());
  Tensor t(s);
  float* p = t.data();
  for (int64_t i = 0; i < m.size(); ++i) p[i] = static_cast<float>(m.data()[i]);
  return t;
}

// ---- LinearDictionary -------------------------------------------------------------------

LinearDictionary::LinearDictionary(MatrixXdRM components, Eigen::RowVectorXd mean) {
  const std::string where = "linear dictionary";
  if (components.rows() < 1 || components.cols() < 1)
    throw ShapeError(where + ": components are " + dims(components.rows(), components.cols()) + ", expected [k,n_features]");
  check_finite_values(components, where, "components");
  if (mean.size() == 0) mean = Eigen::RowVectorXd::Zero(components.cols());
  // The minimum-norm least-squares codes: s = (x − mean)·pinv(D). Eigen's
  // pseudoInverse solves against an identity of the decomposed matrix's row
  // count, so decompose whichever of D [k, m] and Dᵀ has fewer rows
  // (pinv(D) = pinv(Dᵀ)ᵀ).
  const bool tall = components.rows() > components.cols();
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod;
  if (tall)
    cod.compute(components.transpose());
  else
    cod.compute(components);
  auto E = std::make_shared<const Mat>(tall ? Mat(cod.pseudoInverse().transpose()) : Mat(cod.pseudoInverse()));  // [m, k]
  const bool exact = cod.rank() == components.cols();
  auto mu = std::make_shared<const Eigen::RowVectorXd>(mean);
  *this = LinearDictionary(std::move(components), std::move(mean),
                           [E, mu](const MatrixXdRM& X) -> MatrixXdRM { return (X.rowwise() - *mu) * *E; }, exact,
                           "dict");
}

LinearDictionary::LinearDictionary(MatrixXdRM components, Eigen::RowVectorXd mean, Encoder encoder, bool exact,
                                   std::string kind)
    : encoder_(std::move(encoder)), exact_(exact), kind_(std::move(kind)) {
  const std::string where = kind_ + " dictionary";
  if (components.rows() < 1 || components.cols() < 1)
    throw ShapeError(where + ": components are " + dims(components.rows(), components.cols()) + ", expected [k,n_features]");
  check_finite_values(components, where, "components");
  if (mean.size() == 0) mean = Eigen::RowVectorXd::Zero(components.cols());
  if (mean.size() != components.cols())
    throw ShapeError(where + ": mean has " + std::to_string(mean.size()) + " values, expected " +
                     std::to_string(components.cols()) + " (n_features)");
  check_finite_values(Mat(mean), where, "mean");
  if (!encoder_) throw ValueError(where + ": no encoder given");
  if (kind_.empty() || kind_.find(':') != std::string::npos)
    throw ValueError(where + ": kind must be a non-empty name without ':'");
  components_ = std::make_shared<const Mat>(std::move(components));
  mean_ = std::make_shared<const Eigen::RowVectorXd>(std::move(mean));
}

LinearDictionary LinearDictionary::with_encoder_matrix(MatrixXdRM components, Eigen::RowVectorXd mean, MatrixXdRM E) {
  if (E.rows() != components.cols() || E.cols() != components.rows())
    throw ShapeError("linear dictionary: encoder matrix is " + dims(E.rows(), E.cols()) + ", expected " +
                     dims(components.cols(), components.rows()) + " ([n_features,k])");
  if (mean.size() == 0) mean = Eigen::RowVectorXd::Zero(components.cols());
  auto Ep = std::make_shared<const Mat>(std::move(E));
  auto mu = std::make_shared<const Eigen::RowVectorXd>(mean);
  // Exact when E is a right inverse of D on all of R^m: E·D = I.
  const bool exact = components.rows() >= components.cols() &&
                     ((*Ep) * components - Mat::Identity(components.cols(), components.cols())).cwiseAbs().maxCoeff() <
                         1e-10 * std::max(1.0, components.cwiseAbs().maxCoeff() * Ep->cwiseAbs().maxCoeff());
  return LinearDictionary(std::move(components), std::move(mean),
                          [Ep, mu](const MatrixXdRM& X) -> MatrixXdRM { return (X.rowwise() - *mu) * *Ep; }, exact,
                          "dict");
}

MatrixXdRM LinearDictionary::encode(const MatrixXdRM& X) const {
  if (!components_) throw ValueError("linear dictionary: empty (default-constructed)");
  const std::string where = kind_ + " dictionary encode";
  if (X.cols() != n_features())
    throw ShapeError(where + ": X is " + dims(X.rows(), X.cols()) + ", expected [*," + std::to_string(n_features()) +
                     "] (n_features)");
  Mat S = encoder_(X);
  if (S.rows() != X.rows() || S.cols() != n_components())
    throw ShapeError(where + ": the encoder returned " + dims(S.rows(), S.cols()) + ", expected " +
                     dims(X.rows(), n_components()));
  return S;
}

MatrixXdRM LinearDictionary::decode(const MatrixXdRM& S) const {
  if (!components_) throw ValueError("linear dictionary: empty (default-constructed)");
  if (S.cols() != n_components())
    throw ShapeError(kind_ + " dictionary decode: codes are " + dims(S.rows(), S.cols()) + ", expected [*," +
                     std::to_string(n_components()) + "] (n_components)");
  Mat X = S * *components_;
  X.rowwise() += *mean_;
  return X;
}

MatrixXdRM LinearDictionary::residual(const MatrixXdRM& X) const { return X - decode(encode(X)); }

void LinearDictionary::save(const std::string& path) const {
  if (!components_) throw ValueError("linear dictionary save '" + path + "': empty dictionary");
  save_dictionary(path, *components_, *mean_);
}

// ---- files ----------------------------------------------------------------------------

void save_dictionary(const std::string& path, const MatrixXdRM& components, const Eigen::RowVectorXd& mean) {
  const int64_t k = components.rows(), m = components.cols();
  if (k < 1 || m < 1) throw ShapeError("save_dictionary '" + path + "': components are " + dims(k, m));
  if (mean.size() != 0 && mean.size() != m)
    throw ShapeError("save_dictionary '" + path + "': mean has " + std::to_string(mean.size()) + " values, expected " +
                     std::to_string(m));
  std::vector<double> values(static_cast<size_t>((k + 1) * m), 0.0);
  if (mean.size()) std::copy(mean.data(), mean.data() + m, values.begin());
  std::copy(components.data(), components.data() + k * m, values.begin() + m);
  io::write_npy(path, {k + 1, m}, values);
}

DictionaryFile read_dictionary(const std::string& path) {
  const io::NpyArray a = io::read_npy_array(path);
  std::string shape = "[";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? "," : "") + std::to_string(a.shape[i]);
  shape += "]";
  if (a.shape.size() != 2 || a.shape[0] < 2 || a.shape[1] < 1)
    throw IoError("dictionary file '" + path + "': expected a 2-D array [k+1,n_features] with k >= 1 (row 0 the mean), got " +
                  shape);
  const int64_t rows = a.shape[0], m = a.shape[1];
  for (size_t i = 0; i < a.values.size(); ++i)
    if (!std::isfinite(a.values[i]))
      throw IoError("dictionary file '" + path + "': NaN or infinite value at row " + std::to_string(int64_t(i) / m) +
                    ", column " + std::to_string(int64_t(i) % m));
  DictionaryFile f;
  f.mean = Eigen::Map<const Eigen::RowVectorXd>(a.values.data(), m);
  f.components = Eigen::Map<const Mat>(a.values.data() + m, rows - 1, m);
  return f;
}

LinearDictionary load_dictionary(const std::string& path, const std::string& kind) {
  if (kind == "nmf") return NMF::load(path).dictionary();
  return load_dictionary(read_dictionary(path), path, kind);
}

LinearDictionary load_dictionary(DictionaryFile f, const std::string& path, const std::string& kind) {
  if (kind == "nmf") return NMF::load(f, path).dictionary();
  if (kind != "dict" && kind != "pca")
    throw ValueError("load_dictionary '" + path + "': unknown kind '" + kind + "' (expected dict, pca or nmf)");
  if (kind == "dict") return LinearDictionary(std::move(f.components), std::move(f.mean));

  // PCA: orthogonal rows; the projection s_j = (x − mean)·d_j / ‖d_j‖²
  // undoes whitening folded into the row lengths.
  const Mat& D = f.components;
  const int64_t k = D.rows(), m = D.cols();
  // More rows than features cannot be orthogonal; saying so before the k×k
  // Gram matrix keeps an absurd k from allocating k² doubles.
  if (k > m)
    throw ValueError("pca dictionary '" + path + "': " + std::to_string(k) + " components of " + std::to_string(m) +
                     " features cannot be orthogonal (at most n_features); load it with dict: instead");
  const Eigen::MatrixXd G = D * D.transpose();
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j) {
      const double c = std::fabs(G(i, j)) / std::sqrt(G(i, i) * G(j, j));
      if (c > 1e-6)
        throw ValueError("pca dictionary '" + path + "': rows " + std::to_string(j + 1) + " and " + std::to_string(i + 1) +
                         " are not orthogonal (|cosine| " + std::to_string(c) + "); load it with dict: instead");
    }
  Mat E(m, k);
  bool all_nonzero = true;
  for (int64_t j = 0; j < k; ++j) {
    const double n2 = G(j, j);
    all_nonzero = all_nonzero && n2 > 0;
    E.col(j) = n2 > 0 ? Eigen::VectorXd(D.row(j).transpose() / n2) : Eigen::VectorXd::Zero(m);
  }
  auto Ep = std::make_shared<const Mat>(std::move(E));
  auto mu = std::make_shared<const Eigen::RowVectorXd>(f.mean);
  return LinearDictionary(std::move(f.components), std::move(f.mean),
                          [Ep, mu](const MatrixXdRM& X) -> MatrixXdRM { return (X.rowwise() - *mu) * *Ep; },
                          k == m && all_nonzero, "pca");
}

// ---- DictionaryTransform -----------------------------------------------------------------

DictionaryTransform::DictionaryTransform(LinearDictionary dictionary, const Shape& input_shape, std::string spec)
    : Transform(input_shape,
                layout_for(dictionary.n_features(), dictionary.n_components(), input_shape,
                           "transform '" + (spec.empty() ? default_spec(dictionary) : spec) + "'")
                    .coefficients),
      dictionary_(std::move(dictionary)),
      spec_(spec.empty() ? default_spec(dictionary_) : std::move(spec)) {
  const Layout l = layout_for(dictionary_.n_features(), dictionary_.n_components(), input_shape, "transform '" + spec_ + "'");
  axes_ = l.axes;
  channels_ = l.channels;
  auto d = std::make_shared<DictionarySynthesis>();
  d->D = dictionary_.components().cast<float>();
  d->mean = dictionary_.mean().cast<float>();
  d->has_mean = dictionary_.mean().cwiseAbs().maxCoeff() != 0.0;
  d->k = dictionary_.n_components();
  d->m = dictionary_.n_features();
  d->input_shape = input_shape;
  d->coefficient_shape = coefficient_shape();
  d->kind = dictionary_.kind();
  data_ = std::move(d);
}

Tensor DictionaryTransform::forward(const Tensor& x) const {
  detail::check_batched(x.shape(), input_shape(), "transform '" + spec_ + "' forward");
  const int64_t rows = x.dim(0) * channels_;
  const int64_t m = data_->m;
  Mat X(rows, m);
  for (int64_t i = 0; i < X.size(); ++i) X.data()[i] = x.data()[i];
  const Mat S = dictionary_.encode(X);
  return to_tensor(S, prepend({x.dim(0)}, coefficient_shape()));
}

Tensor DictionaryTransform::inverse(const Tensor& s) const {
  detail::check_batched(s.shape(), coefficient_shape(), "transform '" + spec_ + "' inverse");
  Tensor y(prepend({s.dim(0)}, input_shape()));
  data_->synthesise(s, y, true);
  return y;
}

std::shared_ptr<const Op> DictionaryTransform::inverse_op() const { return std::make_shared<DictionaryInverse>(data_); }

Tensor DictionaryTransform::residual(const Tensor& x) const { return transform_residual(*this, x); }

Tensor transform_residual(const Transform& t, const Tensor& x) {
  Tensor r = t.inverse(t.forward(x));
  const float* a = x.data();
  float* b = r.data();
  for (int64_t i = 0; i < r.numel(); ++i) b[i] = a[i] - b[i];
  return r;
}

// ---- groupings ----------------------------------------------------------------------------

namespace {
const DictionaryTransform& as_dictionary(const Transform& t, const char* who) {
  const auto* d = dynamic_cast<const DictionaryTransform*>(&t);
  if (!d)
    throw ValueError(std::string(who) + ": transform '" + t.spec() +
                     "' is not a dictionary transform (nmf, pca or dict)");
  return *d;
}

/// Components per channel of a transform with the Components layout
/// (dictionaries and learned decoders): the last coefficient axis.
int components_of(const Transform& t, const char* who) {
  if (t.coefficient_layout() != CoefficientLayout::Components) as_dictionary(t, who);  // throws its message
  return static_cast<int>(t.coefficient_shape().dim(-1));
}

Grouping labelled(const Transform& t, const std::vector<int32_t>& label_of_component) {
  Grouping g;
  g.coefficient_shape = t.coefficient_shape();
  g.units = "component";
  const int64_t n = g.coefficient_shape.numel();
  const int64_t k = static_cast<int64_t>(label_of_component.size());
  g.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) g.labels[size_t(i)] = label_of_component[size_t(i % k)];
  return g;
}
}  // namespace

Grouping component_groups(const Transform& t) {
  const int k = components_of(t, "component_groups");
  std::vector<int32_t> lab(static_cast<size_t>(k));
  for (int j = 0; j < k; ++j) lab[size_t(j)] = j;
  Grouping g = labelled(t, lab);
  for (int j = 0; j < k; ++j) {
    g.names.push_back("component " + std::to_string(j));
    g.centers.push_back(j);
  }
  return g;
}

Grouping component_groups(const Transform& t, const std::vector<std::vector<int>>& groups,
                          const std::vector<std::string>& names) {
  const int k = components_of(t, "component_groups");
  if (!names.empty() && names.size() != groups.size())
    throw ValueError("component_groups: " + std::to_string(names.size()) + " names for " + std::to_string(groups.size()) +
                     " groups");
  std::vector<int32_t> lab(static_cast<size_t>(k), -1);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    if (groups[gi].empty()) throw ValueError("component_groups: group " + std::to_string(gi) + " is empty");
    for (int c : groups[gi]) {
      if (c < 0 || c >= k)
        throw ValueError("component_groups: group " + std::to_string(gi) + " names component " + std::to_string(c) +
                         ", expected 0.." + std::to_string(k - 1));
      if (lab[size_t(c)] != -1)
        throw ValueError("component_groups: component " + std::to_string(c) + " is in groups " +
                         std::to_string(lab[size_t(c)]) + " and " + std::to_string(gi));
      lab[size_t(c)] = static_cast<int32_t>(gi);
    }
  }
  Grouping g = labelled(t, lab);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    std::string name = groups[gi].size() == 1 ? "component " : "components ";
    double sum = 0;
    for (size_t i = 0; i < groups[gi].size(); ++i) {
      name += (i ? "," : "") + std::to_string(groups[gi][i]);
      sum += groups[gi][i];
    }
    g.names.push_back(names.empty() ? name : names[gi]);
    g.centers.push_back(sum / double(groups[gi].size()));
  }
  return g;
}

// ---- spec strings --------------------------------------------------------------------------

namespace detail {

namespace {

/// `nmf:<file.npy>`, `pca:<file.npy>`, `dict:<file.npy>`.
std::shared_ptr<const Transform> make_from_spec(const std::string& spec, const Shape& input_shape) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string path = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (path.empty())
    throw ValueError("transform '" + spec + "': expected " + kind + ":<file.npy> (a dictionary saved as [k+1,n_features] float64)");
  DictionaryFile f = read_dictionary(path);
  // The layout is checked before the dictionary is built: building solves
  // with k×k or m×m matrices, which a file that does not fit the input (say
  // [30001, 1]) must not get to allocate.
  layout_for(f.components.cols(), f.components.rows(), input_shape, "transform '" + spec + "'");
  LinearDictionary d = load_dictionary(std::move(f), path, kind);
  return std::make_shared<DictionaryTransform>(std::move(d), input_shape, spec);
}

}  // namespace

void add_dictionary_families(std::vector<TransformFamily>& table) {
  for (const char* name : {"nmf", "pca", "dict"}) {
    TransformFamily f;
    f.name = name;
    f.syntax = ":DICT.npy";
    f.layout = CoefficientLayout::Components;
    f.reads_file = true;
    f.make = make_from_spec;
    // [..., k] codes of [..., n_features] signals: the file says n_features.
    f.signal_shape = [](const std::string& spec, const Shape& coef) -> std::optional<Shape> {
      require_coefficient_rank(coef, 1, spec);
      Shape s = coef;
      s[s.rank() - 1] = read_dictionary(spec.substr(spec.find(':') + 1)).components.cols();
      return s;
    };
    table.push_back(std::move(f));
  }
}

}  // namespace detail

}  // namespace trim
