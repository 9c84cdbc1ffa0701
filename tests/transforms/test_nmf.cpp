// NMF against scikit-learn 1.2.1 (fixtures from tests/reference/make_nmf.py):
// iterates of cd and mu (every β) from a shared custom start, converged fits
// and their iteration counts, transform, nndsvd inits, the full digits fit,
// and errors on bad input.

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "double_fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"

using namespace trim;
using trim::test::message_of;
using trim::test::DoubleFixture;
using trim::test::rel_err;

namespace {

struct Case {
  std::string name;
  NmfOptions options;
};

std::vector<Case> cd_cases() {
  std::vector<Case> c(3);
  c[0].name = "plain";
  c[1].name = "l2";
  c[1].options.alpha_W = 0.02;
  c[2].name = "l1l2";
  c[2].options.alpha_W = 0.01;
  c[2].options.alpha_H = 0.03;
  c[2].options.l1_ratio = 0.4;
  return c;
}

std::vector<Case> mu_cases() {
  auto mk = [](const char* name, double beta, double aW = 0, std::optional<double> aH = {}, double l1 = 0) {
    Case c;
    c.name = name;
    c.options.solver = NmfSolver::Mu;
    c.options.beta_loss = beta;
    c.options.alpha_W = aW;
    c.options.alpha_H = aH;
    c.options.l1_ratio = l1;
    return c;
  };
  return {mk("fro", 2), mk("fro_reg", 2, 0.01, 0.02, 0.3), mk("kl", 1), mk("kl_reg", 1, 0.01, {}, 0.5),
          mk("is", 0), mk("b15", 1.5), mk("b3", 3)};
}

void check_iterates(const std::string& file, const std::vector<Case>& cases) {
  const DoubleFixture f(file);
  for (const Case& c : cases) {
    const MatrixXdRM& X = c.options.beta_loss <= 0 ? f["Xpos"] : f["X"];
    for (int iters : {1, 50}) {
      INFO(file << " case " << c.name << ", " << iters << " iterations");
      NmfOptions o = c.options;
      o.tol = 0;
      o.max_iter = iters;
      NMF nmf(o);
      const MatrixXdRM W = nmf.fit_transform(X, f["W0"], f["H0"]);
      CHECK(nmf.n_iter() == iters);
      const std::string p = c.name + "_" + std::to_string(iters);
      const double ew = rel_err(W, f[p + "_W"]), eh = rel_err(nmf.components(), f[p + "_H"]);
      INFO("W rel err " << ew << ", H rel err " << eh);
      CHECK(ew <= 1e-8);
      CHECK(eh <= 1e-8);
    }
  }
}

void check_converged(const std::string& file, const std::vector<Case>& cases) {
  const DoubleFixture f(file);
  for (const Case& c : cases) {
    INFO(file << " case " << c.name << " converged fit");
    const MatrixXdRM& X = c.options.beta_loss <= 0 ? f["Xpos"] : f["X"];
    NmfOptions o = c.options;
    o.max_iter = 400;
    NMF nmf(o);
    const MatrixXdRM W = nmf.fit_transform(X, f["W0"], f["H0"]);
    const MatrixXdRM& info = f[c.name + "_fit_info"];
    CHECK(nmf.n_iter() == int(info(0, 0)));
    CHECK(std::fabs(nmf.reconstruction_err() - info(0, 1)) <= 1e-8 * info(0, 1));
    // beta_divergence alone, on scikit-learn's own factors
    CHECK(std::fabs(beta_divergence(X, f[c.name + "_fit_W"], f[c.name + "_fit_H"], o.beta_loss, true) - info(0, 1)) <=
          1e-12 * info(0, 1));
    const double ew = rel_err(W, f[c.name + "_fit_W"]), eh = rel_err(nmf.components(), f[c.name + "_fit_H"]);
    INFO("W rel err " << ew << ", H rel err " << eh);
    CHECK(ew <= 1e-6);
    CHECK(eh <= 1e-6);
    // transform of new data by the fitted model
    MatrixXdRM Y = f["Y"];
    if (o.beta_loss <= 0) Y.array() += 0.05;
    const double et = rel_err(nmf.transform(Y), f[c.name + "_transform"]);
    INFO("transform rel err " << et);
    CHECK(et <= 1e-8);
  }
}

}  // namespace

TEST_CASE("nmf cd iterates equal scikit-learn's after 1 and 50 iterations", "[nmf]") {
  check_iterates("nmf_cd.txt", cd_cases());
}

TEST_CASE("nmf mu iterates equal scikit-learn's for every beta after 1 and 50 iterations", "[nmf]") {
  check_iterates("nmf_mu.txt", mu_cases());
}

TEST_CASE("nmf cd converged fit, n_iter and transform equal scikit-learn's", "[nmf]") {
  check_converged("nmf_cd.txt", cd_cases());
}

TEST_CASE("nmf mu converged fit, n_iter and transform equal scikit-learn's", "[nmf]") {
  check_converged("nmf_mu.txt", mu_cases());
}

namespace {
/// tests/reference/make_nmf.py's hashed_matrix.
MatrixXdRM hashed_matrix(int n, int m) {
  MatrixXdRM G(n, m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) G(i, j) = double((7919LL * i + 104729LL * j + 31LL * i * j) % 1009) / 1009.0;
  return G;
}
}  // namespace

TEST_CASE("nmf nndsvd and nndsvda starts equal scikit-learn's", "[nmf]") {
  const DoubleFixture f("nmf_init.txt");
  SECTION("exactly low-rank X: the SVD is exact") {
    for (const char* init : {"nndsvd", "nndsvda"})
      for (int k : {3, 4}) {
        INFO(init << " k=" << k);
        const NmfFactors s = nmf_initialize(f["X"], k, nmf_init(init), 0);
        const std::string p = std::string(init) + "_" + std::to_string(k);
        CHECK(rel_err(s.W, f[p + "_W"]) <= 1e-8);
        CHECK(rel_err(s.H, f[p + "_H"]) <= 1e-8);
      }
  }
  SECTION("generic X: the randomised SVD has not converged, same probes give the same start") {
    const MatrixXdRM G = hashed_matrix(60, 40);
    const NmfFactors a = nmf_initialize(G, 3, NmfInit::Nndsvda, 0);
    CHECK(rel_err(a.W, f["generic_W"]) <= 1e-8);
    CHECK(rel_err(a.H, f["generic_H"]) <= 1e-8);
    const NmfFactors b = nmf_initialize(MatrixXdRM(G.topRows(25)), 4, NmfInit::Nndsvd, 5);  // wide: SVD of Xᵀ
    CHECK(rel_err(b.W, f["generic_wide_W"]) <= 1e-8);
    CHECK(rel_err(b.H, f["generic_wide_H"]) <= 1e-8);
  }
  SECTION("random and nndsvdar draw numpy.random.RandomState(seed)'s numbers") {
    const NmfFactors r = nmf_initialize(f["X"], 3, NmfInit::Random, 7);
    CHECK(rel_err(r.W, f["random_W"]) <= 1e-15);
    CHECK(rel_err(r.H, f["random_H"]) <= 1e-15);
    const NmfFactors a = nmf_initialize(f["X"], 3, NmfInit::Nndsvdar, 3);
    CHECK(rel_err(a.W, f["nndsvdar_W"]) <= 1e-8);
    CHECK(rel_err(a.H, f["nndsvdar_H"]) <= 1e-8);
  }
}

TEST_CASE("nmf large problems (thread pool, blocked GEMM) match scikit-learn and the plain algorithm", "[nmf]") {
  const DoubleFixture f("nmf_init.txt");
  const MatrixXdRM X = hashed_matrix(2000, 400);  // n·m·k above the serial threshold
  SECTION("nndsvda start via the pooled randomised SVD") {
    const NmfFactors s = nmf_initialize(X, 30, NmfInit::Nndsvda, 0);
    CHECK(rel_err(s.W.topRows(6), f["big_W_rows"]) <= 1e-8);
    CHECK(rel_err(s.H.leftCols(6), f["big_H_cols"]) <= 1e-8);
    CHECK(rel_err(s.W.colwise().sum(), f["big_W_colsum"]) <= 1e-8);
    CHECK(rel_err(s.H.rowwise().sum().transpose(), f["big_H_rowsum"]) <= 1e-8);
  }
  SECTION("one regularised cd iteration equals _update_cdnmf_fast written out plainly") {
    const int k = 30;
    MatrixXdRM W0(2000, k), H0(k, 400);
    for (int64_t i = 0; i < W0.size(); ++i) W0.data()[i] = 0.05 + double((i * 37) % 101) / 101.0;
    for (int64_t i = 0; i < H0.size(); ++i) H0.data()[i] = 0.05 + double((i * 53) % 97) / 97.0;
    NmfOptions o;
    o.max_iter = 1;
    o.tol = 0;
    o.alpha_W = 1e-4;
    o.l1_ratio = 0.3;
    NMF nmf(o);
    const MatrixXdRM W = nmf.fit_transform(X, W0, H0);
    // reference: scikit-learn's loops (t outer, i inner), regularisation
    // scaled by n_features for W and n_samples for H
    auto sweep = [](MatrixXdRM& A, const MatrixXdRM& B, const MatrixXdRM& XB, double l1, double l2) {
      Eigen::MatrixXd BB = B.transpose() * B;
      BB.diagonal().array() += l2;
      for (int t = 0; t < A.cols(); ++t)
        for (int64_t i = 0; i < A.rows(); ++i) {
          double g = -(XB(i, t) - l1);
          for (int r = 0; r < A.cols(); ++r) g += BB(t, r) * A(i, r);
          if (BB(t, t) != 0) A(i, t) = std::max(A(i, t) - g / BB(t, t), 0.0);
        }
    };
    MatrixXdRM Wr = W0, Htr = H0.transpose();
    const double a = 1e-4;
    sweep(Wr, Htr, X * Htr, 400 * a * 0.3, 400 * a * 0.7);
    sweep(Htr, Wr, X.transpose() * Wr, 2000 * a * 0.3, 2000 * a * 0.7);
    CHECK(rel_err(W, Wr) <= 1e-10);
    CHECK(rel_err(nmf.components(), Htr.transpose()) <= 1e-10);
    // transform of the same size also runs pooled
    CHECK(rel_err(nmf.transform(X), nmf.transform(X)) == 0.0);
  }
}

TEST_CASE("nmf random and nndsvdar starts are seeded, non-negative and scaled", "[nmf]") {
  const DoubleFixture f("nmf_init.txt");
  const MatrixXdRM& X = f["X"];
  const NmfFactors a = nmf_initialize(X, 3, NmfInit::Random, 7), b = nmf_initialize(X, 3, NmfInit::Random, 7);
  const NmfFactors c = nmf_initialize(X, 3, NmfInit::Random, 8);
  CHECK(a.W == b.W);
  CHECK(a.H == b.H);
  CHECK(a.W != c.W);
  CHECK(a.W.minCoeff() >= 0);
  CHECK(a.H.minCoeff() >= 0);
  REQUIRE(a.W.rows() == X.rows());
  REQUIRE(a.H.cols() == X.cols());
  // E|N(0,1)| = √(2/π): the mean entry is ≈ √(2/π)·√(mean(X)/k)
  const double expected = std::sqrt(2 / M_PI) * std::sqrt(X.mean() / 3);
  const double got = (a.W.sum() + a.H.sum()) / double(a.W.size() + a.H.size());
  CHECK(std::fabs(got - expected) < 0.25 * expected);
  // random may use more components than min(n, m); nndsvd may not
  CHECK_NOTHROW(nmf_initialize(X, 12, NmfInit::Random, 1));
  CHECK_NOTHROW(nmf_initialize(X, 12, NmfInit::Auto, 1));  // auto falls back to random
  const NmfFactors r = nmf_initialize(X, 3, NmfInit::Nndsvdar, 3);
  const NmfFactors z = nmf_initialize(X, 3, NmfInit::Nndsvd, 3);
  CHECK(r.W.minCoeff() >= 0);
  for (int64_t i = 0; i < z.W.size(); ++i)
    if (z.W.data()[i] != 0) CHECK(r.W.data()[i] == z.W.data()[i]);
  CHECK_THROWS_AS(nmf_initialize(X, 3, NmfInit::Random, uint64_t(1) << 32), ValueError);
}

TEST_CASE("nmf full fit on digits (k = 16) within 0.5% of scikit-learn's error", "[nmf][digits]") {
  // digits.txt: one 64-value image per line; '1'-'9','a'-'g' = 1..16,
  // 'A'-'Z' = runs of 1..26 zeros.
  std::ifstream in(std::string(TRIM_FIXTURE_DIR) + "/digits.txt");
  REQUIRE(in);
  std::vector<double> v;
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t before = v.size();
    for (char ch : line) {
      if (ch >= 'A' && ch <= 'Z') v.insert(v.end(), size_t(ch - 'A' + 1), 0.0);
      else if (ch >= '1' && ch <= '9') v.push_back(ch - '0');
      else if (ch >= 'a' && ch <= 'g') v.push_back(ch - 'a' + 10);
      else FAIL("bad character in digits.txt");
    }
    REQUIRE(v.size() - before == 64);
    ++rows;
  }
  REQUIRE(rows == 1797);
  const MatrixXdRM X = Eigen::Map<const MatrixXdRM>(v.data(), rows, 64);
  const DoubleFixture f("nmf_digits.txt");
  for (const char* solver : {"cd", "mu"}) {
    NmfOptions o;
    o.n_components = 16;
    o.solver = nmf_solver(solver);
    NMF nmf(o);
    const auto t0 = std::chrono::steady_clock::now();
    nmf.fit(X);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ref = f[std::string(solver) + "_info"](0, 1);
    WARN("digits NMF " << solver << ": " << sec << " s, " << nmf.n_iter() << " iterations, error "
                       << nmf.reconstruction_err() << " (scikit-learn " << ref << ", "
                       << f[std::string(solver) + "_info"](0, 0) << " iterations)");
    CHECK(std::fabs(nmf.reconstruction_err() - ref) <= 0.005 * ref);
    CHECK(nmf.components().minCoeff() >= 0);
  }
}

TEST_CASE("nmf target_error stops a fit as soon as the error is reached", "[nmf]") {
  const DoubleFixture f("nmf_cd.txt");
  NmfOptions o;
  o.tol = 0;
  o.max_iter = 400;
  NMF full(o);
  full.fit_transform(f["X"], f["W0"], f["H0"]);
  NmfOptions t = o;
  t.target_error = full.reconstruction_err() * 1.01;
  NMF early(t);
  early.fit_transform(f["X"], f["W0"], f["H0"]);
  CHECK(early.n_iter() < 400);
  CHECK(early.reconstruction_err() <= t.target_error * (1 + 1e-9));
  t.solver = NmfSolver::Mu;
  NMF mu(t);
  mu.fit_transform(f["X"], f["W0"], f["H0"]);
  CHECK(mu.n_iter() % 10 == 0);
}

TEST_CASE("nmf inverse_transform, dictionary and option parsing", "[nmf]") {
  const DoubleFixture f("nmf_cd.txt");
  NmfOptions o;
  o.max_iter = 30;
  NMF nmf(o);
  const MatrixXdRM W = nmf.fit_transform(f["X"], f["W0"], f["H0"]);
  CHECK(rel_err(nmf.inverse_transform(W), W * nmf.components()) == 0.0);
  const LinearDictionary d = nmf.dictionary();
  CHECK(d.kind() == "nmf");
  CHECK_FALSE(d.exact());
  CHECK(d.mean().cwiseAbs().maxCoeff() == 0.0);
  CHECK(rel_err(d.encode(f["Y"]), nmf.transform(f["Y"])) == 0.0);
  CHECK(nmf_beta_loss("frobenius") == 2.0);
  CHECK(nmf_beta_loss("kullback-leibler") == 1.0);
  CHECK(nmf_beta_loss("itakura-saito") == 0.0);
  CHECK(nmf_beta_loss("1.5") == 1.5);
  CHECK_THROWS_AS(nmf_beta_loss("kl"), ValueError);
  CHECK_THROWS_AS(nmf_solver("als"), ValueError);
  CHECK(nmf_init("nndsvdar") == NmfInit::Nndsvdar);
  CHECK_THROWS_AS(nmf_init("svd"), ValueError);
  const NMF loaded = NMF::from_components(nmf.components());
  CHECK(rel_err(loaded.transform(f["Y"]), nmf.transform(f["Y"])) == 0.0);
}

TEST_CASE("nmf rejects bad input with messages naming the problem", "[nmf]") {
  const DoubleFixture f("nmf_cd.txt");
  MatrixXdRM X = f["X"];
  NmfOptions o;
  o.n_components = 3;
  o.max_iter = 5;

  MatrixXdRM neg = X;
  neg(2, 5) = -0.5;
  std::string m = message_of<ValueError>([&] { NMF(o).fit(neg); });
  CHECK(m.find("nmf fit") == 0);
  CHECK(m.find("negative value -0.5 at row 2, column 5") != std::string::npos);

  MatrixXdRM nan = X;
  nan(1, 1) = std::nan("");
  m = message_of<ValueError>([&] { NMF(o).fit(nan); });
  CHECK(m.find("NaN at row 1, column 1") != std::string::npos);
  nan(1, 1) = HUGE_VAL;
  CHECK_THROWS_AS(NMF(o).fit(nan), ValueError);

  NmfOptions big = o;
  big.n_components = 9;  // X is 12 x 8
  big.init = NmfInit::Nndsvda;
  m = message_of<ValueError>([&] { NMF(big).fit(X); });
  CHECK(m.find("n_components = 9 is larger than min(n_samples, n_features) = 8") != std::string::npos);

  m = message_of<ShapeError>([&] { NMF(o).fit_transform(X, f["W0"], MatrixXdRM(f["H0"].leftCols(7))); });
  CHECK(m.find("H0 is [3,7], expected [3,8]") != std::string::npos);
  m = message_of<ShapeError>([&] { NMF(o).fit_transform(X, MatrixXdRM(f["W0"].topRows(11)), f["H0"]); });
  CHECK(m.find("W0 is [11,3], expected [12,3]") != std::string::npos);
  CHECK_THROWS_AS(NMF(o).fit_transform(X, f["W0"], MatrixXdRM::Zero(3, 8)), ValueError);

  NMF fitted(o);
  fitted.fit(X);
  m = message_of<ShapeError>([&] { fitted.transform(MatrixXdRM::Ones(2, 7)); });
  CHECK(m.find("nmf transform: X is [2,7], expected [*,8]") == 0);
  m = message_of<ValueError>([&] { fitted.transform(-MatrixXdRM::Ones(2, 8)); });
  CHECK(m.find("negative") != std::string::npos);
  CHECK_THROWS_AS(fitted.inverse_transform(MatrixXdRM::Ones(2, 4)), ShapeError);
  CHECK_THROWS_AS(NMF(o).transform(X), ValueError);  // not fitted

  NmfOptions kl = o;
  kl.beta_loss = 1;
  m = message_of<ValueError>([&] { NMF(kl).fit(X); });
  CHECK(m.find("solver 'cd' handles only beta_loss = 2") != std::string::npos);
  NmfOptions is = o;
  is.solver = NmfSolver::Mu;
  is.beta_loss = 0;
  m = message_of<ValueError>([&] { NMF(is).fit(X); });  // X has zeros
  CHECK(m.find("zeros") != std::string::npos);
  NmfOptions bad = o;
  bad.l1_ratio = 1.5;
  CHECK_THROWS_AS(NMF(bad).fit(X), ValueError);
  bad = o;
  bad.max_iter = 0;
  CHECK_THROWS_AS(NMF(bad).fit(X), ValueError);
  bad = o;
  bad.alpha_W = -1;
  CHECK_THROWS_AS(NMF(bad).fit(X), ValueError);
  CHECK_THROWS_AS(NMF(o).fit(MatrixXdRM(0, 4)), ValueError);
}
