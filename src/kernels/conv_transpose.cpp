#include "trim/kernels/conv_transpose.hpp"

#include "trim/core/error.hpp"

namespace trim::kernels {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string pair_str(const std::array<int64_t, 2>& v, int spatial) {
  return spatial == 1 ? str(v[1]) : str(v[0]) + "x" + str(v[1]);
}

void require_shape(const Tensor& t, const Shape& expected, const std::string& where, const char* what) {
  if (t.shape() != expected)
    throw ShapeError(where + ": " + what + " " + t.shape().str() + ", expected " + expected.str());
}

int spatial_of(const Tensor& x, const std::string& where) {
  if (x.rank() != 3 && x.rank() != 4)
    throw ShapeError(where + ": input " + x.shape().str() + ", expected rank 3 [N,C_in,L] or 4 [N,C_in,H,W]");
  return x.rank() - 2;
}

}  // namespace

void validate(const ConvTransposeConfig& c, const std::string& where) {
  for (size_t i = 0; i < 2; ++i) {
    if (c.stride[i] < 1) throw ValueError(where + ": stride " + pair_str(c.stride, 2) + ", expected >= 1");
    if (c.dilation[i] < 1) throw ValueError(where + ": dilation " + pair_str(c.dilation, 2) + ", expected >= 1");
    if (c.output_padding[i] < 0 || c.output_padding[i] >= c.stride[i])
      throw ValueError(where + ": output_padding " + pair_str(c.output_padding, 2) +
                       ", expected >= 0 and smaller than the stride " + pair_str(c.stride, 2));
  }
  for (int64_t p : c.pads)
    if (p < 0)
      throw ValueError(where + ": pads {" + str(c.pads[0]) + "," + str(c.pads[1]) + "," + str(c.pads[2]) + "," +
                       str(c.pads[3]) + "}, expected >= 0");
  if (c.groups < 1) throw ValueError(where + ": groups " + str(c.groups) + ", expected >= 1");
}

Shape conv_transpose_output_shape(const Shape& x, const Shape& w, int spatial, const ConvTransposeConfig& c,
                                  const std::string& where) {
  validate(c, where);
  const int rank = spatial + 2;
  const std::string layout = spatial == 2 ? "[N,C_in,H,W]" : "[N,C_in,L]";
  const std::string wlayout = spatial == 2 ? "[C_in,C_out/groups,kh,kw]" : "[C_in,C_out/groups,k]";
  if (x.rank() != rank) throw ShapeError(where + ": input " + x.str() + ", expected rank " + str(rank) + " " + layout);
  if (w.rank() != rank)
    throw ShapeError(where + ": weight " + w.str() + ", expected rank " + str(rank) + " " + wlayout);
  for (int i = 0; i < rank; ++i)
    if (w[i] < 1) throw ShapeError(where + ": weight " + w.str() + " has an empty dimension");
  for (int i = 1; i < rank; ++i)
    if (x[i] < 1) throw ShapeError(where + ": input " + x.str() + ", expected positive channel and spatial sizes");
  if (x[1] != w[0])
    throw ShapeError(where + ": input " + x.str() + " has " + str(x[1]) + " channels, weight " + w.str() +
                     " expects " + str(w[0]) + " " + wlayout);
  if (w[0] % c.groups != 0)
    throw ShapeError(where + ": " + str(w[0]) + " input channels are not divisible by groups " + str(c.groups));
  Shape y{x[0], w[1] * c.groups};
  for (int i = 0; i < spatial; ++i) {
    const size_t a = static_cast<size_t>(2 - spatial + i);
    int64_t span = 0, reach = 0, full = 0;  // checked: sizes from a file may be absurd
    if (__builtin_mul_overflow(x[2 + i] - 1, c.stride[a], &span) ||
        __builtin_mul_overflow(c.dilation[a], w[2 + i] - 1, &reach) || __builtin_add_overflow(span, reach, &full) ||
        __builtin_add_overflow(full, c.output_padding[a] + 1, &full) || full > (int64_t{1} << 40))
      throw ShapeError(where + ": output length along spatial axis " + str(i) + " is absurdly large (input " + x.str() +
                       ", weight " + w.str() + ", stride " + pair_str(c.stride, 2) + ")");
    const int64_t o = full - c.pads[a] - c.pads[a + 2];
    if (o < 1)
      throw ShapeError(where + ": pads {" + str(c.pads[0]) + "," + str(c.pads[1]) + "," + str(c.pads[2]) + "," +
                       str(c.pads[3]) + "} remove the whole output (length " + str(full) + " along spatial axis " +
                       str(i) + " for input " + x.str() + ", weight " + w.str() + ")");
    y.push_back(o);
  }
  return y;
}

void conv_transpose_forward(const Tensor& x, const Tensor& weight, const Tensor* bias,
                            const ConvTransposeConfig& c, Tensor& y) {
  const std::string where = "conv_transpose";
  const int sd = spatial_of(x, where);
  const Shape ys = conv_transpose_output_shape(x.shape(), weight.shape(), sd, c, where);
  require_shape(y, ys, where, "output");
  if (bias && bias->shape() != Shape{ys[1]})
    throw ShapeError(where + ": bias " + bias->shape().str() + ", expected [" + str(ys[1]) + "]");
  if (sd == 1) conv1d_backward_input(x, weight, c.as_conv1d(), y, true);
  else conv2d_backward_input(x, weight, c.as_conv(), y, true);
  if (!bias || y.numel() == 0) return;
  const int64_t cout = ys[1], plane = y.numel() / (y.dim(0) * cout);
  float* yd = y.data();
  for (int64_t r = 0; r < y.dim(0) * cout; ++r) {
    const float v = (*bias)[r % cout];
    for (int64_t i = 0; i < plane; ++i) yd[r * plane + i] += v;
  }
}

void conv_transpose_backward_input(const Tensor& dy, const Tensor& weight, const ConvTransposeConfig& c,
                                   Tensor& dx) {
  const std::string where = "conv_transpose backward";
  const int sd = spatial_of(dx, where);
  require_shape(dy, conv_transpose_output_shape(dx.shape(), weight.shape(), sd, c, where), where,
                "output gradient");
  thread_local Tensor t;  // the conv kernels overwrite; the contract here adds
  t.resize(dx.shape());
  if (sd == 1) conv1d_forward(dy, weight, nullptr, c.as_conv1d(), t);
  else conv2d_forward(dy, weight, nullptr, c.as_conv(), t);
  float* d = dx.data();
  const float* s = t.data();
  for (int64_t i = 0; i < dx.numel(); ++i) d[i] += s[i];
}

void conv_transpose_backward_params(const Tensor& x, const Tensor& dy, const ConvTransposeConfig& c,
                                    Tensor* dweight, Tensor* dbias) {
  if (!dweight && !dbias) return;
  const std::string where = "conv_transpose backward";
  const int sd = spatial_of(dy, where);
  if (dweight) {
    require_shape(dy, conv_transpose_output_shape(x.shape(), dweight->shape(), sd, c, where), where,
                  "output gradient");
    // ⟨dy, convᵀ_W(x)⟩ = ⟨conv_W(dy), x⟩: the conv's weight gradient with dy as its input, x as its cotangent.
    if (sd == 1) conv1d_backward_params(dy, x, c.as_conv1d(), dweight, nullptr);
    else conv2d_backward_params(dy, x, c.as_conv(), dweight, nullptr);
  }
  if (dbias) {  // Σ dy over batch and space, by the conv kernels' bias sum
    if (sd == 1) conv1d_backward_params(dy, dy, Conv1dConfig{}, nullptr, dbias);
    else conv2d_backward_params(dy, dy, Conv2dConfig{}, nullptr, dbias);
  }
}

}  // namespace trim::kernels
