#include "trim/graph/ops/pool.hpp"

#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"

namespace trim::ops {

// ---- WindowPool ---------------------------------------------------------------

Shape WindowPool::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                              const std::string& where) const {
  return kernels::pool_output_shape(in.at(0), dims_, window_, where);
}

std::vector<int64_t> WindowPool::kernel_shape() const {
  if (dims_ == 1) return {window_.kernel[1]};
  return {window_.kernel[0], window_.kernel[1]};
}

std::vector<int64_t> WindowPool::strides() const {
  if (dims_ == 1) return {window_.stride[1]};
  return {window_.stride[0], window_.stride[1]};
}

std::vector<int64_t> WindowPool::pads() const {
  if (dims_ == 1) return {window_.pads[1], window_.pads[3]};
  return {window_.pads[0], window_.pads[1], window_.pads[2], window_.pads[3]};
}

// ---- MaxPool ------------------------------------------------------------------

void MaxPool::forward(const OpArgs& a, Tensor& y) const { kernels::max_pool_forward(a.input(), window_, y); }

void MaxPool::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::max_pool_backward(a.input(), window_, dy, *dx, g.assigns(0));
}

void MaxPool::select_indices(const OpArgs& a, std::vector<int64_t>& index) const {
  const Tensor& x = a.input();
  Tensor y(kernels::pool_output_shape(x.shape(), dims_, window_, type()));
  index.resize(static_cast<size_t>(y.numel()));
  kernels::max_pool_forward(x, window_, y, index.data());
}

// ---- AvgPool ------------------------------------------------------------------

void AvgPool::forward(const OpArgs& a, Tensor& y) const { kernels::avg_pool_forward(a.input(), window_, y); }

void AvgPool::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::avg_pool_backward(window_, dy, *dx);
}

// ---- GlobalAvgPool ------------------------------------------------------------

Shape GlobalAvgPool::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                                 const std::string& where) const {
  const Shape& x = in.at(0);
  if (x.rank() < 3)
    throw ShapeError(where + ": input " + x.str() + ", expected rank >= 3 ([N,C,...] with spatial axes)");
  Shape y = x;
  for (int i = 2; i < x.rank(); ++i) {
    if (x[i] < 1) throw ShapeError(where + ": input " + x.str() + " has an empty spatial axis");
    y[i] = 1;
  }
  return y;
}

void GlobalAvgPool::forward(const OpArgs& a, Tensor& y) const {
  kernels::global_avg_pool_forward(a.input(), y);
}

void GlobalAvgPool::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::global_avg_pool_backward(dy, *dx);
}

}  // namespace trim::ops

namespace trim::nn {

namespace {

kernels::PoolWindow window_1d(int64_t kernel, const Pool1dOptions& o) {
  return kernels::PoolWindow::one_d(kernel, o.stride == 0 ? kernel : o.stride, o.pad_left, o.pad_right,
                                    o.ceil_mode, o.count_include_pad);
}

kernels::PoolWindow window_2d(std::array<int64_t, 2> kernel, const Pool2dOptions& o) {
  kernels::PoolWindow w;
  w.kernel = kernel;
  for (size_t a = 0; a < 2; ++a) w.stride[a] = o.stride[a] == 0 ? kernel[a] : o.stride[a];
  w.pads = o.pads;
  w.ceil_mode = o.ceil_mode;
  w.count_include_pad = o.count_include_pad;
  return w;
}

}  // namespace

NodeId max_pool1d(Graph& g, NodeId x, int64_t kernel, const Pool1dOptions& opt, const std::string& name) {
  return g.add(std::make_shared<ops::MaxPool>(1, window_1d(kernel, opt)), {x}, {}, name);
}

NodeId max_pool2d(Graph& g, NodeId x, std::array<int64_t, 2> kernel, const Pool2dOptions& opt,
                  const std::string& name) {
  return g.add(std::make_shared<ops::MaxPool>(2, window_2d(kernel, opt)), {x}, {}, name);
}

NodeId avg_pool1d(Graph& g, NodeId x, int64_t kernel, const Pool1dOptions& opt, const std::string& name) {
  return g.add(std::make_shared<ops::AvgPool>(1, window_1d(kernel, opt)), {x}, {}, name);
}

NodeId avg_pool2d(Graph& g, NodeId x, std::array<int64_t, 2> kernel, const Pool2dOptions& opt,
                  const std::string& name) {
  return g.add(std::make_shared<ops::AvgPool>(2, window_2d(kernel, opt)), {x}, {}, name);
}

NodeId global_avg_pool(Graph& g, NodeId x, const std::string& name) {
  return g.add(std::make_shared<ops::GlobalAvgPool>(), {x}, {}, name);
}

}  // namespace trim::nn
