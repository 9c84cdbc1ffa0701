#include "trim/graph/check.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"

namespace trim {

namespace {

double dot(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

double norm(const Tensor& a) { return std::sqrt(dot(a, a)); }

Tensor random_like(const Tensor& t, Rng& rng) {
  Tensor r(t.shape());
  rng.fill_normal(r, 0.0f, 1.0f);
  return r;
}

/// L = Σ_k <u_k, output_k>, accumulated in double.
double objective(const Graph& g, const std::vector<Tensor>& inputs, const std::vector<Tensor>& u) {
  const std::vector<Tensor> out = g.evaluate(inputs);
  double s = 0.0;
  for (size_t k = 0; k < out.size(); ++k) s += dot(out[k], u[k]);
  return s;
}

void record(CheckResult& r, double fd, double ad, double floor, double tol, const std::string& what) {
  const double err = std::fabs(fd - ad) / std::max(std::fabs(fd) + std::fabs(ad), floor);
  r.max_error = std::max(r.max_error, err);
  if (err > tol || !std::isfinite(ad)) {
    r.ok = false;
    std::ostringstream os;
    os << what << ": backward " << ad << " vs finite difference " << fd << " (error " << err << ")\n";
    r.report += os.str();
  }
}

void axpy(Tensor& y, float a, const Tensor& x) {
  for (int64_t i = 0; i < y.numel(); ++i) y[i] += a * x[i];
}

}  // namespace

CheckResult check_gradients(Graph& g, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  CheckResult result;
  Rng rng(opt.seed);
  Workspace ws;
  forward(g, ws, inputs);
  std::vector<Tensor> u;
  for (NodeId o : g.outputs()) u.push_back(random_like(ws.value(o), rng));
  const Gradients grads = backward(g, ws, u, opt.parameters);

  const auto check_direction = [&](Tensor& x, const Tensor& grad, const std::string& what,
                                   const std::function<double()>& eval) {
    for (int d = 0; d < opt.directions; ++d) {
      Tensor v = random_like(x, rng);
      const double h = opt.step;
      const Tensor saved = x;
      axpy(x, static_cast<float>(h), v);
      const double plus = eval();
      x = saved;
      axpy(x, static_cast<float>(-h), v);
      const double minus = eval();
      x = saved;
      const double fd = (plus - minus) / (2.0 * h);
      const double ad = dot(grad, v);
      // |<g, v>| is typically |g||v|/sqrt(n); the floor keeps round-off on
      // tiny directional derivatives from counting as errors.
      const double floor = opt.scale_floor * norm(grad) * norm(v) /
                               std::sqrt(static_cast<double>(std::max<int64_t>(v.numel(), 1))) +
                           1e-6;
      record(result, fd, ad, floor, opt.tolerance, what + " direction " + std::to_string(d));
    }
  };

  std::vector<Tensor> x = inputs;
  for (size_t i = 0; i < x.size(); ++i)
    check_direction(x[i], grads.inputs[i], "input '" + g.node(g.inputs()[i]).name + "'",
                    [&] { return objective(g, x, u); });
  if (opt.parameters)
    for (size_t p = 0; p < g.parameters().size(); ++p) {
      Parameter& param = g.parameters()[p];
      if (!param.trainable) continue;
      check_direction(param.value, grads.params[p], "parameter '" + param.name + "'",
                      [&] { return objective(g, inputs, u); });
    }
  return result;
}

namespace {

struct KindChecker {
  const Graph& g;
  const Node& node;
  std::string where;
  double tol;
  CheckResult result;

  /// xs[k] stands for the node's k-th input.
  OpArgs args(const std::vector<Tensor>& xs) const {
    size_t k = 0;
    return node_args(g, node, [&](NodeId) { return &xs.at(k++); });
  }

  Tensor run(const std::vector<Tensor>& xs, const Shape& out_shape) const {
    Tensor y(out_shape);
    node.op->forward(args(xs), y);
    return y;
  }

  void expect_close(const Tensor& a, const Tensor& b, const std::string& what) {
    double scale = 1e-6;
    for (int64_t i = 0; i < a.numel(); ++i) scale = std::max(scale, std::fabs(double(b[i])));
    const double err = max_abs_diff(a, b) / scale;
    result.max_error = std::max(result.max_error, err);
    if (!(err <= tol)) {
      result.ok = false;
      result.report += where + ": " + what + " (relative error " + std::to_string(err) + ")\n";
    }
  }
};

std::vector<Tensor> scaled_sum(const std::vector<Tensor>& a, float alpha, const std::vector<Tensor>& b,
                               float beta) {
  std::vector<Tensor> out = a;
  for (size_t i = 0; i < out.size(); ++i)
    for (int64_t k = 0; k < out[i].numel(); ++k) out[i][k] = alpha * a[i][k] + beta * b[i][k];
  return out;
}

}  // namespace

CheckResult check_kind(const Graph& g, NodeId id, const std::vector<Tensor>& inputs,
                       const KindcheckOptions& opt) {
  const Node& node = g.node(id);
  KindChecker c{g, node, g.describe(id) + " (" + kind_name(node.op->kind()) + ")", opt.tolerance, {}};
  Workspace ws;
  forward(g, ws, inputs);
  std::vector<Tensor> x;
  for (NodeId i : node.inputs) x.push_back(ws.value(i));
  const Shape out_shape = ws.value(id).shape();
  const Tensor y = c.run(x, out_shape);

  Rng rng(opt.seed);
  std::vector<Tensor> x2, zeros;
  for (const Tensor& t : x) {
    x2.push_back(random_like(t, rng));
    zeros.emplace_back(t.shape());
  }
  const float alpha = 0.7f, beta = -1.3f;

  switch (node.op->kind()) {
    case Kind::Linear:
    case Kind::Structural: {
      const OpArgs a = c.args(x);
      Tensor unbiased(out_shape), bias(out_shape);
      node.op->forward_unbiased(a, unbiased);
      node.op->add_bias(a, bias);
      Tensor sum = unbiased;
      axpy(sum, 1.0f, bias);
      c.expect_close(sum, y, "forward != forward_unbiased + bias");
      c.expect_close(c.run(zeros, out_shape), bias, "forward(0) != bias");
      if (!node.op->has_bias(a)) c.expect_close(bias, Tensor(out_shape), "has_bias() false but bias nonzero");
      if (node.op->kind() == Kind::Structural && node.op->has_bias(a)) {
        c.result.ok = false;
        c.result.report += c.where + ": a Structural op has a bias\n";
      }
      Tensor lhs(out_shape), u1(out_shape), u2(out_shape);
      node.op->forward_unbiased(c.args(scaled_sum(x, alpha, x2, beta)), lhs);
      node.op->forward_unbiased(c.args(x2), u2);
      Tensor rhs = unbiased;
      for (int64_t k = 0; k < rhs.numel(); ++k) rhs[k] = alpha * unbiased[k] + beta * u2[k];
      c.expect_close(lhs, rhs, "A(αx + βz) != αA(x) + βA(z): not linear");
      break;
    }
    case Kind::Sum: {
      Tensor s(out_shape);
      for (const Tensor& t : x) axpy(s, 1.0f, t);
      c.expect_close(y, s, "output is not the sum of the inputs");
      break;
    }
    case Kind::Elementwise: {
      const Tensor& in = x.at(0);
      Tensor phi(in.shape()), dphi(in.shape());
      node.op->phi(in.data(), phi.data(), in.numel());
      c.expect_close(y, phi, "forward != φ(x)");
      node.op->dphi(in.data(), dphi.data(), in.numel());
      // φ' against central differences of φ, away from kinks near 0; the step
      // shrinks near 0 so that curved φ (x^-½, 1/x, log) stay resolved.
      Tensor fd(in.shape()), ad(in.shape());
      for (int64_t k = 0; k < in.numel(); ++k) {
        const float h = std::min(1e-2f, 0.05f * std::fabs(in[k]));
        if (std::fabs(in[k]) < 5e-3f) continue;
        float xp = in[k] + h, xm = in[k] - h, yp, ym;
        node.op->phi(&xp, &yp, 1);
        node.op->phi(&xm, &ym, 1);
        fd[k] = (yp - ym) / (2 * h);
        ad[k] = dphi[k];
      }
      const double saved_tol = c.tol;
      c.tol = 1e-2;
      c.expect_close(fd, ad, "φ' disagrees with finite differences of φ");
      c.tol = saved_tol;
      // A ReLU-like claim (CD passes φ(rel)): φ(0) = 0 and φ(a·x) = a·φ(x), a ≥ 0.
      if (node.op->relu_like()) {
        float zero = 0.0f, phi0 = 1.0f;
        node.op->phi(&zero, &phi0, 1);
        Tensor scaled = in, phi_scaled(in.shape()), expected(in.shape());
        scaled.as_vector() *= 2.5f;
        node.op->phi(scaled.data(), phi_scaled.data(), in.numel());
        expected.as_vector() = phi.as_vector() * 2.5f;
        c.expect_close(Tensor({1}, std::vector<float>{phi0}), Tensor({1}), "relu_like but φ(0) != 0");
        c.expect_close(phi_scaled, expected, "relu_like but φ(2.5·x) != 2.5·φ(x)");
      }
      // Locality: changing one element changes only that output element.
      if (in.numel() > 1) {
        std::vector<Tensor> xp = x;
        const int64_t k = static_cast<int64_t>(rng.below(static_cast<uint64_t>(in.numel())));
        xp[0][k] += 1.0f;
        Tensor yp = c.run(xp, out_shape);
        yp[k] = y[k];
        c.expect_close(yp, y, "changing input element " + std::to_string(k) + " changed other outputs");
      }
      break;
    }
    case Kind::Selection: {
      std::vector<int64_t> index;
      node.op->select_indices(c.args(x), index);
      Tensor picked(out_shape);
      if (static_cast<int64_t>(index.size()) != picked.numel()) {
        c.result.ok = false;
        c.result.report += c.where + ": select_indices gave " + std::to_string(index.size()) +
                           " indices for " + std::to_string(picked.numel()) + " outputs\n";
        break;
      }
      for (int64_t j = 0; j < picked.numel(); ++j) picked[j] = x.at(0)[index[static_cast<size_t>(j)]];
      c.expect_close(picked, y, "y[j] != x[index[j]]");
      break;
    }
    case Kind::Product: {
      // Bilinear: linear in each input with the other fixed, zero when either is zero.
      for (size_t k = 0; k < x.size() && k < 2; ++k) {
        std::vector<Tensor> mixed = x, other = x, zero = x;
        for (int64_t i = 0; i < x[k].numel(); ++i) mixed[k][i] = alpha * x[k][i] + beta * x2[k][i];
        other[k] = x2[k];
        zero[k] = zeros[k];
        const Tensor lhs = c.run(mixed, out_shape), yo = c.run(other, out_shape);
        Tensor rhs(out_shape);
        for (int64_t i = 0; i < rhs.numel(); ++i) rhs[i] = alpha * y[i] + beta * yo[i];
        c.expect_close(lhs, rhs, "B not linear in input " + std::to_string(k));
        c.expect_close(c.run(zero, out_shape), Tensor(out_shape), "B(…, 0, …) != 0 for input " + std::to_string(k));
      }
      break;
    }
    case Kind::Cell: {
      // DeepLIFT's rule is complete: Σ_k <m_k, x_k − x2_k> = <u, y(x) − y(x2)>.
      const Tensor y2 = c.run(x2, out_shape);
      Tensor u = random_like(y, rng);
      std::vector<Tensor> m;
      OpGrads og;
      for (const Tensor& t : x) m.emplace_back(t.shape());
      for (Tensor& t : m) og.inputs.push_back(&t);
      og.params.assign(node.params.size(), nullptr);
      node.op->deeplift_backward(c.args(x), c.args(x2), u, og, 1e-6f);
      double lhs = 0.0, rhs = 0.0;
      for (size_t k = 0; k < x.size(); ++k)
        for (int64_t i = 0; i < x[k].numel(); ++i) lhs += double(m[k][i]) * (x[k][i] - x2[k][i]);
      for (int64_t i = 0; i < y.numel(); ++i) rhs += double(u[i]) * (y[i] - y2[i]);
      c.expect_close(Tensor({1}, std::vector<float>{float(lhs)}), Tensor({1}, std::vector<float>{float(rhs)}),
                     "DeepLIFT rule not complete");
      // CD with everything relevant gives the forward.
      Tensor all(out_shape);
      node.op->cd_forward(c.args(x), c.args(x), all);
      c.expect_close(all, y, "CD with every input relevant != forward");
      break;
    }
    case Kind::Opaque: break;
  }
  return c.result;
}

}  // namespace trim
