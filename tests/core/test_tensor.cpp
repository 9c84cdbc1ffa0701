#include <catch2/catch.hpp>
#include <cstdint>

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/tensor.hpp"

using trim::Shape;
using trim::Tensor;

TEST_CASE("tensor storage is zeroed, aligned and row-major", "[core][tensor]") {
  Tensor t({2, 3, 5});
  REQUIRE(t.numel() == 30);
  REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % Tensor::alignment == 0);
  for (float v : t) REQUIRE(v == 0.0f);
  t.at({1, 2, 3}) = 7.0f;
  REQUIRE(t[1 * 15 + 2 * 5 + 3] == 7.0f);
  REQUIRE_THROWS_AS(t.at({2, 0, 0}), trim::ShapeError);
  REQUIRE_THROWS_AS(Tensor({Shape::free, 3}), trim::ShapeError);
}

TEST_CASE("tensor copies deep and moves cheaply", "[core][tensor]") {
  Tensor a({4}, {1, 2, 3, 4});
  Tensor b = a;
  b[0] = 9;
  REQUIRE(a[0] == 1);
  const float* p = a.data();
  Tensor c = std::move(a);
  REQUIRE(c.data() == p);
  REQUIRE(a.numel() == 0);
  a = c;
  REQUIRE(a.to_vector() == c.to_vector());
  REQUIRE_THROWS_WITH(Tensor({3}, {1, 2}), Catch::Contains("2 values given for shape [3]"));
}

TEST_CASE("large tensors copy and fill exactly on any number of threads", "[core][tensor]") {
  // From 2^20 floats the copy and the fill run in parts of 2^18 on the pool:
  // sizes on both sides of that line, one with a ragged last part.
  const int saved = trim::num_threads();
  for (int threads : {1, 2, 3})
    for (int64_t n : {(int64_t{1} << 20) - 1, int64_t{1} << 20, (int64_t{1} << 20) + 12345}) {
      trim::set_num_threads(threads);
      Tensor a({n});
      for (int64_t i = 0; i < n; ++i) a[i] = static_cast<float>(i % 1000003) - 0.5f;
      const Tensor b = a;
      Tensor c({3});
      c = a;
      bool same = true;
      for (int64_t i = 0; i < n; ++i) same = same && b[i] == a[i] && c[i] == a[i];
      REQUIRE(same);
      c.fill(2.5f);
      bool filled = true;
      for (int64_t i = 0; i < n; ++i) filled = filled && c[i] == 2.5f;
      REQUIRE(filled);
      REQUIRE(b[n - 1] == a[n - 1]);  // the fill wrote c's block only
    }
  trim::set_num_threads(saved);
}

TEST_CASE("reshape keeps the data in place", "[core][tensor]") {
  Tensor a({2, 6});
  const float* p = a.data();
  a.reshape({3, 4});
  REQUIRE(a.shape() == Shape{3, 4});
  REQUIRE(a.data() == p);
  Tensor b = std::move(a).reshape({12});
  REQUIRE(b.data() == p);
  REQUIRE_THROWS_WITH(b.reshape({5}), Catch::Contains("cannot reshape [12] to [5]"));
}

TEST_CASE("Eigen views alias the tensor", "[core][tensor]") {
  Tensor t({2, 3}, {1, 2, 3, 4, 5, 6});
  auto m = t.as_matrix();
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 3);
  REQUIRE(m(1, 0) == 4);
  m(0, 2) = 10;
  REQUIRE(t.at({0, 2}) == 10);
  REQUIRE(t.as_vector().sum() == Approx(1 + 2 + 10 + 4 + 5 + 6));
  REQUIRE(t.as_matrix(3, 2)(2, 1) == 6);
  REQUIRE_THROWS_AS(t.as_matrix(4, 2), trim::ShapeError);
  Tensor img({2, 3, 4, 5});
  REQUIRE(img.as_matrix().cols() == 60);
}

TEST_CASE("check_shape names what it checks", "[core][tensor]") {
  Tensor t({32, 100});
  REQUIRE_NOTHROW(trim::check_shape(t, {Shape::free, 100}, "x"));
  REQUIRE_THROWS_WITH(trim::check_shape(t, {Shape::free, 128}, "linear 'fc1': input"),
                      "linear 'fc1': input: shape [32,100], expected [*,128]");
}

TEST_CASE("a borrowed tensor reads the caller's memory and never writes or frees it", "[core][tensor]") {
  Tensor owner({2, 8}, 3.0f);  // aligned memory that outlives the borrow
  const float* p = owner.data();
  {
    Tensor b = Tensor::borrow(p, {4, 4});
    REQUIRE(b.data() == p);
    REQUIRE(!b.owns_data());
    REQUIRE(b.shape() == Shape({4, 4}));
    REQUIRE(b[15] == 3.0f);
    Tensor c = b;  // a copy owns its data
    REQUIRE(c.owns_data());
    REQUIRE(c.data() != p);
    REQUIRE(c[5] == 3.0f);
    Tensor moved = std::move(b);  // moving keeps the borrow
    REQUIRE(moved.data() == p);
    moved.resize({2, 2}, true);  // allocates its own instead of writing into p
    REQUIRE(moved.owns_data());
    REQUIRE(moved.data() != p);
  }
  for (float v : owner) REQUIRE(v == 3.0f);  // untouched, and not freed (ASan would tell)
  REQUIRE_THROWS_AS(Tensor::borrow(p + 1, {3}), trim::ValueError);
  REQUIRE_THROWS_AS(Tensor::borrow(p, {Shape::free, 3}), trim::ShapeError);
}
