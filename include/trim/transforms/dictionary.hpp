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
#include <optional>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

/// Row-major double matrix: dictionaries are fitted in double (as
/// scikit-learn does); the graph op runs in float.
using MatrixXdRM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A tensor [n, d1, d2, ...] as an n × (d1·d2·...) double matrix (a rank-1
/// tensor is one row).
MatrixXdRM to_matrix(const Tensor& t);
/// A double matrix as a float tensor of `shape` (default [rows, cols]); the
/// element count must match.
Tensor to_tensor(const MatrixXdRM& m, const Shape& shape = Shape());

class LinearDictionary;
namespace detail {
struct DictionarySynthesis;
}

// ---- NMF ---------------------------------------------------------------------

enum class NmfSolver {
  Cd,  ///< coordinate descent (fast HALS), Frobenius only; scikit-learn's default
  Mu,  ///< multiplicative updates, any β
};

enum class NmfInit {
  Auto,      ///< nndsvda if k ≤ min(n_samples, n_features), else random
  Random,    ///< |N(0,1)|·√(mean(X)/k), drawn like scikit-learn (see `seed`)
  Nndsvd,    ///< non-negative double SVD (sparse)
  Nndsvda,   ///< nndsvd with zeros filled with mean(X)
  Nndsvdar,  ///< nndsvd with zeros filled with |mean(X)·N(0,1)/100|
  Custom,    ///< W₀, H₀ given to `fit_transform`
};

/// Parameters with scikit-learn's names and defaults.
struct NmfOptions {
  int n_components = 0;  ///< k; 0 means n_features (scikit-learn's None)
  NmfInit init = NmfInit::Auto;
  NmfSolver solver = NmfSolver::Cd;
  /// β of the divergence: 2 Frobenius, 1 generalised Kullback–Leibler,
  /// 0 Itakura–Saito, any other real for `mu`; see `nmf_beta_loss`.
  double beta_loss = 2.0;
  double tol = 1e-4;
  int max_iter = 200;
  double alpha_W = 0.0;
  std::optional<double> alpha_H;  ///< unset: scikit-learn's "same" (= alpha_W)
  double l1_ratio = 0.0;
  /// scikit-learn's random_state as an int (< 2^32): the random and nndsvdar
  /// starts and the probes of the nndsvd family's randomised SVD come from
  /// numpy.random.RandomState(seed)'s stream, reproduced bit for bit.
  uint64_t seed = 0;
  /// Not in scikit-learn: when > 0, a fit also stops as soon as the
  /// reconstruction error √(2·D_β) is ≤ this (checked every iteration for cd,
  /// every 10 for mu). For time-to-loss benchmarks.
  double target_error = 0.0;
};

/// "frobenius" → 2, "kullback-leibler" → 1, "itakura-saito" → 0, or a number
/// ("1.5"); ValueError otherwise.
double nmf_beta_loss(const std::string& name);
/// "cd" / "mu"; "random", "nndsvd", "nndsvda", "nndsvdar", "custom", "auto".
NmfSolver nmf_solver(const std::string& name);
NmfInit nmf_init(const std::string& name);

/// W₀ [n, k] and H₀ [k, m].
struct NmfFactors {
  MatrixXdRM W, H;
};

/// scikit-learn's `_initialize_nmf` (init ≠ Custom) with random_state =
/// seed. The nndsvd family uses scikit-learn's randomised SVD (k + 10 probes,
/// 7 or 4 power iterations) with the same random probes, so the start equals
/// scikit-learn's to rounding even where that SVD has not converged. One
/// deviation: a singular pair with ‖x₊‖‖y₊‖ = ‖x₋‖‖y₋‖ = 0 gives a zero
/// column (scikit-learn divides 0 by 0).
NmfFactors nmf_initialize(const MatrixXdRM& X, int n_components, NmfInit init, uint64_t seed = 0);

/// scikit-learn's `_beta_divergence`: ½‖X − WH‖² for β = 2; for other β only
/// entries with X > float32 eps count and WH is clamped to ≥ eps there.
/// With `square_root`, returns √(2·max(D, 0)) (the reconstruction error).
double beta_divergence(const MatrixXdRM& X, const MatrixXdRM& W, const MatrixXdRM& H, double beta,
                       bool square_root = false);

/// Non-negative matrix factorisation X ≈ W·H (X [n_samples, n_features]).
///
/// Objective (scikit-learn 1.2; n = n_samples, m = n_features):
/// ½‖X − WH‖²_β + α_W·l1·m‖W‖₁ + α_H·l1·n‖H‖₁ + ½α_W(1−l1)·m‖W‖²_F
/// + ½α_H(1−l1)·n‖H‖²_F. `cd` stops when the summed projected-gradient
/// violation of an iteration falls to `tol` × that of the first; `mu` checks
/// every 10 iterations whether the error dropped by less than `tol` × the
/// initial error. Same data, same start (init Custom), same options: the
/// iterates equal scikit-learn's to rounding.
struct DictionaryFile;

class NMF {
 public:
  explicit NMF(NmfOptions options = {});
  /// An NMF with given components H [k, m] (e.g. loaded from a file):
  /// `transform` and `inverse_transform` work without a fit.
  static NMF from_components(MatrixXdRM components, NmfOptions options = {});

  /// Fits X and returns W. Throws ValueError for negative, NaN or infinite
  /// values, an empty X, bad options, or k > min(n, m) with an nndsvd init.
  MatrixXdRM fit_transform(const MatrixXdRM& X);
  /// Fits X from the start W₀ [n, k], H₀ [k, m] (scikit-learn's
  /// init='custom'; k is taken from W₀/H₀).
  MatrixXdRM fit_transform(const MatrixXdRM& X, const MatrixXdRM& W0, const MatrixXdRM& H0);
  NMF& fit(const MatrixXdRM& X);

  /// Codes W ≥ 0 of new data with the components fixed (cd from W = 0, mu
  /// from W = √(mean(X)/k), the same tol / max_iter / regularisation).
  MatrixXdRM transform(const MatrixXdRM& X) const;
  /// W·H.
  MatrixXdRM inverse_transform(const MatrixXdRM& W) const;

  bool fitted() const { return components_.size() != 0; }
  /// H [k, n_features].
  const MatrixXdRM& components() const { return components_; }
  int n_components() const { return static_cast<int>(components_.rows()); }
  int n_features() const { return static_cast<int>(components_.cols()); }
  /// √(2·D_β(X, WH)) of the fit (scikit-learn's reconstruction_err_).
  double reconstruction_err() const { return reconstruction_err_; }
  /// Iterations the fit ran (scikit-learn's n_iter_).
  int n_iter() const { return n_iter_; }
  const NmfOptions& options() const { return options_; }

  /// D = H, mean 0, analysis = `transform` (on a copy of this model).
  LinearDictionary dictionary() const;
  /// Writes the .npy dictionary file (row 0 zeros, rows 1..k = H).
  void save(const std::string& path) const;
  /// Reads a file written by `save`; ValueError when its mean row is not zero
  /// or an atom has a negative entry. `options` drive `transform`.
  static NMF load(const std::string& path, NmfOptions options = {});
  /// The same checks on a file already read; `path` names it in messages.
  static NMF load(const DictionaryFile& file, const std::string& path, NmfOptions options = {});

 private:
  MatrixXdRM fit_impl(const MatrixXdRM& X, MatrixXdRM W, MatrixXdRM H);

  NmfOptions options_;
  MatrixXdRM components_;
  double reconstruction_err_ = 0.0;
  int n_iter_ = 0;
};

// ---- PCA ---------------------------------------------------------------------

struct PcaOptions {
  int n_components = 0;  ///< k; 0 means min(n_samples, n_features)
  /// Scale codes to unit variance (scikit-learn's whiten): transform divides
  /// by √explained_variance, inverse multiplies back. A component of zero
  /// variance gets code 0 (scikit-learn would divide by zero).
  bool whiten = false;
};

/// Principal component analysis by an exact SVD of the centred data
/// (scikit-learn's svd_solver='full', including its `svd_flip` sign rule:
/// the largest-magnitude entry of each left singular vector is positive).
class PCA {
 public:
  explicit PCA(PcaOptions options = {});
  /// Needs n_samples ≥ 2 and finite values.
  PCA& fit(const MatrixXdRM& X);
  MatrixXdRM fit_transform(const MatrixXdRM& X);
  /// (X − mean)·componentsᵀ, divided by √explained_variance when whitening.
  MatrixXdRM transform(const MatrixXdRM& X) const;
  /// S·D + mean with D = `synthesis()`; exact inverse of `transform` on the
  /// span of the components.
  MatrixXdRM inverse_transform(const MatrixXdRM& S) const;

  bool fitted() const { return components_.size() != 0; }
  /// Principal axes [k, n_features], orthonormal rows, by decreasing variance.
  const MatrixXdRM& components() const { return components_; }
  const Eigen::RowVectorXd& mean() const { return mean_; }
  /// S²/(n_samples − 1) of the kept components.
  const Eigen::VectorXd& explained_variance() const { return explained_variance_; }
  const Eigen::VectorXd& explained_variance_ratio() const { return explained_variance_ratio_; }
  const Eigen::VectorXd& singular_values() const { return singular_values_; }
  /// Mean variance of the dropped components (0 when all are kept).
  double noise_variance() const { return noise_variance_; }
  int n_components() const { return static_cast<int>(components_.rows()); }
  int n_features() const { return static_cast<int>(components_.cols()); }
  bool whiten() const { return options_.whiten; }

  /// The synthesis matrix: components, rows scaled by √explained_variance
  /// when whitening.
  MatrixXdRM synthesis() const;
  /// D = `synthesis()`, the mean, analysis = `transform`; exact when all
  /// min(n, m) ≥ n_features components are kept.
  LinearDictionary dictionary() const;
  /// Writes the .npy dictionary file (row 0 mean, rows 1..k = synthesis()).
  void save(const std::string& path) const;

 private:
  PcaOptions options_;
  MatrixXdRM components_;
  Eigen::RowVectorXd mean_;
  Eigen::VectorXd explained_variance_, explained_variance_ratio_, singular_values_;
  double noise_variance_ = 0.0;
};

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
