#pragma once
// Internal to the ONNX reader: host-side constants (initializers, Constant
// nodes and values computed from them at import) and their decoding from
// ONNX TensorProtos. Not installed.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "onnx_internal.hpp"
#include "onnx_lean.hpp"
#include "trim/core/error.hpp"
#include "trim/core/tensor.hpp"

namespace trim::io::detail {

/// The symbolic batch size inside integer constants.
inline constexpr int64_t kBatch = std::numeric_limits<int64_t>::min();
/// Multiples N·c (c ≥ 2) of the batch size (nn.MultiheadAttention's
/// N·heads) are kBatchMultiple + c, c < kMaxBatchFactor: shape arithmetic
/// keeps them symbolic, and only the readers of moved layouts
/// (onnx_import_layout.cpp) resolve them. The range sits far from the values
/// real files hold (torch writes ±INT64_MAX as open slice ends); a file
/// holding one of its values is refused.
inline constexpr int64_t kBatchMultiple = std::numeric_limits<int64_t>::min() + (int64_t{1} << 62);
inline constexpr int64_t kMaxBatchFactor = int64_t{1} << 40;
inline bool is_batch(int64_t v) { return v == kBatch || (v > kBatchMultiple + 1 && v < kBatchMultiple + kMaxBatchFactor); }
/// c of N·c (is_batch(v) must hold).
inline int64_t batch_factor(int64_t v) { return v == kBatch ? 1 : v - kBatchMultiple; }
/// N·c (1 ≤ c < kMaxBatchFactor).
inline int64_t batch_times(int64_t c) { return c == 1 ? kBatch : kBatchMultiple + c; }
/// "N" or "N*c".
inline std::string batch_str(int64_t v) {
  return batch_factor(v) == 1 ? std::string("N") : "N*" + std::to_string(batch_factor(v));
}
/// Largest constant computed at import time (elements). Initializers may be
/// larger: their size is checked against the bytes actually stored.
inline constexpr int64_t kMaxConstElems = int64_t{1} << 24;
/// Bound on a per-example element count: anything larger comes from a
/// corrupt file and would overflow later shape arithmetic.
inline constexpr int64_t kMaxExampleElems = int64_t{1} << 40;

inline std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += is_batch(v[i]) ? batch_str(v[i]) : std::to_string(v[i]);
  }
  return s + "]";
}

inline int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what,
                      int64_t limit = kMaxConstElems) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError(what + " has a negative dimension in " + list_str(shape));
    if (d != 0 && n > limit / d)
      throw ShapeError(what + " of shape " + list_str(shape) + " is too large (more than " + std::to_string(limit) +
                       " elements)");
    n *= d;
  }
  return n;
}

/// Float values of a constant: a vector's interface over a Tensor's aligned
/// buffer, so that a large initializer becomes its graph parameter without a
/// copy (`release`).
class FloatData {
 public:
  FloatData() = default;
  FloatData(std::initializer_list<float> v) { assign(v.begin(), v.end()); }
  FloatData& operator=(std::initializer_list<float> v) {
    assign(v.begin(), v.end());
    return *this;
  }
  FloatData& operator=(const std::vector<float>& v) {
    assign(v.begin(), v.end());
    return *this;
  }
  size_t size() const { return static_cast<size_t>(t_.numel()); }
  bool empty() const { return t_.numel() == 0; }
  float* data() { return t_.data(); }
  const float* data() const { return t_.data(); }
  float* begin() { return t_.begin(); }
  float* end() { return t_.end(); }
  const float* begin() const { return t_.begin(); }
  const float* end() const { return t_.end(); }
  float& operator[](size_t k) { return t_[static_cast<int64_t>(k)]; }
  const float& operator[](size_t k) const { return t_.data()[k]; }
  float& back() { return t_[t_.numel() - 1]; }
  float back() const { return t_[t_.numel() - 1]; }
  bool operator==(const FloatData& o) const { return size() == o.size() && std::equal(begin(), end(), o.begin()); }
  bool operator!=(const FloatData& o) const { return !(*this == o); }
  /// Keeps the first min(size, n) values; new ones are `v`.
  void resize(size_t n, float v = 0.0f) {
    if (n == size()) return;
    Tensor t(Shape{static_cast<int64_t>(n)}, v);
    std::copy_n(t_.data(), std::min(n, size()), t.data());
    t_ = std::move(t);
  }
  void assign(size_t n, float v) { t_ = Tensor(Shape{static_cast<int64_t>(n)}, v); }
  template <class It>
  void assign(It first, It last) {
    Tensor t(Shape{static_cast<int64_t>(std::distance(first, last))});
    std::copy(first, last, t.data());
    t_ = std::move(t);
  }
  void push_back(float v) {
    resize(size() + 1);
    back() = v;
  }
  void clear() { t_ = Tensor(); }
  /// Moves the values out as a rank-1 tensor, leaving this empty.
  Tensor release() {
    Tensor t = std::move(t_);
    t_ = Tensor();
    return t;
  }

 private:
  Tensor t_;
};

/// A constant: float or integer (bool and all integer types), row-major.
struct HostTensor {
  bool is_int = false;
  std::vector<int64_t> shape;
  FloatData f;
  std::vector<int64_t> i;

  int64_t numel() const { return static_cast<int64_t>(is_int ? i.size() : f.size()); }
  int rank() const { return static_cast<int>(shape.size()); }
  bool has_batch() const { return is_int && std::any_of(i.begin(), i.end(), is_batch); }
  double get(int64_t k) const { return is_int ? static_cast<double>(i[static_cast<size_t>(k)]) : f[static_cast<size_t>(k)]; }
  void resize(int64_t n) {
    if (is_int) i.assign(static_cast<size_t>(n), 0);
    else f.assign(static_cast<size_t>(n), 0.0f);
  }
  /// Copies element `from` of `src` (same type) to element `to`.
  void copy_from(const HostTensor& src, int64_t from, int64_t to) {
    if (is_int) i[static_cast<size_t>(to)] = src.i[static_cast<size_t>(from)];
    else f[static_cast<size_t>(to)] = src.f[static_cast<size_t>(from)];
  }
  std::string describe() const {
    std::string s = std::string(is_int ? "int" : "float") + " " + list_str(shape);
    if (numel() <= 8) {
      s += " = {";
      for (int64_t k = 0; k < numel(); ++k) {
        if (k) s += ",";
        if (is_int) s += is_batch(i[static_cast<size_t>(k)]) ? batch_str(i[static_cast<size_t>(k)]) : std::to_string(i[static_cast<size_t>(k)]);
        else {
          std::ostringstream o;
          o << f[static_cast<size_t>(k)];
          s += o.str();
        }
      }
      s += "}";
    }
    return s;
  }
};

/// Row-major strides of `shape`, checked: an empty constant may declare
/// dimensions whose product overflows.
inline std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) {
    if (shape[k] < 0 || (shape[k] != 0 && s[k] > std::numeric_limits<int64_t>::max() / shape[k]))
      throw ShapeError("constant of shape " + list_str(shape) + " is too large");
    s[k - 1] = s[k] * shape[k];
  }
  return s;
}

/// Decodes an ONNX TensorProto, checking every count against its dims.
/// `external`: where its raw_data lies when the lean parse left it out.
HostTensor from_proto(const onnx::TensorProto& t, const std::string& what, const ExternalRaw* external = nullptr);

/// Name of an ONNX attribute type, for messages.
const char* attr_type_name(int t);

}  // namespace trim::io::detail
