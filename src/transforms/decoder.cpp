// Learned decoders as transforms (`decoder:DECODER.onnx[:ENCODER.onnx]`):
// the decoder graph is T⁻¹, the encoder (or a least-squares fit) is T.
#include "trim/transforms/decoder.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "families.hpp"
#include "inverse_op.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/compose.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/io/onnx.hpp"

namespace trim {

namespace {

/// Per-example shape of a graph's first input or output (batch dropped).
Shape per_example(const Shape& s) {
  Shape r;
  for (int a = 1; a < s.rank(); ++a) r.push_back(s[a]);
  return r;
}

Shape input_of(const Graph& g) { return per_example(g.shape(g.inputs()[0])); }
Shape output_of(const Graph& g) { return per_example(g.shape(g.outputs()[0])); }

/// The decoder run as one op: [*, k] -> [*, input_shape...] (Kind::Opaque:
/// its backward is the decoder graph's backward).
class DecoderOp final : public Op {
 public:
  DecoderOp(std::shared_ptr<const Graph> decoder, Shape latent, Shape input_shape)
      : decoder_(std::move(decoder)), latent_(std::move(latent)), input_shape_(std::move(input_shape)) {}
  Kind kind() const override { return Kind::Opaque; }
  std::string type() const override { return "inverse_decoder"; }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const override {
    detail::check_batched(in.at(0), Shape{latent_.numel()}, where);
    return prepend({in[0][0]}, input_shape_);
  }
  void forward(const OpArgs& a, Tensor& y) const override {
    const Tensor out = decoder_->evaluate(a.input().reshaped(prepend({a.input().dim(0)}, latent_)));
    std::copy(out.begin(), out.end(), y.begin());
  }
  void backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& grads) const override {
    Tensor* ds = grads.input(0);
    if (!ds) return;
    const int64_t n = a.input().dim(0);
    Workspace ws;
    trim::forward(*decoder_, ws, {a.input().reshaped(prepend({n}, latent_))});
    const Tensor g = trim::backward(*decoder_, ws, {dy.reshaped(prepend({n}, output_of(*decoder_)))}).inputs.at(0);
    ds->as_vector() += g.as_vector();
  }
  bool backward_reads_output() const override { return false; }

 private:
  std::shared_ptr<const Graph> decoder_;
  Shape latent_, input_shape_;
};

std::shared_ptr<const Graph> load(const std::string& path, const std::string& where) {
  try {
    return std::make_shared<const Graph>(io::load_onnx(path));
  } catch (const Error& e) {
    throw IoError(where + ": " + e.what());
  }
}

}  // namespace

DecoderTransform::DecoderTransform(std::shared_ptr<const Graph> decoder, std::shared_ptr<const Graph> encoder,
                                   const Shape& input_shape, std::string spec, DecoderFit fit)
    : Transform(input_shape, Shape{decoder ? input_of(*decoder).numel() : 0}),
      decoder_(std::move(decoder)),
      encoder_(std::move(encoder)),
      spec_(std::move(spec)),
      fit_(fit) {
  const std::string where = "transform '" + spec_ + "'";
  if (!decoder_) throw ValueError(where + ": no decoder graph");
  for (const Graph* g : {decoder_.get(), encoder_.get()}) {
    if (!g) continue;
    const char* what = g == decoder_.get() ? "decoder" : "encoder";
    if (g->inputs().size() != 1 || g->outputs().size() != 1)
      throw ShapeError(where + ": the " + std::string(what) + " must have one input and one output, it has " +
                       std::to_string(g->inputs().size()) + " and " + std::to_string(g->outputs().size()));
    if (input_of(*g).has_free_dim() || output_of(*g).has_free_dim())
      throw ShapeError(where + ": the " + std::string(what) + "'s input " + input_of(*g).str() + " or output " +
                       output_of(*g).str() + " has a free axis besides the batch");
  }
  latent_shape_ = input_of(*decoder_);
  const int64_t n = input_shape.numel();
  if (output_of(*decoder_).numel() != n)
    throw ShapeError(where + ": the decoder gives " + output_of(*decoder_).str() + " per example, " +
                     std::to_string(output_of(*decoder_).numel()) + " values for examples of shape " +
                     input_shape.str() + " (" + std::to_string(n) + ")");
  if (encoder_) {
    if (input_of(*encoder_).numel() != n)
      throw ShapeError(where + ": the encoder takes " + input_of(*encoder_).str() + " per example, examples are " +
                       input_shape.str());
    if (output_of(*encoder_).numel() != latent_shape_.numel())
      throw ShapeError(where + ": the encoder gives " + output_of(*encoder_).str() + " per example, the decoder takes " +
                       latent_shape_.str());
  }
  if (!(fit_.max_steps >= 1 && fit_.initial_step > 0 && fit_.tolerance >= 0 && fit_.window >= 1))
    throw ValueError(where + ": bad least-squares fit settings");
}

Tensor DecoderTransform::inverse(const Tensor& s) const {
  detail::check_batched(s.shape(), coefficient_shape(), "transform '" + spec_ + "' inverse");
  const int64_t n = s.dim(0);
  return decoder_->evaluate(s.reshaped(prepend({n}, latent_shape_))).reshaped(prepend({n}, input_shape()));
}

Tensor DecoderTransform::reconstruction_error(const Tensor& x, const Tensor& s) const {
  const Tensor y = inverse(s);
  detail::check_batched(x.shape(), input_shape(), "transform '" + spec_ + "' reconstruction_error");
  const int64_t n = x.dim(0), per = input_shape().numel();
  Tensor e(Shape{n});
  for (int64_t b = 0; b < n; ++b) {
    double acc = 0;
    for (int64_t i = b * per; i < (b + 1) * per; ++i) acc += double(y[i] - x[i]) * double(y[i] - x[i]);
    e[b] = static_cast<float>(acc);
  }
  return e;
}

Tensor DecoderTransform::forward(const Tensor& x) const {
  detail::check_batched(x.shape(), input_shape(), "transform '" + spec_ + "' forward");
  const int64_t n = x.dim(0), k = coefficient_shape().numel();
  if (encoder_)
    return encoder_->evaluate(x.reshaped(prepend({n}, input_of(*encoder_)))).reshaped(Shape{n, k});

  // Least squares by gradient descent, each example with its own step: an
  // accepted step grows it by 1.5, one that raises the loss is undone and
  // halves it. The losses decouple over examples, so one batched forward and
  // backward gives every example's gradient.
  const Shape zshape = prepend({n}, latent_shape_);
  const Tensor target = x.reshaped(prepend({n}, output_of(*decoder_)));
  const int64_t per = input_shape().numel();
  auto losses = [&](const Tensor& y, Tensor* dy) {
    std::vector<double> l(static_cast<size_t>(n), 0.0);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = b * per; i < (b + 1) * per; ++i) {
        const double d = double(y[i]) - double(target[i]);
        l[static_cast<size_t>(b)] += d * d;
        if (dy) (*dy)[i] = static_cast<float>(2 * d);
      }
    return l;
  };
  Tensor z(zshape), trial(zshape), dy(target.shape());
  std::vector<double> step(static_cast<size_t>(n), fit_.initial_step);
  std::vector<std::vector<double>> history(static_cast<size_t>(n));
  std::vector<char> done(static_cast<size_t>(n), 0);
  Workspace ws;
  for (int it = 0; it < fit_.max_steps; ++it) {
    trim::forward(*decoder_, ws, {z});
    const std::vector<double> l = losses(trim::outputs(*decoder_, ws)[0], &dy);
    const Tensor g = trim::backward(*decoder_, ws, {dy}).inputs.at(0);
    bool all_done = true;
    for (int64_t b = 0; b < n; ++b) {
      auto& h = history[static_cast<size_t>(b)];
      h.push_back(l[static_cast<size_t>(b)]);
      if (h.size() > static_cast<size_t>(fit_.window)) {
        const double old = h[h.size() - 1 - static_cast<size_t>(fit_.window)];
        if (old - h.back() <= fit_.tolerance * old || h.back() == 0.0) done[static_cast<size_t>(b)] = 1;
      }
      all_done = all_done && done[static_cast<size_t>(b)];
    }
    if (all_done) break;
    const int64_t zk = z.numel() / n;
    for (int64_t i = 0; i < z.numel(); ++i) trial[i] = z[i] - static_cast<float>(step[static_cast<size_t>(i / zk)]) * g[i];
    const std::vector<double> lt = losses(decoder_->evaluate(trial), nullptr);
    for (int64_t b = 0; b < n; ++b) {
      double& s = step[static_cast<size_t>(b)];
      if (lt[static_cast<size_t>(b)] <= l[static_cast<size_t>(b)]) {
        std::copy(trial.begin() + b * zk, trial.begin() + (b + 1) * zk, z.begin() + b * zk);
        s *= 1.5;
      } else {
        s *= 0.5;
      }
    }
  }
  return z.reshaped(Shape{n, k});
}

std::shared_ptr<const Op> DecoderTransform::inverse_op() const {
  return std::make_shared<DecoderOp>(decoder_, latent_shape_, input_shape());
}

NodeId DecoderTransform::add_inverse_nodes(Graph& g, NodeId coefficients, const std::string& name) const {
  NodeId z = coefficients;
  if (latent_shape_ != coefficient_shape()) z = nn::reshape(g, z, latent_shape_, name + "/latent");
  NodeId x = append_graph(g, *decoder_, {z}, name + "/")[0];
  if (output_of(*decoder_) != input_shape()) x = nn::reshape(g, x, input_shape(), name);
  return x;
}

namespace {

/// "decoder:D.onnx[:E.onnx]" -> the paths (ValueError for another form).
std::vector<std::string> decoder_paths(const std::string& spec) {
  std::vector<std::string> parts;
  for (size_t start = spec.find(':'); start != std::string::npos;) {
    const size_t next = spec.find(':', start + 1);
    parts.push_back(spec.substr(start + 1, next == std::string::npos ? std::string::npos : next - start - 1));
    start = next;
  }
  if (parts.empty() || parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty()))
    throw ValueError("transform '" + spec + "': expected decoder:DECODER.onnx[:ENCODER.onnx]");
  return parts;
}

}  // namespace

std::shared_ptr<const DecoderTransform> make_decoder(const std::string& spec, const Shape& input_shape) {
  const std::vector<std::string> paths = decoder_paths(spec);
  const std::string where = "transform '" + spec + "'";
  auto decoder = load(paths[0], where);
  std::shared_ptr<const Graph> encoder = paths.size() == 2 ? load(paths[1], where) : nullptr;
  return std::make_shared<DecoderTransform>(std::move(decoder), std::move(encoder), input_shape, spec);
}

namespace detail {

void add_decoder_families(std::vector<TransformFamily>& table) {
  TransformFamily f;
  f.name = "decoder";
  f.syntax = ":DECODER.onnx[:ENCODER.onnx]";
  f.layout = CoefficientLayout::Components;
  f.reads_file = true;
  f.make = [](const std::string& spec, const Shape& input_shape) -> std::shared_ptr<const Transform> {
    return make_decoder(spec, input_shape);
  };
  // One example is what the decoder gives for one code: a decoder has no
  // channels, so the leading axes of [..., k] codes are a batch.
  f.signal_shape = [](const std::string& spec, const Shape& coef) -> std::optional<Shape> {
    require_coefficient_rank(coef, 1, spec);
    return output_of(*load(decoder_paths(spec)[0], "transform '" + spec + "'"));
  };
  table.push_back(std::move(f));
}

}  // namespace detail

}  // namespace trim
