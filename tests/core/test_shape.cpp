#include <catch2/catch.hpp>

#include "trim/core/error.hpp"
#include "trim/core/shape.hpp"

using trim::Shape;

TEST_CASE("shape basics", "[core][shape]") {
  const Shape s{2, 3, 4};
  REQUIRE(s.rank() == 3);
  REQUIRE(s.numel() == 24);
  REQUIRE(s.numel(1, 3) == 12);
  REQUIRE(s.dim(-1) == 4);
  REQUIRE(s.axis(-3) == 0);
  REQUIRE(s.str() == "[2,3,4]");
  REQUIRE(Shape{}.numel() == 1);
  REQUIRE(Shape{}.str() == "[]");
  REQUIRE(trim::row_major_strides(s) == std::vector<int64_t>{12, 4, 1});
}

TEST_CASE("free batch dimension", "[core][shape]") {
  const Shape s{Shape::free, 128};
  REQUIRE(s.str() == "[*,128]");
  REQUIRE(s.has_free_dim());
  REQUIRE(s.with_batch(32) == Shape{32, 128});
  REQUIRE_THROWS_AS(s.numel(), trim::ShapeError);
}

TEST_CASE("shape errors are clear", "[core][shape]") {
  REQUIRE_THROWS_WITH(Shape({1, 2}).axis(2), Catch::Contains("axis 2 out of range"));
  REQUIRE_THROWS_WITH((Shape{1, -3}), Catch::Contains("negative dimension -3"));
  REQUIRE_THROWS_WITH((Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), Catch::Contains("maximum of 8"));
}
