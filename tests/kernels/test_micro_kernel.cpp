// The GEMM micro-kernel over fewer rows than its tile (micro_kernel_rows):
// every row count, packed and in-place A, accumulate or overwrite, against a
// double-precision product; rows past the count are left as they were. The
// kernel over two B panels at once (micro_kernel_two_b) against the same
// product and, bit for bit, against micro_kernel on each panel.

#include <catch2/catch.hpp>

#include <vector>

#include "micro_kernel.hpp"

namespace {

using trim::kernels::detail::kMR;
using trim::kernels::detail::kNR;
using trim::kernels::detail::micro_kernel;
using trim::kernels::detail::micro_kernel_rows;
using trim::kernels::detail::micro_kernel_two_b;

float value(int64_t i, int salt) { return static_cast<float>((i * 37 + salt * 11) % 23 - 11) / 8.0f; }

}  // namespace

TEST_CASE("micro_kernel_rows computes exactly its rows of the tile", "[kernels][micro_kernel]") {
  for (int64_t rows = 1; rows <= kMR; ++rows)
    for (int64_t kc : {1, 7, 300})
      for (bool packed : {true, false})
        for (bool accumulate : {false, true}) {
          CAPTURE(rows, kc, packed, accumulate);
          // A's row r at step q: packed panels are a[q·kMR + r], in-place
          // rows are a[r·kc + q] (any row stride).
          const int64_t ars = packed ? 1 : kc, aqs = packed ? kMR : 1, ldb = kNR + 3, ldc = kNR + 5;
          std::vector<float> a(static_cast<size_t>(kMR * kc)), b(static_cast<size_t>(kc * ldb));
          for (size_t i = 0; i < a.size(); ++i) a[i] = value(static_cast<int64_t>(i), 1);
          for (size_t i = 0; i < b.size(); ++i) b[i] = value(static_cast<int64_t>(i), 2);
          std::vector<float> c(static_cast<size_t>(kMR * ldc));
          for (size_t i = 0; i < c.size(); ++i) c[i] = value(static_cast<int64_t>(i), 3);
          const std::vector<float> before = c;
          micro_kernel_rows(rows, kc, a.data(), ars, aqs, b.data(), ldb, c.data(), ldc, accumulate);
          for (int64_t r = 0; r < kMR; ++r)
            for (int64_t l = 0; l < ldc; ++l) {
              const size_t at = static_cast<size_t>(r * ldc + l);
              if (r >= rows || l >= kNR) {
                REQUIRE(c[at] == before[at]);
                continue;
              }
              double want = accumulate ? before[at] : 0.0;
              for (int64_t q = 0; q < kc; ++q) {
                const float aq = a[static_cast<size_t>(r * ars + q * aqs)], bq = b[static_cast<size_t>(q * ldb + l)];
                want += static_cast<double>(aq) * bq;
              }
              REQUIRE(c[at] == Approx(want).margin(1e-3));
            }
        }
}

TEST_CASE("micro_kernel_two_b computes two tiles as micro_kernel does each", "[kernels][micro_kernel]") {
  for (int64_t kc : {1, 7, 300})
    for (bool packed : {true, false})
      for (bool accumulate : {false, true}) {
        CAPTURE(kc, packed, accumulate);
        const int64_t ars = packed ? 1 : kc, aqs = packed ? kMR : 1, ldb = kNR + 3, ldc = 2 * kNR + 7;
        std::vector<float> a(static_cast<size_t>(kMR * kc)), b(static_cast<size_t>(kc * ldb)),
            b2(static_cast<size_t>(kc * ldb));
        for (size_t i = 0; i < a.size(); ++i) a[i] = value(static_cast<int64_t>(i), 1);
        for (size_t i = 0; i < b.size(); ++i) b[i] = value(static_cast<int64_t>(i), 2);
        for (size_t i = 0; i < b2.size(); ++i) b2[i] = value(static_cast<int64_t>(i), 4);
        // c holds the two tiles side by side in rows of ldc (the second at
        // column kNR + 2), with untouched floats around them.
        std::vector<float> c(static_cast<size_t>(kMR * ldc));
        for (size_t i = 0; i < c.size(); ++i) c[i] = value(static_cast<int64_t>(i), 3);
        const std::vector<float> before = c;
        std::vector<float> one_by_one = c;
        const int64_t second = kNR + 2;
        micro_kernel_two_b(kc, a.data(), ars, aqs, b.data(), b2.data(), ldb, c.data(), c.data() + second, ldc,
                           accumulate);
        micro_kernel(kc, a.data(), ars, aqs, b.data(), ldb, one_by_one.data(), ldc, accumulate);
        micro_kernel(kc, a.data(), ars, aqs, b2.data(), ldb, one_by_one.data() + second, ldc, accumulate);
        for (int64_t r = 0; r < kMR; ++r)
          for (int64_t l = 0; l < ldc; ++l) {
            const size_t at = static_cast<size_t>(r * ldc + l);
            REQUIRE(c[at] == one_by_one[at]);
            const bool in_first = l < kNR, in_second = l >= second && l < second + kNR;
            if (!in_first && !in_second) {
              REQUIRE(c[at] == before[at]);
              continue;
            }
            const std::vector<float>& bp = in_first ? b : b2;
            const int64_t col = in_first ? l : l - second;
            double want = accumulate ? before[at] : 0.0;
            for (int64_t q = 0; q < kc; ++q)
              want += static_cast<double>(a[static_cast<size_t>(r * ars + q * aqs)]) * bp[static_cast<size_t>(q * ldb + col)];
            REQUIRE(c[at] == Approx(want).margin(1e-3));
          }
      }
}
