#pragma once
/// \file
/// Dictionaries as TRIM transforms: the coefficients of an example are the
/// codes `s` of a linear dictionary, `x ≈ s·D + mean` with D of shape
/// [k, n_features]. TRIM then attributes a prediction to the k learned parts
/// (NMF components, principal components, any user atoms).
///
/// - `NMF`: non-negative matrix factorisation X ≈ W·H with scikit-learn 1.2
///   semantics (solvers `cd` and `mu`, β-divergences, nndsvd inits, scaled
///   regularisation, its convergence tests), fitted in double precision.
///   D = H, mean 0; analysis = `NMF::transform` (non-negative codes, lossy).
/// - `PCA`: centred, optional whitening; D = components (× √variance when
///   whitening), analysis = projection. Exact when all components are kept.
/// - `LinearDictionary`: any D and mean; analysis by least squares
///   (minimum-norm pseudo-inverse) or by a supplied encoder.
///
/// `DictionaryTransform` wraps a `LinearDictionary` as a `trim::Transform`.
/// Its inverse op is the synthesis `s ↦ s·D + mean`: Kind::Linear with the
/// mean as its bias (unlike the Fourier transforms, which have none) and the
/// exact adjoint `g ↦ g·Dᵀ` as backward. Dictionaries are lossy, so
/// `residual(x) = x − T⁻¹(T(x))` supplies TRIM's residual term.
///
/// Shapes: a dictionary with m features acts on the fewest trailing axes of an
/// example whose sizes multiply to m; leading axes are channels coded
/// independently. An example [1, 28, 28] with m = 784 has coefficients [1, k];
/// [784] has [k].
///
/// File format (`save_dictionary`, used by the spec strings `nmf:<file.npy>`,
/// `pca:<file.npy>`, `dict:<file.npy>`): one float64 .npy array of shape
/// [k + 1, n_features]; row 0 is the mean, rows 1..k are the rows of D. An NMF
/// file has a zero mean row and non-negative atoms; a PCA file has orthogonal
/// rows (the whitening scale is folded into their lengths).

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/matrix.hpp"
#include "trim/transforms/nmf.hpp"
#include "trim/transforms/pca.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

namespace detail {
struct DictionarySynthesis;
}

// ---- any linear dictionary ----------------------------------------------------

/// x ≈ s·D + mean for a dictionary D [k, n_features].
class LinearDictionary {
 public:
  /// Analysis: rows of X [n, n_features] (mean not subtracted) → codes [n, k].
  using Encoder = std::function<MatrixXdRM(const MatrixXdRM& X)>;

  LinearDictionary() = default;
  /// Least-squares analysis s = (x − mean)·pinv(D): the codes minimising
  /// ‖x − mean − s·D‖, of minimum norm when D is rank deficient. An empty
  /// `mean` means zero. Exact when D has rank n_features.
  explicit LinearDictionary(MatrixXdRM components, Eigen::RowVectorXd mean = Eigen::RowVectorXd());
  /// Analysis by `encoder` (e.g. a sparse coder). `exact` declares that
  /// decode(encode(x)) == x for every x. `kind` ("dict", "nmf", "pca") names
  /// the family in specs and op types.
  LinearDictionary(MatrixXdRM components, Eigen::RowVectorXd mean, Encoder encoder, bool exact = false,
                   std::string kind = "dict");
  /// Linear analysis s = (x − mean)·E with E [n_features, k].
  static LinearDictionary with_encoder_matrix(MatrixXdRM components, Eigen::RowVectorXd mean, MatrixXdRM E);

  /// Codes [n, k] of X [n, n_features]; ShapeError on a feature mismatch.
  MatrixXdRM encode(const MatrixXdRM& X) const;
  /// S·D + mean.
  MatrixXdRM decode(const MatrixXdRM& S) const;
  /// X − decode(encode(X)).
  MatrixXdRM residual(const MatrixXdRM& X) const;

  /// D [k, n_features].
  const MatrixXdRM& components() const { return *components_; }
  const Eigen::RowVectorXd& mean() const { return *mean_; }
  int n_components() const { return components_ ? static_cast<int>(components_->rows()) : 0; }
  int n_features() const { return components_ ? static_cast<int>(components_->cols()) : 0; }
  bool exact() const { return exact_; }
  const std::string& kind() const { return kind_; }

  /// Writes the .npy dictionary file ([k + 1, n_features] float64).
  void save(const std::string& path) const;

 private:
  std::shared_ptr<const MatrixXdRM> components_;
  std::shared_ptr<const Eigen::RowVectorXd> mean_;
  Encoder encoder_;
  bool exact_ = false;
  std::string kind_ = "dict";
};

/// Writes `components` [k, m] and `mean` [m] (empty: zeros) as one float64
/// .npy array [k + 1, m], row 0 the mean.
void save_dictionary(const std::string& path, const MatrixXdRM& components,
                     const Eigen::RowVectorXd& mean = Eigen::RowVectorXd());
/// The contents of a dictionary file.
struct DictionaryFile {
  MatrixXdRM components;    ///< [k, n_features]
  Eigen::RowVectorXd mean;  ///< [n_features]
};
/// Reads a dictionary file; IoError naming the file when it cannot be read,
/// is not a 2-D array with at least 2 rows, or holds NaN / infinite values.
DictionaryFile read_dictionary(const std::string& path);
/// Reads a dictionary file as `kind`: "dict" (least-squares analysis), "pca"
/// (rows must be orthogonal; analysis = projection, which undoes whitening
/// folded into the row lengths), "nmf" (zero mean, non-negative rows;
/// analysis = NMF::transform with default options). IoError for unreadable
/// files, ValueError for contents that do not fit the kind.
LinearDictionary load_dictionary(const std::string& path, const std::string& kind = "dict");
/// The same on a file already read; `path` names it in messages.
LinearDictionary load_dictionary(DictionaryFile file, const std::string& path, const std::string& kind);

// ---- as a Transform ------------------------------------------------------------

/// A dictionary as a TRIM transform (see the file comment for shapes).
class DictionaryTransform final : public Transform {
 public:
  /// ShapeError when no trailing axes of `input_shape` multiply to the
  /// dictionary's n_features. `spec` is what `spec()` returns; empty means
  /// "<kind>:<in memory>" (not recreatable by make_transform until saved).
  DictionaryTransform(LinearDictionary dictionary, const Shape& input_shape, std::string spec = "");

  std::string spec() const override { return spec_; }
  /// "nmf", "pca" or "dict" (the dictionary's kind).
  std::string family() const override { return dictionary_.kind(); }
  CoefficientLayout coefficient_layout() const override { return CoefficientLayout::Components; }
  int axes() const override { return axes_; }
  /// Codes [N, channels..., k] (float); NMF rejects negative inputs.
  Tensor forward(const Tensor& x) const override;
  /// s·D + mean per channel, in float (the same arithmetic as the op).
  Tensor inverse(const Tensor& s) const override;
  /// Kind::Linear, bias = mean (has_bias false when the mean is zero),
  /// backward = g·Dᵀ.
  std::shared_ptr<const Op> inverse_op() const override;
  bool exact() const override { return dictionary_.exact(); }
  /// x − inverse(forward(x)): TRIM's residual r, so that inverse(forward(x)) + r == x.
  Tensor residual(const Tensor& x) const;

  const LinearDictionary& dictionary() const { return dictionary_; }
  int n_components() const { return dictionary_.n_components(); }

 private:
  LinearDictionary dictionary_;
  std::string spec_;
  int axes_ = 0;
  int64_t channels_ = 1;
  std::shared_ptr<const detail::DictionarySynthesis> data_;  // float D and mean, shared with the inverse op
};

/// x − T⁻¹(T(x)) for any transform (zero up to rounding for exact ones).
Tensor transform_residual(const Transform& t, const Tensor& x);

/// One group per component ("component 0", ... ; units "component", centre =
/// index). All channels of a component share its label. ValueError when `t`
/// is not a DictionaryTransform.
Grouping component_groups(const Transform& t);
/// User groups of component indices (each component in at most one group;
/// the rest get label −1). Names default to "components 0,2,5"; centres are
/// the mean index of each group.
Grouping component_groups(const Transform& t, const std::vector<std::vector<int>>& groups,
                          const std::vector<std::string>& names = {});

}  // namespace trim
