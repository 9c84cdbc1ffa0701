// PCA against scikit-learn (tests/reference/make_nmf.py), least-squares
// dictionaries, and dictionaries as transforms: layout, the synthesis op's
// exact adjoint, gradient and kind checks, the residual, .npy files and the
// nmf:/pca:/dict: spec strings with the TRIM composition, groupings, errors.

#include <unistd.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "double_fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/io/npy.hpp"
#include "trim/transforms/dictionary.hpp"

using namespace trim;
using trim::test::message_of;
using trim::test::DoubleFixture;
using trim::test::rel_err;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

/// b with each row (axis 0) or column (axis 1) multiplied by the sign that
/// best aligns it with a.
MatrixXdRM align_signs(const MatrixXdRM& a, MatrixXdRM b, int axis) {
  const int64_t n = axis == 0 ? b.rows() : b.cols();
  for (int64_t j = 0; j < n; ++j) {
    const double d = axis == 0 ? a.row(j).dot(b.row(j)) : a.col(j).dot(b.col(j));
    if (d < 0) {
      if (axis == 0) b.row(j) *= -1;
      else b.col(j) *= -1;
    }
  }
  return b;
}

Shape with_batch(int64_t n, const Shape& s) {
  Shape r{n};
  for (int64_t v : s) r.push_back(v);
  return r;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a[i]) * b[i];
  return s;
}

MatrixXdRM random_matrix(int64_t r, int64_t c, uint64_t seed, bool nonneg = false) {
  MatrixXdRM m = to_matrix(randn({r, c}, seed));
  if (nonneg) m = m.cwiseAbs();
  return m;
}

/// A file in the temp directory, removed on scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("trim_test_" + std::to_string(::getpid()) + "_" + name)).string()) {}
  ~TempFile() { std::remove(path.c_str()); }
};

/// A small fitted NMF dictionary on 16 features.
NMF small_nmf() {
  NmfOptions o;
  o.n_components = 5;
  o.max_iter = 60;
  NMF nmf(o);
  nmf.fit(random_matrix(40, 16, 3, true));
  return nmf;
}

}  // namespace

// ---- PCA -------------------------------------------------------------------------

TEST_CASE("pca equals scikit-learn's up to component sign (plain and whitened)", "[pca]") {
  const DoubleFixture f("pca.txt");
  for (const auto& [tag, k] : std::vector<std::pair<std::string, int>>{{"tall", 5}, {"wide", 4}, {"tallall", 8}})
    for (bool whiten : {false, true}) {
      INFO(tag << (whiten ? " whiten" : " plain"));
      PcaOptions o;
      o.n_components = k;
      o.whiten = whiten;
      PCA pca(o);
      pca.fit(f[tag + "_X"]);
      const std::string w = tag + (whiten ? "_w" : "_p");
      const MatrixXdRM& ref = f[w + "_components"];
      CHECK(rel_err(align_signs(ref, pca.components(), 0), ref) <= 1e-9);
      // scikit-learn's svd_flip convention is implemented, so signs agree too
      CHECK(rel_err(pca.components(), ref) <= 1e-9);
      const MatrixXdRM& Y = f[tag + "_Y"];
      const MatrixXdRM& tref = f[w + "_transform"];
      const MatrixXdRM S = pca.transform(Y);
      CHECK(rel_err(align_signs(tref, S, 1), tref) <= 1e-9);
      CHECK(rel_err(pca.inverse_transform(S), f[w + "_inverse"]) <= 1e-9);
      CHECK(rel_err(pca.mean(), f[tag + "_mean"]) <= 1e-12);
      CHECK(rel_err(pca.explained_variance().transpose(), f[tag + "_explained_variance"]) <= 1e-10);
      CHECK(rel_err(pca.explained_variance_ratio().transpose(), f[tag + "_explained_variance_ratio"]) <= 1e-10);
      CHECK(rel_err(pca.singular_values().transpose(), f[tag + "_singular_values"]) <= 1e-10);
      const double nv = f[tag + "_noise_variance"](0, 0);
      CHECK(std::fabs(pca.noise_variance() - nv) <= 1e-10 * std::max(1.0, nv));
      CHECK(rel_err(pca.fit_transform(f[tag + "_X"]), pca.transform(f[tag + "_X"])) <= 1e-12);
    }
}

TEST_CASE("pca with all components is an exact dictionary transform", "[pca]") {
  const DoubleFixture f("pca.txt");
  for (bool whiten : {false, true}) {
    PcaOptions o;
    o.whiten = whiten;
    PCA pca(o);
    pca.fit(f["tallall_X"]);
    REQUIRE(pca.n_components() == 8);
    const DictionaryTransform t(pca.dictionary(), {2, 8});
    CHECK(t.exact());
    CHECK(t.coefficient_shape() == Shape{2, 8});
    const Tensor x = randn({3, 2, 8}, 4);
    require_close(t.inverse(t.forward(x)), x, 1e-4, 1e-2, "pca round trip");
    // codes equal PCA::transform per channel
    const MatrixXdRM rows = to_matrix(x.reshaped({6, 8}));
    require_close(t.forward(x), to_tensor(pca.transform(rows), {3, 2, 8}), 1e-6, 1e-3, "pca codes");
  }
  PcaOptions o;
  o.n_components = 3;
  PCA part(o);
  part.fit(f["tall_X"]);
  CHECK_FALSE(DictionaryTransform(part.dictionary(), {8}).exact());
}

TEST_CASE("pca rejects bad input", "[pca]") {
  const DoubleFixture f("pca.txt");
  MatrixXdRM X = f["tall_X"];
  PcaOptions o;
  o.n_components = 9;
  std::string m = message_of<ValueError>([&] { PCA(o).fit(X); });
  CHECK(m.find("pca fit: n_components = 9 must be between 1 and min(n_samples, n_features) = 8") == 0);
  X(3, 2) = std::nan("");
  m = message_of<ValueError>([&] { PCA().fit(X); });
  CHECK(m.find("NaN at row 3, column 2") != std::string::npos);
  CHECK_THROWS_AS(PCA().fit(MatrixXdRM::Ones(1, 4)), ValueError);
  PCA p;
  CHECK_THROWS_AS(p.transform(MatrixXdRM::Ones(2, 8)), ValueError);  // not fitted
  p.fit(f["tall_X"]);
  m = message_of<ShapeError>([&] { p.transform(MatrixXdRM::Ones(2, 7)); });
  CHECK(m.find("pca transform: X is [2,7], expected [*,8]") == 0);
  CHECK_THROWS_AS(p.inverse_transform(MatrixXdRM::Ones(2, 3)), ShapeError);
}

// ---- LinearDictionary -----------------------------------------------------------------

TEST_CASE("linear dictionary least squares: residual orthogonal to the atoms, min-norm when overcomplete",
          "[dictionary]") {
  const MatrixXdRM X = random_matrix(7, 6, 11);
  Eigen::RowVectorXd mu = random_matrix(1, 6, 12);
  // undercomplete: s = (x − μ)·Dᵀ(DDᵀ)⁻¹
  const MatrixXdRM D = random_matrix(3, 6, 13);
  const LinearDictionary d(D, mu);
  CHECK_FALSE(d.exact());
  CHECK(d.kind() == "dict");
  const MatrixXdRM S = d.encode(X);
  const Eigen::MatrixXd DDt = D * D.transpose();
  const MatrixXdRM Sref = (X.rowwise() - mu) * D.transpose() * DDt.inverse();
  CHECK(rel_err(S, Sref) <= 1e-10);
  CHECK((d.residual(X) * D.transpose()).cwiseAbs().maxCoeff() <= 1e-10);
  CHECK(rel_err(d.decode(S), (S * D).rowwise() + mu) <= 1e-14);
  // overcomplete: exact, minimum-norm codes s = (x − μ)(DᵀD)⁻¹Dᵀ
  const MatrixXdRM O = random_matrix(9, 6, 14);
  const LinearDictionary over(O, mu);
  CHECK(over.exact());
  const Eigen::MatrixXd OtO = O.transpose() * O;
  CHECK(rel_err(over.encode(X), (X.rowwise() - mu) * OtO.inverse() * O.transpose()) <= 1e-9);
  CHECK(over.residual(X).cwiseAbs().maxCoeff() <= 1e-10);
  // empty mean means zero
  CHECK(LinearDictionary(D).mean().cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("linear dictionary with a supplied encoder or encoder matrix", "[dictionary]") {
  const MatrixXdRM D = random_matrix(4, 4, 21);
  const Eigen::MatrixXd Dinv = Eigen::MatrixXd(D).inverse();
  const LinearDictionary m = LinearDictionary::with_encoder_matrix(D, Eigen::RowVectorXd(), Dinv);
  CHECK(m.exact());
  const MatrixXdRM X = random_matrix(3, 4, 22);
  CHECK(m.residual(X).cwiseAbs().maxCoeff() <= 1e-10);
  CHECK_FALSE(LinearDictionary::with_encoder_matrix(D, Eigen::RowVectorXd(), MatrixXdRM::Identity(4, 4)).exact());
  CHECK_THROWS_AS(LinearDictionary::with_encoder_matrix(D, Eigen::RowVectorXd(), MatrixXdRM::Ones(3, 4)), ShapeError);

  int calls = 0;
  const LinearDictionary thresh(D, Eigen::RowVectorXd(), [&](const MatrixXdRM& x) {
    ++calls;
    MatrixXdRM s = x * Dinv;
    return MatrixXdRM((s.array().abs() > 0.5).select(s, 0.0));
  });
  CHECK_FALSE(thresh.exact());
  thresh.encode(X);
  CHECK(calls == 1);
  const LinearDictionary bad(D, Eigen::RowVectorXd(), [](const MatrixXdRM& x) { return MatrixXdRM::Zero(x.rows(), 3); });
  std::string msg = message_of<ShapeError>([&] { bad.encode(X); });
  CHECK(msg.find("the encoder returned [3,3], expected [3,4]") != std::string::npos);
  msg = message_of<ShapeError>([&] { thresh.encode(MatrixXdRM::Ones(2, 5)); });
  CHECK(msg.find("dict dictionary encode: X is [2,5], expected [*,4]") == 0);
  CHECK_THROWS_AS(LinearDictionary(D, Eigen::RowVectorXd::Ones(3)), ShapeError);
  MatrixXdRM nan = D;
  nan(1, 1) = std::nan("");
  CHECK_THROWS_AS(LinearDictionary(nan), ValueError);
}

// ---- as a transform --------------------------------------------------------------------

TEST_CASE("dictionary transform acts on the fewest trailing axes matching n_features", "[dictionary]") {
  const LinearDictionary d(random_matrix(5, 16, 31));
  CHECK(DictionaryTransform(d, {16}).coefficient_shape() == Shape{5});
  CHECK(DictionaryTransform(d, {16}).axes() == 1);
  CHECK(DictionaryTransform(d, {1, 4, 4}).coefficient_shape() == Shape{1, 5});
  CHECK(DictionaryTransform(d, {1, 4, 4}).axes() == 2);
  CHECK(DictionaryTransform(d, {3, 16}).coefficient_shape() == Shape{3, 5});
  CHECK(DictionaryTransform(d, {2, 3, 2, 8}).coefficient_shape() == Shape{2, 3, 5});
  CHECK(DictionaryTransform(d, {16}).spec() == "dict:<in memory>");
  const std::string m = message_of<ShapeError>([&] { DictionaryTransform(d, {5, 3}); });
  CHECK(m.find("no trailing axes of the input shape [5,3] multiply to the dictionary's 16 features") !=
        std::string::npos);
  CHECK_THROWS_AS(DictionaryTransform(d, Shape{}), ShapeError);

  const DictionaryTransform t(d, {3, 16});
  CHECK_THROWS_AS(t.forward(randn({2, 16}, 1)), ShapeError);
  CHECK_THROWS_AS(t.inverse(randn({2, 3, 4}, 1)), ShapeError);
  // channels are coded independently with the same dictionary
  const Tensor x = randn({2, 3, 16}, 2);
  const Tensor s = t.forward(x);
  REQUIRE(s.shape() == Shape{2, 3, 5});
  require_close(s, to_tensor(d.encode(to_matrix(x.reshaped({6, 16}))), {2, 3, 5}), 1e-6, 1e-3, "per channel");
}

TEST_CASE("dictionary inverse op: graph equals inverse(), exact adjoint, gradient and kind checks", "[dictionary]") {
  const NMF nmf = small_nmf();
  Eigen::RowVectorXd mu = random_matrix(1, 16, 41);
  const std::vector<std::pair<std::string, LinearDictionary>> dicts = {
      {"dict with mean", LinearDictionary(random_matrix(5, 16, 42), mu)},
      {"nmf", nmf.dictionary()},
  };
  uint64_t seed = 50;
  for (const auto& [name, d] : dicts)
    for (const Shape& ex : {Shape{16}, Shape{2, 4, 4}}) {
      INFO(name << " on " << ex.str());
      const DictionaryTransform t(d, ex);
      Graph g;
      const NodeId in = nn::input(g, "s", t.coefficient_shape());
      const NodeId inv = add_inverse(g, in, t, "inv");
      g.set_outputs({inv});
      g.finalize();
      REQUIRE(g.shape(inv) == with_batch(Shape::free, ex));
      const auto& op = *g.node(inv).op;
      CHECK(op.kind() == Kind::Linear);
      CHECK(op.type() == "inverse_" + d.kind());
      const Tensor s = randn(with_batch(3, t.coefficient_shape()), ++seed);
      require_close(g.evaluate(s), t.inverse(s), 1e-6, 1e-3, "graph vs inverse()");
      // inverse() in double for reference
      const MatrixXdRM rows = to_matrix(s.reshaped({s.numel() / 5, 5}));
      require_close(t.inverse(s), to_tensor(d.decode(rows), with_batch(3, ex)), 1e-5, 1e-2, "inverse vs decode");

      // <A s, u> == <s, Aᵀ u> with A the unbiased synthesis
      Workspace ws;
      forward(g, ws, {s});
      const Tensor u = randn(with_batch(3, ex), ++seed);
      const Tensor atu = backward(g, ws, {u}).inputs.at(0);
      Tensor as = t.inverse(s);
      Tensor bias = t.inverse(Tensor(s.shape()));  // the mean, broadcast
      for (int64_t i = 0; i < as.numel(); ++i) as[i] -= bias[i];
      const double lhs = dot(as, u), rhs = dot(s, atu);
      CHECK(std::fabs(lhs - rhs) <= 1e-5 * (std::sqrt(dot(as, as) * dot(u, u)) + std::sqrt(dot(s, s) * dot(atu, atu))));

      require_ok(check_gradients(g, {s}));
      require_ok(check_kind(g, inv, {s}));
      OpArgs args;
      args.inputs = {&s};
      CHECK(op.has_bias(args) == (name != "nmf"));
    }
}

TEST_CASE("dictionary residual: inverse(forward(x)) + r == x", "[dictionary]") {
  const NMF nmf = small_nmf();
  const DictionaryTransform t(nmf.dictionary(), {2, 16});
  CHECK_FALSE(t.exact());
  Tensor x = randn({3, 2, 16}, 61);
  for (float& v : x) v = std::fabs(v);
  const Tensor r = t.residual(x);
  const Tensor back = t.inverse(t.forward(x));
  double rr = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    CHECK(std::fabs(back[i] + r[i] - x[i]) <= 1e-6f * (1 + std::fabs(x[i])));
    rr += double(r[i]) * r[i];
  }
  CHECK(rr > 1e-3);  // lossy: the residual is not zero
  require_close(transform_residual(t, x), r, 0.0);
  // NMF codes are non-negative and NMF rejects negative input
  for (float v : t.forward(x)) CHECK(v >= 0.0f);
  const std::string m = message_of<ValueError>([&] { t.forward(randn({1, 2, 16}, 62)); });
  CHECK(m.find("negative value") != std::string::npos);
  // an exact transform has (almost) no residual
  const auto fft = make_transform("fft1", {8});
  for (float v : transform_residual(*fft, randn({2, 8}, 63))) CHECK(std::fabs(v) < 1e-5f);
}

TEST_CASE("dictionary files: save/load and make_transform specs", "[dictionary][npy]") {
  const NMF nmf = small_nmf();
  TempFile nf("nmf.npy"), pf("pca.npy"), df("dict.npy");
  nmf.save(nf.path);
  // format: float64 [k + 1, n_features], row 0 the mean
  const io::NpyArray a = io::read_npy_array(nf.path);
  REQUIRE(a.shape == std::vector<int64_t>{6, 16});
  CHECK(a.type == io::NpyType::Float64);
  for (int j = 0; j < 16; ++j) CHECK(a.values[size_t(j)] == 0.0);
  CHECK(a.values[16 + 3] == nmf.components()(0, 3));

  const NMF back = NMF::load(nf.path);
  CHECK(back.components() == nmf.components());
  const MatrixXdRM Y = random_matrix(4, 16, 71, true);
  CHECK(rel_err(back.transform(Y), nmf.transform(Y)) == 0.0);

  PcaOptions po;
  po.n_components = 6;
  po.whiten = true;
  PCA pca(po);
  pca.fit(random_matrix(30, 16, 72));
  pca.save(pf.path);
  const MatrixXdRM D = random_matrix(4, 16, 73);
  Eigen::RowVectorXd mu = random_matrix(1, 16, 74);
  save_dictionary(df.path, D, mu);

  const Shape ex{1, 4, 4};
  for (const auto& [spec, ref] : std::vector<std::pair<std::string, LinearDictionary>>{
           {"nmf:" + nf.path, nmf.dictionary()}, {"pca:" + pf.path, pca.dictionary()}, {"dict:" + df.path, LinearDictionary(D, mu)}}) {
    INFO(spec);
    const auto t = make_transform(spec, ex);
    CHECK(t->spec() == spec);
    CHECK(t->coefficient_shape() == Shape{1, ref.n_components()});
    const auto* dt = dynamic_cast<const DictionaryTransform*>(t.get());
    REQUIRE(dt);
    Tensor x = randn({3, 1, 4, 4}, 75);
    if (spec[0] == 'n')
      for (float& v : x) v = std::fabs(v);
    const DictionaryTransform mem(ref, ex);
    require_close(t->forward(x), mem.forward(x), 1e-5, 1e-3, "codes from file vs in memory");
    const Tensor s = t->forward(x);
    require_close(t->inverse(s), mem.inverse(s), 1e-6, 1e-3, "synthesis from file vs in memory");

    // TRIM composition: model(inverse(T(x)) + r) == model(x)
    Graph plain(3);
    {
      const NodeId xin = nn::input(plain, "x", ex);
      const NodeId h = nn::linear(plain, nn::flatten(plain, xin), 4, "fc1");
      plain.set_outputs({nn::linear(plain, nn::relu(plain, h), 3, "fc2")});
      plain.finalize();
    }
    Graph trimg(3);
    {
      const NodeId sin = nn::input(trimg, "s", t->coefficient_shape());
      const NodeId rin = nn::input(trimg, "r", ex);
      const NodeId xr = nn::add(trimg, add_inverse(trimg, sin, *t), rin);
      const NodeId h = nn::linear(trimg, nn::flatten(trimg, xr), 4, "fc1");
      trimg.set_outputs({nn::linear(trimg, nn::relu(trimg, h), 3, "fc2")});
      trimg.finalize();
    }
    for (const char* p : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"})
      trimg.set_parameter(p, plain.parameter(p).value);
    const Tensor r = dt->residual(x);
    require_close(trimg.evaluate({s, r})[0], plain.evaluate(x), 1e-4, 1e-2, "model ∘ inverse + residual");
    require_ok(check_gradients(trimg, {s, r}));
  }
}

TEST_CASE("dictionary spec and file errors name the problem", "[dictionary][npy]") {
  std::string m = message_of<ValueError>([] { make_transform("nmf", {16}); });
  CHECK(m.find("expected nmf:<file.npy>") != std::string::npos);
  CHECK_THROWS_AS(make_transform("dict:", {16}), ValueError);
  CHECK_THROWS_AS(make_transform("pca:/nonexistent/trim_dict.npy", {16}), IoError);

  TempFile neg("neg.npy"), nonorth("nonorth.npy"), mean("mean.npy"), vec("vec.npy");
  MatrixXdRM D = random_matrix(3, 16, 81, true);
  D(1, 4) = -0.25;
  save_dictionary(neg.path, D);
  m = message_of<ValueError>([&] { make_transform("nmf:" + neg.path, {16}); });
  CHECK(m.find("component 1 has a negative entry -0.25 at feature 4") != std::string::npos);
  save_dictionary(nonorth.path, random_matrix(3, 16, 82));
  m = message_of<ValueError>([&] { make_transform("pca:" + nonorth.path, {16}); });
  CHECK(m.find("not orthogonal") != std::string::npos);
  CHECK_NOTHROW(make_transform("dict:" + nonorth.path, {16}));
  save_dictionary(mean.path, random_matrix(3, 16, 83, true), Eigen::RowVectorXd::Ones(16));
  m = message_of<ValueError>([&] { NMF::load(mean.path); });
  CHECK(m.find("row 0 (the mean) must be zero") != std::string::npos);
  io::write_npy(vec.path, {16}, std::vector<double>(16, 1.0));
  m = message_of<IoError>([&] { make_transform("dict:" + vec.path, {16}); });
  CHECK(m.find("expected a 2-D array [k+1,n_features]") != std::string::npos);
  // a 16-feature dictionary does not fit [5,5]
  CHECK_THROWS_AS(make_transform("dict:" + nonorth.path, {5, 5}), ShapeError);
  CHECK_THROWS_AS(load_dictionary(nonorth.path, "ica"), ValueError);
}

TEST_CASE("a dictionary file with an absurd component count fails fast, before any k x k work", "[dictionary][npy]") {
  // [30001, 1]: 30000 one-feature atoms. A k x k Gram or identity would be 7.2 GB.
  TempFile tall("tall.npy");
  io::write_npy(tall.path, {30001, 1}, std::vector<double>(30001, 0.5));
  for (const char* kind : {"pca:", "dict:", "nmf:"}) {
    const std::string m = message_of<ShapeError>([&] { make_transform(kind + tall.path, {28, 28}); });
    CHECK(m.find("multiply to the dictionary's 1 features") != std::string::npos);
  }
  // When the layout fits, pca refuses more atoms than features up front and
  // dict solves on the 1 x 1 side.
  const std::string m = message_of<ValueError>([&] { make_transform("pca:" + tall.path, {1}); });
  CHECK(m.find("30000 components of 1 features cannot be orthogonal") != std::string::npos);
  const auto t = make_transform("dict:" + tall.path, {1});
  CHECK(t->coefficient_shape() == Shape{30000});
}

// ---- groupings -------------------------------------------------------------------------

TEST_CASE("component groupings", "[dictionary][grouping]") {
  const LinearDictionary d(random_matrix(4, 16, 91));
  const DictionaryTransform t(d, {2, 16});
  const Grouping g = component_groups(t);
  CHECK(g.size() == 4);
  CHECK(g.coefficient_shape == Shape{2, 4});
  CHECK(g.labels == std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, 3});
  CHECK(g.names[3] == "component 3");
  CHECK(g.centers[2] == 2.0);
  CHECK(g.units == "component");

  const Grouping u = component_groups(t, {{0, 2}, {3}});
  CHECK(u.size() == 2);
  CHECK(u.labels == std::vector<int32_t>{0, -1, 0, 1, 0, -1, 0, 1});
  CHECK(u.names == std::vector<std::string>{"components 0,2", "component 3"});
  CHECK(u.centers == std::vector<double>{1.0, 3.0});
  CHECK(component_groups(t, {{1}, {0}}, {"b", "a"}).names == std::vector<std::string>{"b", "a"});
  const Tensor m = u.mask(0);
  CHECK(m[0] == 1.0f);
  CHECK(m[1] == 0.0f);

  std::string msg = message_of<ValueError>([&] { component_groups(t, {{0, 1}, {1}}); });
  CHECK(msg.find("component 1 is in groups 0 and 1") != std::string::npos);
  msg = message_of<ValueError>([&] { component_groups(t, {{4}}); });
  CHECK(msg.find("names component 4, expected 0..3") != std::string::npos);
  CHECK_THROWS_AS(component_groups(t, {{}}), ValueError);
  CHECK_THROWS_AS(component_groups(t, {{0}}, {"a", "b"}), ValueError);
  msg = message_of<ValueError>([] { component_groups(*make_transform("fft1", {8})); });
  CHECK(msg.find("is not a dictionary transform") != std::string::npos);
}
