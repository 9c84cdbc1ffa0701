#pragma once
/// \file
/// Non-negative matrix factorisation with scikit-learn 1.2 semantics (see
/// `trim/transforms/dictionary.hpp` for its use as a TRIM transform, which
/// includes this header).

#include <cstdint>
#include <optional>
#include <string>

#include "trim/transforms/matrix.hpp"

namespace trim {

class LinearDictionary;
struct DictionaryFile;

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

}  // namespace trim
