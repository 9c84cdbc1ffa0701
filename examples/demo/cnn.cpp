// The regression CNN, its targets and its training loop.
#include <cmath>
#include <cstdio>

#include "demo.hpp"
#include "example.hpp"

namespace demo {

using trim::NodeId;
using trim::Tensor;
namespace nn = trim::nn;

TargetScaler TargetScaler::fit(const MapSet& train) {
  TargetScaler s;
  const double n = static_cast<double>(train.count());
  for (int col = 0; col < 2; ++col) {
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < train.count(); ++i) {
      const double v = col == 0 ? std::log(train.a[i]) : train.b[i];
      sum += v;
      sum2 += v * v;
    }
    s.mean[col] = sum / n;
    s.scale[col] = std::sqrt(std::max(sum2 / n - s.mean[col] * s.mean[col], 1e-12));
  }
  return s;
}

Tensor TargetScaler::transform(const MapSet& set) const {
  Tensor y({set.count(), 2});
  for (int64_t i = 0; i < set.count(); ++i) {
    y.at({i, 0}) = static_cast<float>((std::log(set.a[i]) - mean[0]) / scale[0]);
    y.at({i, 1}) = static_cast<float>((set.b[i] - mean[1]) / scale[1]);
  }
  return y;
}

Tensor TargetScaler::parameters(const Tensor& standardised) const {
  Tensor p({standardised.dim(0), 2});
  for (int64_t i = 0; i < standardised.dim(0); ++i) {
    p.at({i, 0}) = static_cast<float>(std::exp(standardised.at({i, 0}) * scale[0] + mean[0]));
    p.at({i, 1}) = static_cast<float>(standardised.at({i, 1}) * scale[1] + mean[1]);
  }
  return p;
}

Tensor true_parameters(const MapSet& set) {
  Tensor p({set.count(), 2});
  for (int64_t i = 0; i < set.count(); ++i) {
    p.at({i, 0}) = static_cast<float>(set.a[i]);
    p.at({i, 1}) = static_cast<float>(set.b[i]);
  }
  return p;
}

trim::Graph build_cnn(uint64_t seed, int64_t size) {
  trim::Graph g(seed);
  const NodeId x = nn::input(g, "map", {1, size, size});
  // Each filter passes some range of scales; ReLU then global averaging turns
  // its output into a number that grows with the power in that range (for a
  // Gaussian field, E[ReLU(z)] ∝ the standard deviation of z). Stride 2 only
  // thins the positions averaged over, so it costs no information here.
  nn::Conv2dOptions conv;
  conv.padding(2).strides(2);
  NodeId h = nn::relu(g, nn::conv2d(g, x, 16, {5, 5}, "conv", conv));
  h = nn::flatten(g, nn::global_avg_pool(g, h, "pool"));
  // The MLP compares band powers: B is the excess near k0 relative to the
  // power law that A sets.
  h = nn::relu(g, nn::linear(g, h, 32, "fc1"));
  const NodeId y = nn::linear(g, h, 2, "out");
  g.set_outputs({y});
  g.finalize();
  return g;
}

std::vector<double> r_squared(const Tensor& prediction, const Tensor& target) {
  const int64_t n = target.dim(0), k = target.dim(1);
  std::vector<double> r2(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += target.at({i, c});
    mean /= static_cast<double>(n);
    double residual = 0, total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double t = target.at({i, c}), p = prediction.at({i, c});
      residual += (t - p) * (t - p);
      total += (t - mean) * (t - mean);
    }
    r2[static_cast<size_t>(c)] = 1.0 - residual / total;
  }
  return r2;
}

std::vector<double> train_cnn(trim::Graph& cnn, const Tensor& train_maps, const Tensor& train_y,
                              const Tensor& test_maps, const Tensor& test_y, const TrainSettings& settings) {
  trim::train::Adam adam(settings.lr);
  trim::train::FitOptions fit;
  fit.epochs = settings.epochs;
  fit.batch_size = settings.batch_size;
  fit.seed = settings.seed;
  std::vector<double> r2;
  const example::Stopwatch clock;
  fit.on_epoch = [&](const trim::train::EpochReport& r) {
    r2 = r_squared(trim::train::predict(cnn, test_maps), test_y);
    std::printf("  epoch %2d/%d  lr %.1e  train loss %.4f  held-out R² log A %.3f  B %.3f  (%.0f s)\n",
                r.epoch + 1, r.epochs, adam.lr(), r.loss, r2[0], r2[1], clock.seconds());
    std::fflush(stdout);
    // Cosine decay: large steps to find the band structure, small ones to
    // settle the fine regression.
    const double progress = static_cast<double>(r.epoch + 1) / r.epochs;
    adam.set_lr(settings.lr * 0.5 * (1.0 + std::cos(3.14159265358979 * progress)) + 1e-5);
  };
  trim::train::fit(cnn, train_maps, train_y, trim::train::LossKind::MSE, adam, fit);
  return r2;
}

}  // namespace demo
