#include "trim/graph/ops/recurrent.hpp"

#include <Eigen/Core>
#include <cmath>

#include "trim/core/error.hpp"

namespace trim::ops {

namespace {

float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

/// Gate offsets in ONNX's order i, o, f, c.
enum Gate : int64_t { kI = 0, kO = 1, kF = 2, kC = 3 };

/// The rescale multiplier Δφ/Δa of φ between a and a0, φ'(a) when they are
/// closer than eps.
float rescale(float a, float a0, float fa, float fa0, float slope, float eps) {
  const float d = a - a0;
  return std::fabs(d) >= eps ? (fa - fa0) / d : slope;
}

/// acd's decomp_three: Shapley values of r and q in φ(r + q + b) with the
/// bias b as the third player (whose value is φ(b)).
void decomp_three(float r, float q, float b, float (*phi)(float), float& rc, float& qc, float& bc) {
  const float all = phi(r + q + b), pb = phi(b), prb = phi(r + b), pqb = phi(q + b);
  rc = 0.5f * ((prb - pb) + (all - pqb));
  qc = 0.5f * ((pqb - pb) + (all - prb));
  bc = pb;
}

float tanh_f(float v) { return std::tanh(v); }

using Row = Eigen::Map<const Eigen::ArrayXf>;

/// Gate g's pre-activation of row n: zx + zh + b (H values), vectorised.
Eigen::ArrayXf pre_activation(const OpArgs& a, int64_t n, int64_t g, int64_t H) {
  return Row(a.input(0).data() + n * 4 * H + g * H, H) + Row(a.input(1).data() + n * 4 * H + g * H, H) +
         Row(a.param(0).data() + g * H, H);
}

}  // namespace

Shape LstmStep::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                            const std::string& where) const {
  if (in.size() != 3 || params.size() != 1)
    throw ShapeError(where + ": expected inputs (zx, zh, state) and one parameter (bias)");
  const Shape& zx = in[0];
  if (zx.rank() != 2 || zx[1] % 4 != 0 || zx[1] < 4)
    throw ShapeError(where + ": gate pre-activations " + zx.str() + " must be [N, 4H]");
  const int64_t H = zx[1] / 4;
  if (in[1] != zx) throw ShapeError(where + ": recurrent pre-activations " + in[1].str() + " must match " + zx.str());
  if (in[2].rank() != 2 || in[2][1] != H)
    throw ShapeError(where + ": state " + in[2].str() + " must be [N, " + std::to_string(H) + "]");
  if (params[0].rank() != 1 || params[0][0] != 4 * H)
    throw ShapeError(where + ": bias " + params[0].str() + " must be [" + std::to_string(4 * H) + "]");
  return in[2];
}

// ---- LstmCell --------------------------------------------------------------------

void LstmCell::forward(const OpArgs& a, Tensor& y) const {
  const int64_t N = y.dim(0), H = y.dim(1);
  for (int64_t n = 0; n < N; ++n)
    Eigen::Map<Eigen::ArrayXf>(y.data() + n * H, H) =
        pre_activation(a, n, kF, H).logistic() * Row(a.input(2).data() + n * H, H) +
        pre_activation(a, n, kI, H).logistic() * pre_activation(a, n, kC, H).tanh();
}

void LstmCell::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& gr) const {
  Tensor *gx = gr.input(0), *gh = gr.input(1), *gc = gr.input(2), *gb = gr.param(0);
  const int64_t N = dy.dim(0), H = dy.dim(1);
  using Out = Eigen::Map<Eigen::ArrayXf>;
  for (int64_t n = 0; n < N; ++n) {
    const Eigen::ArrayXf i = pre_activation(a, n, kI, H).logistic(), f = pre_activation(a, n, kF, H).logistic();
    const Eigen::ArrayXf g = pre_activation(a, n, kC, H).tanh();
    const Row d(dy.data() + n * H, H), cp(a.input(2).data() + n * H, H);
    const Eigen::ArrayXf dpre[3] = {d * g * i * (1 - i), d * cp * f * (1 - f), d * i * (1 - g * g)};
    const int64_t gate[3] = {kI, kF, kC};
    for (int k = 0; k < 3; ++k) {
      const int64_t off = n * 4 * H + gate[k] * H;
      if (gx) Out(gx->data() + off, H) += dpre[k];
      if (gh) Out(gh->data() + off, H) += dpre[k];
      if (gb) Out(gb->data() + gate[k] * H, H) += dpre[k];
    }
    if (gc) Out(gc->data() + n * H, H) += d * f;
  }
}

void LstmCell::deeplift_backward(const OpArgs& x, const OpArgs& x0, const Tensor& dy, const OpGrads& gr,
                                 float eps) const {
  const Tensor &b = x.param(0);
  Tensor *gx = gr.input(0), *gh = gr.input(1), *gc = gr.input(2);
  const int64_t N = dy.dim(0), H = dy.dim(1);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t j = 0; j < H; ++j) {
      auto pre = [&](const OpArgs& s, int64_t g) {
        return s.input(0)[n * 4 * H + g * H + j] + s.input(1)[n * 4 * H + g * H + j] + b[g * H + j];
      };
      const float ai = pre(x, kI), af = pre(x, kF), ag = pre(x, kC);
      const float bi = pre(x0, kI), bf = pre(x0, kF), bg = pre(x0, kC);
      const float i = sigmoid(ai), f = sigmoid(af), g = std::tanh(ag);
      const float i0 = sigmoid(bi), f0 = sigmoid(bf), g0 = std::tanh(bg);
      const float c = x.input(2)[n * H + j], c0 = x0.input(2)[n * H + j];
      const float d = dy[n * H + j];
      // Δc = Δf·(c + c0)/2 + (f + f0)/2·Δc_prev + Δi·(g + g0)/2 + (i + i0)/2·Δg,
      // each Δgate = rescale multiplier · Δpre-activation.
      const float mi = rescale(ai, bi, i, i0, i * (1 - i), eps);
      const float mf = rescale(af, bf, f, f0, f * (1 - f), eps);
      const float mg = rescale(ag, bg, g, g0, 1 - g * g, eps);
      const float dpre[4] = {d * 0.5f * (g + g0) * mi, 0.0f, d * 0.5f * (c + c0) * mf, d * 0.5f * (i + i0) * mg};
      for (int64_t k = 0; k < 4; ++k) {
        if (gx) (*gx)[n * 4 * H + k * H + j] += dpre[k];
        if (gh) (*gh)[n * 4 * H + k * H + j] += dpre[k];
      }
      if (gc) (*gc)[n * H + j] += d * 0.5f * (f + f0);
    }
  }
}

void LstmCell::cd_forward(const OpArgs& rel, const OpArgs& tot, Tensor& y) const {
  const Tensor& b = rel.param(0);
  const int64_t N = y.dim(0), H = y.dim(1);
  auto sig = [](float v) { return sigmoid(v); };
  for (int64_t n = 0; n < N; ++n) {
    const float* rx = rel.input(0).data() + n * 4 * H;
    const float* rh = rel.input(1).data() + n * 4 * H;
    const float* tx = tot.input(0).data() + n * 4 * H;
    const float* th = tot.input(1).data() + n * 4 * H;
    // How much of this step's input is relevant (1 or 0 for a span of steps).
    double p_rel = 1e-20, p_irrel = 1e-20;
    for (int64_t k = 0; k < 4 * H; ++k) {
      p_rel += std::fabs(rx[k]);
      p_irrel += std::fabs(tx[k] - rx[k]);
    }
    const float w = static_cast<float>(p_rel / (p_rel + p_irrel));
    for (int64_t j = 0; j < H; ++j) {
      float r[4], q[4];
      for (int64_t g = 0; g < 4; ++g) {
        r[g] = rx[g * H + j] + rh[g * H + j];
        q[g] = tx[g * H + j] + th[g * H + j] - r[g];
      }
      float ri, qi, bi, rf, qf, bf, rg, qg, bg;
      decomp_three(r[kI], q[kI], b[kI * H + j], +sig, ri, qi, bi);
      decomp_three(r[kF], q[kF], b[kF * H + j], +sig, rf, qf, bf);
      decomp_three(r[kC], q[kC], b[kC * H + j], &tanh_f, rg, qg, bg);
      (void)qi;
      (void)qg;
      (void)qf;
      const float c_rel = rel.input(2)[n * H + j];
      y[n * H + j] = ri * (rg + bg) + bi * rg + w * bi * bg + (rf + bf) * c_rel;
    }
  }
}

// ---- LstmHidden ------------------------------------------------------------------

void LstmHidden::forward(const OpArgs& a, Tensor& y) const {
  const int64_t N = y.dim(0), H = y.dim(1);
  for (int64_t n = 0; n < N; ++n)
    Eigen::Map<Eigen::ArrayXf>(y.data() + n * H, H) =
        pre_activation(a, n, kO, H).logistic() * Row(a.input(2).data() + n * H, H).tanh();
}

void LstmHidden::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& gr) const {
  Tensor *gx = gr.input(0), *gh = gr.input(1), *gc = gr.input(2), *gb = gr.param(0);
  const int64_t N = dy.dim(0), H = dy.dim(1);
  using Out = Eigen::Map<Eigen::ArrayXf>;
  for (int64_t n = 0; n < N; ++n) {
    const Eigen::ArrayXf o = pre_activation(a, n, kO, H).logistic();
    const Eigen::ArrayXf t = Row(a.input(2).data() + n * H, H).tanh();
    const Row d(dy.data() + n * H, H);
    const Eigen::ArrayXf dpre = d * t * o * (1 - o);
    const int64_t off = n * 4 * H + kO * H;
    if (gx) Out(gx->data() + off, H) += dpre;
    if (gh) Out(gh->data() + off, H) += dpre;
    if (gb) Out(gb->data() + kO * H, H) += dpre;
    if (gc) Out(gc->data() + n * H, H) += d * o * (1 - t * t);
  }
}

void LstmHidden::deeplift_backward(const OpArgs& x, const OpArgs& x0, const Tensor& dy, const OpGrads& gr,
                                   float eps) const {
  const Tensor& b = x.param(0);
  Tensor *gx = gr.input(0), *gh = gr.input(1), *gc = gr.input(2);
  const int64_t N = dy.dim(0), H = dy.dim(1);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = n * 4 * H + kO * H + j;
      const float a = x.input(0)[k] + x.input(1)[k] + b[kO * H + j];
      const float a0 = x0.input(0)[k] + x0.input(1)[k] + b[kO * H + j];
      const float c = x.input(2)[n * H + j], c0 = x0.input(2)[n * H + j];
      const float o = sigmoid(a), o0 = sigmoid(a0), t = std::tanh(c), t0 = std::tanh(c0);
      const float mo = rescale(a, a0, o, o0, o * (1 - o), eps);
      const float mt = rescale(c, c0, t, t0, 1 - t * t, eps);
      const float d = dy[n * H + j];
      // Δh = Δo·(t + t0)/2 + (o + o0)/2·Δt.
      if (gx) (*gx)[k] += d * 0.5f * (t + t0) * mo;
      if (gh) (*gh)[k] += d * 0.5f * (t + t0) * mo;
      if (gc) (*gc)[n * H + j] += d * 0.5f * (o + o0) * mt;
    }
}

void LstmHidden::cd_forward(const OpArgs& rel, const OpArgs& tot, Tensor& y) const {
  const Tensor& b = rel.param(0);
  const int64_t N = y.dim(0), H = y.dim(1);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = n * 4 * H + kO * H + j;
      const float o = sigmoid(tot.input(0)[k] + tot.input(1)[k] + b[kO * H + j]);
      const float c = tot.input(2)[n * H + j], cr = rel.input(2)[n * H + j];
      y[n * H + j] = o * 0.5f * (std::tanh(cr) + (std::tanh(c) - std::tanh(c - cr)));
    }
}

}  // namespace trim::ops
