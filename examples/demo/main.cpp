// trim demo (placeholder until the cosmology demo lands): which frequencies did
// the model use?
//
// Signals of length 64 are drawn in the DCT domain with a 1/f-like spectrum;
// in class 1, frequency k0 carries an extra component of random sign. An MLP is
// trained on the raw signals with trim's own training code. TRIM then explains
// the model in the frequency domain: it evaluates f(D^T s) — the model composed
// with the inverse orthonormal DCT, itself just a Linear graph node — and
// attributes the class-1 logit to the coefficients s with input × gradient.
// The frequency the model relies on should stand out; in signal space the
// same attribution is spread over every sample.
#include <trim/trim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

using namespace trim;

namespace {

constexpr int64_t kLen = 64;
constexpr int64_t kSignalFreq = 11;

/// Orthonormal DCT-II matrix D[k][n]: s = D x, x = Dᵀ s.
Tensor dct_matrix() {
  Tensor d({kLen, kLen});
  for (int64_t k = 0; k < kLen; ++k)
    for (int64_t n = 0; n < kLen; ++n)
      d.at({k, n}) = static_cast<float>(std::sqrt((k == 0 ? 1.0 : 2.0) / kLen) *
                                        std::cos(M_PI * (n + 0.5) * k / kLen));
  return d;
}

struct Data {
  Tensor coeffs, signals, labels;
};

Data make_data(int64_t count, const Tensor& dct, uint64_t seed) {
  Rng rng(seed);
  Data d{Tensor({count, kLen}), Tensor({count, kLen}), Tensor({count})};
  for (int64_t i = 0; i < count; ++i) {
    const bool positive = rng.uniform() < 0.5;
    d.labels[i] = positive ? 1.0f : 0.0f;
    for (int64_t k = 0; k < kLen; ++k)
      d.coeffs.at({i, k}) = rng.normal(0.0f, 1.0f / (1.0f + static_cast<float>(k) / 8.0f));
    if (positive) d.coeffs.at({i, kSignalFreq}) += rng.uniform() < 0.5 ? 2.5f : -2.5f;
  }
  // x = Dᵀ s for every row: X = S D.
  d.signals.as_matrix() = d.coeffs.as_matrix() * dct.as_matrix();
  return d;
}

/// The classifier, applied to node `x` of `g`.
NodeId classifier(Graph& g, NodeId x) {
  NodeId h = nn::relu(g, nn::linear(g, x, 64, "fc1"));
  h = nn::relu(g, nn::linear(g, h, 32, "fc2"));
  return nn::linear(g, h, 2, "fc3");
}

/// Mean over class-1 examples of |input × gradient of the class-1 logit|.
std::vector<double> mean_abs_input_x_gradient(const Graph& g, const Tensor& inputs, const Tensor& labels) {
  Workspace ws;
  forward(g, ws, {inputs});
  Tensor cot(ws.value(g.outputs()[0]).shape());
  for (int64_t i = 0; i < cot.dim(0); ++i) cot.at({i, 1}) = 1.0f;
  const Tensor grad = backward(g, ws, {cot}).inputs[0];
  std::vector<double> score(kLen, 0.0);
  int64_t positives = 0;
  for (int64_t i = 0; i < inputs.dim(0); ++i) {
    if (labels[i] < 0.5f) continue;
    ++positives;
    for (int64_t k = 0; k < kLen; ++k) score[k] += std::fabs(inputs.at({i, k}) * grad.at({i, k}));
  }
  for (double& s : score) s /= static_cast<double>(std::max<int64_t>(positives, 1));
  return score;
}

void print_bars(const char* title, const std::vector<double>& score, int64_t shown) {
  const double top = *std::max_element(score.begin(), score.end());
  std::printf("\n%s\n", title);
  for (int64_t k = 0; k < shown; ++k) {
    const int width = static_cast<int>(50.0 * score[k] / top + 0.5);
    std::printf("  %3ld %8.4f %s\n", static_cast<long>(k), score[k], std::string(width, '#').c_str());
  }
}

}  // namespace

int main() {
  const auto start = std::chrono::steady_clock::now();
  const Tensor dct = dct_matrix();
  const Data train_set = make_data(4000, dct, 1), test_set = make_data(1000, dct, 2);
  std::printf("trim demo: which frequency does a classifier use?\n");
  std::printf("  %ld training / %ld test signals of length %ld; class 1 has extra power at DCT frequency %ld\n",
              static_cast<long>(train_set.signals.dim(0)), static_cast<long>(test_set.signals.dim(0)),
              static_cast<long>(kLen), static_cast<long>(kSignalFreq));

  // 1. Train the classifier on raw signals.
  Graph model(7);
  model.set_outputs({classifier(model, nn::input(model, "x", {kLen}))});
  model.finalize();
  train::Adam adam(3e-3);
  train::FitOptions opt;
  opt.epochs = 15;
  opt.batch_size = 64;
  opt.seed = 3;
  opt.on_epoch = [](const train::EpochReport& r) {
    if ((r.epoch + 1) % 5 == 0) std::printf("  epoch %2d/%d  loss %.4f\n", r.epoch + 1, r.epochs, r.loss);
  };
  train::fit(model, train_set.signals, train_set.labels, train::LossKind::CrossEntropy, adam, opt);
  const double acc = train::accuracy(train::predict(model, test_set.signals), test_set.labels);
  std::printf("  held-out accuracy: %.1f %%\n", 100.0 * acc);

  // 2. The TRIM model f'(s) = f(Dᵀ s): the inverse DCT is a Linear node
  //    (weight D^T, no bias) in front of the same classifier.
  Graph trim_model(0);
  const NodeId s = nn::input(trim_model, "s", {kLen});
  const NodeId x = nn::linear(trim_model, s, kLen, "idct", false);
  trim_model.set_outputs({classifier(trim_model, x)});
  trim_model.finalize();
  Tensor dct_t({kLen, kLen});
  dct_t.as_matrix() = dct.as_matrix().transpose();
  trim_model.set_parameter("idct.weight", dct_t);
  for (const Parameter& p : model.parameters()) trim_model.set_parameter(p.name, p.value);
  const Tensor same = trim_model.evaluate(test_set.coeffs);
  const Tensor direct = model.evaluate(test_set.signals);
  std::printf("  f(D^T s) reproduces f(x): max |difference| = %.2e\n", max_abs_diff(same, direct));

  // 3. Attribute in both spaces.
  const std::vector<double> freq = mean_abs_input_x_gradient(trim_model, test_set.coeffs, test_set.labels);
  const std::vector<double> pixel = mean_abs_input_x_gradient(model, test_set.signals, test_set.labels);
  print_bars("TRIM (input x gradient) per DCT frequency, class-1 logit, first 24 frequencies:", freq, 24);
  std::vector<int64_t> order(kLen);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return freq[a] > freq[b]; });
  std::printf("  top frequencies: %ld %ld %ld  (planted: %ld) -> %s\n", static_cast<long>(order[0]),
              static_cast<long>(order[1]), static_cast<long>(order[2]), static_cast<long>(kSignalFreq),
              order[0] == kSignalFreq ? "found" : "NOT found");
  const double pmax = *std::max_element(pixel.begin(), pixel.end());
  const double pmean = std::accumulate(pixel.begin(), pixel.end(), 0.0) / kLen;
  std::printf("  in signal space the same attribution is spread out: max/mean over samples = %.1f "
              "(frequency space: %.1f)\n",
              pmax / pmean, freq[order[0]] / (std::accumulate(freq.begin(), freq.end(), 0.0) / kLen));
  std::printf("  done in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return order[0] == kSignalFreq && acc > 0.9 ? 0 : 1;
}
