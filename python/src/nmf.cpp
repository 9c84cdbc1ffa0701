// trim.NMF: non-negative matrix factorisation with scikit-learn's names,
// defaults and fit / transform / components_ semantics (the algorithm is
// scikit-learn 1.2's, in C++), for the `nmf:DICT.npy` transform.
#include "bindings.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::py {

namespace {

MatrixXdRM to_matrix2(pyb::handle obj, const std::string& what) {
  auto a = pyb::array_t<double, pyb::array::c_style | pyb::array::forcecast>::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw pyb::type_error(what + ": expected a 2-D array of numbers");
  }
  if (a.ndim() != 2)
    throw ValueError(what + ": expected a 2-D array [n_samples, n_features], got " + std::to_string(a.ndim()) +
                     " axes");
  return Eigen::Map<const MatrixXdRM>(a.data(), a.shape(0), a.shape(1));
}

/// X as NMF data: finite and non-negative (the CLI's check and message).
MatrixXdRM to_data(pyb::handle obj) {
  MatrixXdRM X = to_matrix2(obj, "X");
  if (X.rows() < 1 || X.cols() < 1) throw ValueError("X: expected at least one sample and one feature");
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j)) || X(i, j) < 0)
        throw ValueError("X: sample " + std::to_string(i) + ", feature " + std::to_string(j) + " is " +
                         std::to_string(X(i, j)) + " (NMF needs finite, non-negative data)");
  return X;
}

pyb::array matrix_array(const MatrixXdRM& m) { return to_array_f64(m.data(), {m.rows(), m.cols()}); }

NmfOptions make_options(pyb::object n_components, pyb::object init, const std::string& solver, pyb::object beta_loss,
                        double tol, int max_iter, pyb::object random_state, double alpha_W, pyb::object alpha_H,
                        double l1_ratio) {
  NmfOptions o;
  if (!n_components.is_none()) {
    const int k = n_components.cast<int>();
    if (k < 1) throw ValueError("n_components must be >= 1 (or None: all features), got " + std::to_string(k));
    o.n_components = k;
  }
  if (!init.is_none()) o.init = nmf_init(init.cast<std::string>());
  o.solver = nmf_solver(solver);
  if (pyb::isinstance<pyb::str>(beta_loss))
    o.beta_loss = nmf_beta_loss(beta_loss.cast<std::string>());
  else
    o.beta_loss = beta_loss.cast<double>();
  if (!(tol >= 0)) throw ValueError("tol must be >= 0");
  if (max_iter < 1) throw ValueError("max_iter must be >= 1, got " + std::to_string(max_iter));
  o.tol = tol;
  o.max_iter = max_iter;
  if (!random_state.is_none()) {
    const int64_t s = random_state.cast<int64_t>();
    if (s < 0 || s > 0xffffffffLL) throw ValueError("random_state must be in [0, 2**32 - 1], got " + std::to_string(s));
    o.seed = static_cast<uint64_t>(s);
  }
  o.alpha_W = alpha_W;
  if (pyb::isinstance<pyb::str>(alpha_H)) {
    if (alpha_H.cast<std::string>() != "same") throw ValueError("alpha_H: expected a number or 'same'");
  } else {
    o.alpha_H = alpha_H.cast<double>();
  }
  o.l1_ratio = l1_ratio;
  return o;
}

const NMF& fitted(const NMF& n, const char* attribute) {
  if (!n.fitted())
    throw pyb::attribute_error(std::string("This NMF instance is not fitted yet: call fit() before using ") +
                               attribute);
  return n;
}

}  // namespace

void register_nmf(pyb::module_& m) {
  pyb::class_<NMF>(m, "NMF", R"(Non-negative matrix factorisation X ~ W H, as scikit-learn's NMF.

The same algorithm, names and defaults as scikit-learn 1.2
(``sklearn.decomposition.NMF``); given the same start the iterates agree to
rounding. ``random_state`` None means seed 0 (trim is deterministic).

Parameters
----------
n_components : int or None
    k; None: all features.
init : None, 'random', 'nndsvd', 'nndsvda', 'nndsvdar'
    None: 'nndsvda' if k <= min(n_samples, n_features), else 'random'.
    ('custom': pass W and H to fit_transform.)
solver : 'cd' or 'mu'
beta_loss : 'frobenius', 'kullback-leibler', 'itakura-saito' or float
tol, max_iter, random_state, alpha_W, alpha_H, l1_ratio
    As scikit-learn.

Attributes (after fit)
----------------------
components_ : ndarray (k, n_features)
reconstruction_err_ : float
n_iter_ : int
n_components_ : int
n_features_in_ : int

``save(path)`` writes the dictionary file that ``Transform('nmf:PATH', shape)``
and ``trim attribute --transform nmf:PATH`` read (as ``trim nmf``).)")
      .def(pyb::init(
               [](pyb::object n_components, pyb::object init, const std::string& solver, pyb::object beta_loss,
                  double tol, int max_iter, pyb::object random_state, double alpha_W, pyb::object alpha_H,
                  double l1_ratio) {
                 return NMF(make_options(n_components, init, solver, beta_loss, tol, max_iter, random_state, alpha_W,
                                         alpha_H, l1_ratio));
               }),
           pyb::arg("n_components") = pyb::none(), pyb::kw_only(), pyb::arg("init") = pyb::none(),
           pyb::arg("solver") = "cd", pyb::arg("beta_loss") = "frobenius", pyb::arg("tol") = 1e-4,
           pyb::arg("max_iter") = 200, pyb::arg("random_state") = pyb::none(), pyb::arg("alpha_W") = 0.0,
           pyb::arg("alpha_H") = "same", pyb::arg("l1_ratio") = 0.0)
      .def("fit", [](NMF& n, pyb::handle X, pyb::handle) -> NMF& {
            const MatrixXdRM data = to_data(X);
            pyb::gil_scoped_release release;
            return n.fit(data);
          }, pyb::arg("X"), pyb::arg("y") = pyb::none(), pyb::return_value_policy::reference_internal,
           "Learn the components from X (n_samples, n_features), non-negative. Returns self.")
      .def("fit_transform", [](NMF& n, pyb::handle X, pyb::handle, pyb::handle W, pyb::handle H) {
            const MatrixXdRM data = to_data(X);
            if (W.is_none() != H.is_none()) throw ValueError("fit_transform: give both W and H, or neither");
            MatrixXdRM codes;
            if (!W.is_none()) {
              const MatrixXdRM W0 = to_matrix2(W, "W"), H0 = to_matrix2(H, "H");
              pyb::gil_scoped_release release;
              codes = n.fit_transform(data, W0, H0);
            } else {
              pyb::gil_scoped_release release;
              codes = n.fit_transform(data);
            }
            return matrix_array(codes);
          }, pyb::arg("X"), pyb::arg("y") = pyb::none(), pyb::arg("W") = pyb::none(), pyb::arg("H") = pyb::none(),
           "Fit and return the codes W (n_samples, k). W and H: a custom start (init='custom').")
      .def("transform", [](const NMF& n, pyb::handle X) {
            fitted(n, "transform");
            const MatrixXdRM data = to_data(X);
            MatrixXdRM codes;
            {
              pyb::gil_scoped_release release;
              codes = n.transform(data);
            }
            return matrix_array(codes);
          }, pyb::arg("X"), "Codes W >= 0 of new data with the components fixed.")
      .def("inverse_transform", [](const NMF& n, pyb::handle W) {
            fitted(n, "inverse_transform");
            return matrix_array(n.inverse_transform(to_matrix2(W, "W")));
          }, pyb::arg("W"), "W @ components_.")
      .def_property_readonly("components_", [](const NMF& n) { return matrix_array(fitted(n, "components_").components()); },
                             "H (k, n_features).")
      .def_property_readonly("reconstruction_err_", [](const NMF& n) { return fitted(n, "reconstruction_err_").reconstruction_err(); },
                             "sqrt(2 * beta-divergence(X, W H)) of the fit.")
      .def_property_readonly("n_iter_", [](const NMF& n) { return fitted(n, "n_iter_").n_iter(); }, "Iterations run.")
      .def_property_readonly("n_components_", [](const NMF& n) { return fitted(n, "n_components_").n_components(); },
                             "k, the number of components.")
      .def_property_readonly("n_features_in_", [](const NMF& n) { return fitted(n, "n_features_in_").n_features(); },
                             "Features of the data the components were fitted to.")
      .def("save", [](const NMF& n, pyb::object path) {
            fitted(n, "save").save(pyb::module_::import("os").attr("fspath")(path).cast<std::string>());
          }, pyb::arg("path"), "Write the dictionary file for Transform('nmf:PATH', shape) (float64 .npy).")
      .def_static("load", [](pyb::object path) {
            return NMF::load(pyb::module_::import("os").attr("fspath")(path).cast<std::string>());
          }, pyb::arg("path"), "An NMF with the components of a dictionary file (transform works without fit).")
      .def("__repr__", [](const NMF& n) {
        return n.fitted() ? "<trim.NMF: " + std::to_string(n.n_components()) + " components of " +
                                std::to_string(n.n_features()) + " features>"
                          : std::string("<trim.NMF (not fitted)>");
      });
}

}  // namespace trim::py
