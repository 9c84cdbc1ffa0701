#include "trim/core/shape.hpp"

#include "trim/core/error.hpp"

namespace trim {

namespace {
void check_dim(int64_t d) {
  if (d < 0 && d != Shape::free)
    throw ShapeError("shape: negative dimension " + std::to_string(d));
}
}  // namespace

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) push_back(d);
}

void Shape::push_back(int64_t d) {
  if (rank_ == max_rank)
    throw ShapeError("shape: rank exceeds the maximum of " + std::to_string(max_rank));
  check_dim(d);
  dims_[static_cast<size_t>(rank_++)] = d;
}

int Shape::axis(int a) const {
  const int n = a < 0 ? a + rank_ : a;
  if (n < 0 || n >= rank_)
    throw ShapeError("shape " + str() + ": axis " + std::to_string(a) + " out of range for rank " +
                     std::to_string(rank_));
  return n;
}

int64_t Shape::dim(int a) const { return dims_[static_cast<size_t>(axis(a))]; }

int64_t Shape::numel() const { return numel(0, rank_); }

int64_t Shape::numel(int begin, int end) const {
  int64_t n = 1;
  for (int i = begin; i < end; ++i) {
    if (dims_[static_cast<size_t>(i)] == free)
      throw ShapeError("shape " + str() + ": element count asked of a shape with a free dimension");
    n *= dims_[static_cast<size_t>(i)];
  }
  return n;
}

bool Shape::has_free_dim() const {
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] == free) return true;
  return false;
}

Shape Shape::with_batch(int64_t batch) const {
  Shape s = *this;
  for (int i = 0; i < rank_; ++i)
    if (s.dims_[static_cast<size_t>(i)] == free) s.dims_[static_cast<size_t>(i)] = batch;
  return s;
}

std::vector<int64_t> Shape::to_vector() const { return {begin(), end()}; }

std::string Shape::str() const {
  std::string out = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) out += ",";
    const int64_t d = dims_[static_cast<size_t>(i)];
    out += d == free ? std::string("*") : std::to_string(d);
  }
  return out + "]";
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

Shape prepend(std::initializer_list<int64_t> lead, const Shape& rest) {
  Shape s;
  for (int64_t v : lead) s.push_back(v);
  for (int64_t v : rest) s.push_back(v);
  return s;
}

Shape with_rows(const Shape& s, int64_t rows) {
  Shape r = s;
  r[0] = rows;
  return r;
}

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(static_cast<size_t>(s.rank()));
  int64_t acc = 1;
  for (int i = s.rank() - 1; i >= 0; --i) {
    st[static_cast<size_t>(i)] = acc;
    acc *= s[i];
  }
  return st;
}

}  // namespace trim
