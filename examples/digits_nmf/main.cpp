// digits_nmf: which learned parts of a digit does a classifier look at?
//
// scikit-learn's digits (1797 images of 8×8 pixels) are factorised by NMF
// into 16 non-negative parts ("strokes"). An MLP is trained on the raw pixels
// with trim's own training code. TRIM then explains the trained MLP in NMF
// space: f'(s) = f(s·H + r), where s are an image's 16 codes, H the NMF
// components and r = x − s·H the residual the 16 parts miss (held fixed, so
// f'(s) = f(x) exactly). Integrated gradients of each test image's own class
// logit, averaged over the test images of that class, give a per-class
// importance of every component. An ablation check confirms the ranking on
// the model itself: removing the three most important parts of an image's
// class must hurt accuracy badly, removing the three least important must not.
//
// Usage: trim-digits-nmf [output directory for the PNG figures, default "."]
#include <trim/trim.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "digits.hpp"
#include "example.hpp"

using namespace trim;

namespace {

constexpr int kComponents = 16;
constexpr int kTop = 3;  // parts removed by the ablation check

/// The classifier: 64 pixels -> 10 class logits.
Graph make_mlp(uint64_t seed) {
  Graph g(seed);
  NodeId h = nn::input(g, "x", {digits::kPixels});
  h = nn::relu(g, nn::linear(g, h, 64, "fc1"));
  h = nn::relu(g, nn::linear(g, h, 32, "fc2"));
  g.set_outputs({nn::linear(g, h, digits::kClasses, "fc3")});
  g.finalize();
  return g;
}

/// importance[c][k]: mean over the test images of class c of the
/// attribution of their own logit to component k. `attr` is [N, components].
std::vector<std::vector<double>> per_class_importance(const Tensor& attr, const Tensor& labels) {
  const int64_t n = labels.dim(0);
  std::vector<std::vector<double>> imp(digits::kClasses, std::vector<double>(kComponents, 0.0));
  std::vector<int64_t> count(digits::kClasses, 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto c = static_cast<size_t>(labels[i]);
    ++count[c];
    for (int k = 0; k < kComponents; ++k) imp[c][k] += attr[i * kComponents + k];
  }
  for (size_t c = 0; c < imp.size(); ++c)
    for (double& v : imp[c]) v /= static_cast<double>(std::max<int64_t>(count[c], 1));
  return imp;
}

/// Accuracy of the TRIM model when, for each image, the codes of the
/// components chosen for its class (`drop[c]`) are set to zero. The residual
/// stays, so only those parts of the image disappear.
double accuracy_without(const TrimModel& tm, const Tensor& s, const Tensor& r, const Tensor& labels,
                        const std::vector<std::vector<int>>& drop) {
  Tensor cut = s;
  for (int64_t i = 0; i < labels.dim(0); ++i)
    for (int k : drop[static_cast<size_t>(labels[i])]) cut[i * kComponents + k] = 0.0f;
  return train::accuracy(tm.forward(cut, &r), labels);
}

void print_table(const std::vector<std::vector<double>>& imp) {
  std::printf("\nPer-class importance of each NMF component (mean IG of the class logit over the test images of "
              "that class)\n");
  std::printf("class");
  for (int k = 0; k < kComponents; ++k) std::printf("  c%-3d", k);
  std::printf("  top 3\n");
  for (size_t c = 0; c < imp.size(); ++c) {
    std::printf("  %zu  ", c);
    for (int k = 0; k < kComponents; ++k) std::printf("%6.2f", imp[c][k]);
    const std::vector<int> order = example::ranking(imp[c]);
    std::printf("  c%d c%d c%d\n", order[0], order[1], order[2]);
  }
}

/// The components, most important first (mean importance over the classes),
/// and the class × component importance heatmap.
void write_figures(const std::string& dir, const NMF& nmf, const std::vector<std::vector<double>>& imp) {
  if (!example::can_plot()) return;
  std::vector<double> overall(kComponents, 0.0);
  for (const auto& row : imp)
    for (int k = 0; k < kComponents; ++k) overall[k] += row[k] / digits::kClasses;

  io::ImageGridPlot grid;
  grid.figure.title = "NMF components by importance (mean IG over the classes)";
  grid.figure.width = 780;
  grid.figure.height = 660;
  grid.rows = grid.cols = digits::kSide;
  grid.columns = 4;
  grid.colorbar_label = "component / its largest pixel";
  for (int k : example::ranking(overall)) {
    // NMF leaves the scale between codes and components free, so components
    // differ in size by orders of magnitude: show each one's shape.
    const auto row = nmf.components().row(k);
    std::vector<double> image(row.data(), row.data() + row.size());
    const double top = std::max(*std::max_element(image.begin(), image.end()), 1e-12);
    for (double& v : image) v /= top;
    grid.images.push_back(image);
    char caption[32];
    std::snprintf(caption, sizeof caption, "c%d: %.2f", k, overall[k]);
    grid.captions.emplace_back(caption);
  }
  const std::string components_png = dir + "/digits_nmf_components.png";
  io::plot_image_grid(components_png, grid);

  io::HeatmapPlot heat;
  heat.figure.title = "Importance of each NMF component for each class (IG)";
  heat.figure.width = 800;
  heat.figure.height = 480;
  heat.rows = digits::kClasses;
  heat.cols = kComponents;
  // Row 0 is drawn at the top: put class 9 there so that the y axis counts up.
  for (int64_t c = digits::kClasses - 1; c >= 0; --c)
    heat.values.insert(heat.values.end(), imp[c].begin(), imp[c].end());
  heat.x = {"NMF component", -0.5, kComponents - 0.5, false};
  heat.y = {"class", -0.5, digits::kClasses - 0.5, false};
  heat.colorbar_label = "mean IG of the class logit";
  const std::string heatmap_png = dir + "/digits_nmf_importance.png";
  io::plot_heatmap(heatmap_png, heat);
  std::printf("  wrote %s and %s\n", components_png.c_str(), heatmap_png.c_str());
}

int run(const std::string& out_dir) {
  const example::Stopwatch clock;
  example::Checks checks;
  std::printf("digits_nmf: per-class importance of NMF components for an MLP digit classifier\n");

  // 1. Data: 1797 images, 75 % for training.
  const digits::Split data = digits::load(DIGITS_IMAGES, DIGITS_LABELS, /*seed=*/42);
  example::step(clock, "%ld training / %ld test images of 8x8 pixels", static_cast<long>(data.train_x.dim(0)),
                static_cast<long>(data.test_x.dim(0)));

  // 2. NMF with 16 components, fitted on the training images only.
  NmfOptions nmf_options;
  nmf_options.n_components = kComponents;
  nmf_options.max_iter = 400;
  nmf_options.seed = 0;
  NMF nmf(nmf_options);
  nmf.fit(to_matrix(data.train_x));
  auto transform = std::make_shared<DictionaryTransform>(nmf.dictionary(), Shape{digits::kPixels});
  example::step(clock, "NMF: %d components, %d iterations", nmf.n_components(), nmf.n_iter());

  // 3. The MLP, trained on raw pixels.
  Graph mlp = make_mlp(/*seed=*/7);
  example::train_adam(mlp, data.train_x, data.train_y, train::loss_function(train::LossKind::CrossEntropy),
                      {/*epochs=*/60, /*batch_size=*/32, /*lr=*/2e-3, /*seed=*/3, /*report_every=*/15}, clock);
  const double accuracy = train::accuracy(train::predict(mlp, data.test_x), data.test_y);
  example::step(clock, "MLP 64-64-32-10: test accuracy %.1f %%", 100.0 * accuracy);

  // 4. TRIM: the MLP seen from the NMF codes, with the residual held fixed.
  const TrimModel tm(mlp, transform);
  const Tensor s = tm.coefficients(data.test_x);
  const Tensor r = tm.residual(data.test_x);
  const float same = max_abs_diff(tm.forward(s, &r), mlp.evaluate(data.test_x));
  const double residual_share =
      std::pow(static_cast<double>(r.as_vector().norm() / data.test_x.as_vector().norm()), 2);
  example::step(clock, "TRIM model f(s·H + r) reproduces f(x) to %.1e; the residual r holds %.1f %% of the test "
                "images' energy", same, 100.0 * residual_share);

  IntegratedGradientsOptions ig;
  ig.n_steps = 64;
  const example::OwnClassScores own = example::explain_own_class(tm.graph(), s, {r}, data.test_y, ig);
  const example::Completeness& complete = own.completeness;
  example::step(clock, "integrated gradients of each image's own logit (zero codes as baseline, %d steps): "
                "max |delta| %.3f = %.1f %% of the rms output change %.2f",
                ig.n_steps, complete.max_delta, 100.0 * complete.relative(), complete.output_scale);

  const auto imp = per_class_importance(own.attributions, data.test_y);
  print_table(imp);

  // 5. Does the ranking matter to the model? Remove parts per class.
  std::vector<std::vector<int>> most(digits::kClasses), least(digits::kClasses);
  for (size_t c = 0; c < imp.size(); ++c) {
    const std::vector<int> order = example::ranking(imp[c]);
    most[c].assign(order.begin(), order.begin() + kTop);
    least[c].assign(order.end() - kTop, order.end());
  }
  const double acc_most = accuracy_without(tm, s, r, data.test_y, most);
  const double acc_least = accuracy_without(tm, s, r, data.test_y, least);
  std::printf("\nAblation (codes set to 0, residual kept): test accuracy %.1f %% with all parts, %.1f %% without the "
              "%d most important parts of each image's class, %.1f %% without the %d least important\n",
              100.0 * accuracy, 100.0 * acc_most, kTop, 100.0 * acc_least, kTop);

  write_figures(out_dir, nmf, imp);

  std::printf("\nChecks:\n");
  checks.expect(accuracy > 0.9, "the MLP classifies more than 90 % of the test images");
  checks.expect(same < 1e-4f, "f(s·H + r) = f(x): the residual makes the TRIM model exact");
  // See example::Completeness: 2 % of the output scale leaves room for the
  // quadrature of a ReLU net and none for a real error.
  checks.expect(complete.relative() < 0.02, "integrated gradients add up to F(x) - F(baseline) within 2 % of the "
                                            "output scale");
  checks.expect(accuracy - acc_most > 0.25, "removing each class's 3 most important parts costs > 25 points");
  checks.expect(accuracy - acc_least < 0.05, "removing its 3 least important parts costs < 5 points");
  return checks.finish(clock);
}

}  // namespace

int main(int argc, char** argv) {
  return example::main_with_output_dir(argc, argv, "trim-digits-nmf", run);
}
