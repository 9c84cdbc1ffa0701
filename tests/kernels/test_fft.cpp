// FFT kernels: DFT / real DFT / DCT / shifts against NumPy fixtures
// (tests/reference/make_fft.py), perfect reconstruction for every kind and
// norm, thread safety of the plan cache, input preservation and bad shapes.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/kernels/fft.hpp"

using namespace trim;
using kernels::Norm;
using trim::test::randn;

namespace {

const char* const fft_cases[] = {"n8", "n7", "n13", "6x5", "4x7", "3d"};
const std::pair<Norm, const char*> norms[] = {{Norm::Backward, "backward"}, {Norm::Ortho, "ortho"}, {Norm::Forward, "forward"}};

/// Max |a-b| relative to the max magnitude of the reference.
void close(const Tensor& a, const Tensor& ref, double rtol, const std::string& what) {
  double m = 0.0;
  for (float v : ref) m = std::max(m, double(std::fabs(v)));
  test::require_close(a, ref, rtol, std::max(1e-6, m), what);
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

template <class F>
void require_throws_starting(F&& f, const std::string& prefix) {
  try {
    f();
  } catch (const ShapeError& e) {
    INFO(e.what());
    REQUIRE(std::string(e.what()).rfind(prefix, 0) == 0);
    return;
  } catch (const ValueError& e) {
    INFO(e.what());
    REQUIRE(std::string(e.what()).rfind(prefix, 0) == 0);
    return;
  }
  FAIL("expected ShapeError or ValueError starting with '" << prefix << "'");
}

}  // namespace

TEST_CASE("fft kernels match numpy.fft and the DCT sums", "[fft]") {
  for (const char* name : fft_cases) {
    const test::Fixture f(std::string("fft_") + name + ".txt");
    const int d = static_cast<int>(std::lround(f["config"][0]));
    const Tensor& x = f["x"];
    const Tensor& z = f["z"];
    const Tensor& zh = f["zh"];
    const int64_t nl = x.dim(-1);
    int checked = 0;
    for (const auto& [norm, nm] : norms) {
      const std::string s = std::string(name) + " " + nm;
      if (!f.has(std::string("fftr_") + nm)) continue;
      ++checked;
      close(kernels::fft_real(x, d, norm), f[std::string("fftr_") + nm], 1e-5, s + " fft_real");
      close(kernels::rfftn(x, d, norm), f[std::string("rfft_") + nm], 1e-5, s + " rfftn");
      close(kernels::irfftn(zh, d, nl, norm), f[std::string("irfft_") + nm], 1e-5, s + " irfftn");
      close(kernels::fftn(z, d, norm), f[std::string("fft_") + nm], 1e-5, s + " fftn");
      close(kernels::ifftn(z, d, norm), f[std::string("ifft_") + nm], 1e-5, s + " ifftn");
      for (int type : {2, 3}) {
        const std::string t = std::to_string(type) + "_" + nm;
        close(kernels::dct(x, d, type, norm), f["dct" + t], 1e-5, s + " dct" + std::to_string(type));
        close(kernels::idct(x, d, type, norm), f["idct" + t], 1e-5, s + " idct" + std::to_string(type));
      }
    }
    REQUIRE(checked > 0);
  }
}

TEST_CASE("fftshift and ifftshift match numpy", "[fft]") {
  const test::Fixture f("fft_shift.txt");
  REQUIRE(equal(kernels::fftshift(f["a"], 2), f["shift_a"]));
  REQUIRE(equal(kernels::ifftshift(f["a"], 2), f["ishift_a"]));
  REQUIRE(equal(kernels::fftshift(f["b"], 1, true), f["shift_b"]));
  REQUIRE(equal(kernels::ifftshift(f["b"], 1, true), f["ishift_b"]));
  const Tensor odd = randn({2, 3, 5, 7}, 11);
  REQUIRE(equal(kernels::ifftshift(kernels::fftshift(odd, 3), 3), odd));
}

TEST_CASE("fft: inverse(forward(x)) reconstructs x for every kind and norm", "[fft]") {
  const std::vector<Shape> shapes = {{3, 8}, {2, 7}, {13}, {2, 6, 5}, {2, 1, 3, 4, 5}};
  for (const Shape& s : shapes) {
    for (int d = 1; d <= std::min(3, s.rank()); ++d) {
      const Tensor x = randn(s, 7 + d);
      Shape cs = s;
      cs.push_back(2);
      const Tensor z = randn(cs, 17 + d);
      for (const auto& [norm, nm] : norms) {
        const std::string what = s.str() + " d=" + std::to_string(d) + " " + nm;
        close(kernels::irfftn(kernels::rfftn(x, d, norm), d, s[s.rank() - 1], norm), x, 1e-5, what + " rfft");
        close(kernels::ifftn(kernels::fftn(z, d, norm), d, norm), z, 1e-5, what + " fft");
        close(kernels::fftn(kernels::ifftn(z, d, norm), d, norm), z, 1e-5, what + " ifft");
        // fft_real of x equals fftn of x with a zero imaginary part.
        Tensor xc(cs);
        for (int64_t i = 0; i < x.numel(); ++i) xc[2 * i] = x[i];
        close(kernels::fft_real(x, d, norm), kernels::fftn(xc, d, norm), 1e-5, what + " fft_real");
        close(kernels::ifftn(kernels::fft_real(x, d, norm), d, norm), xc, 1e-5, what + " fft_real inverse");
        for (int type : {2, 3}) {
          const std::string t = what + " dct" + std::to_string(type);
          close(kernels::idct(kernels::dct(x, d, type, norm), d, type, norm), x, 1e-5, t);
          close(kernels::dct(kernels::idct(x, d, type, norm), d, type, norm), x, 1e-5, t + " reversed");
        }
      }
    }
  }
}

TEST_CASE("fft: ortho transforms preserve the norm", "[fft]") {
  const Tensor x = randn({2, 6, 5}, 3);
  const double n2 = x.as_vector().squaredNorm();
  for (int type : {2, 3})
    REQUIRE(std::fabs(kernels::dct(x, 2, type, Norm::Ortho).as_vector().squaredNorm() - n2) <= 1e-4 * n2);
  REQUIRE(std::fabs(kernels::fft_real(x, 2, Norm::Ortho).as_vector().squaredNorm() - n2) <= 1e-4 * n2);
}

TEST_CASE("fft: inputs are left unchanged (c2r works on a copy)", "[fft]") {
  const Tensor x = randn({2, 6, 5}, 5);
  Tensor spec = kernels::rfftn(x, 2);
  const Tensor before = spec;
  const Tensor y = kernels::irfftn(spec, 2, 5);
  REQUIRE(equal(spec, before));
  const Tensor y2 = kernels::irfftn(spec, 2, 5);
  REQUIRE(equal(y, y2));
  const Tensor xc = x;
  (void)kernels::fft_real(x, 2);
  (void)kernels::dct(x, 2, 3, Norm::Ortho);
  REQUIRE(equal(x, xc));
}

TEST_CASE("fft: real_ifftn_into is the real part of ifftn for any complex input", "[fft]") {
  // Non-Hermitian input: the Hermitian-part shortcut must still give Re(ifftn).
  const std::pair<Shape, int> cases[] = {{{3, 8, 2}, 1}, {{2, 7, 2}, 1}, {{2, 6, 5, 2}, 2},
                                         {{1, 5, 4, 2}, 2}, {{1, 3, 4, 5, 2}, 3}};
  for (const auto& [shape, d] : cases)
    for (const auto& [norm, name] : norms) {
      const Tensor s = randn(shape, 11);
      const Tensor c = kernels::ifftn(s, d, norm);
      Tensor ref(Shape(std::vector<int64_t>(shape.begin(), shape.end() - 1)));
      for (int64_t i = 0; i < ref.numel(); ++i) ref[i] = c[2 * i];
      Tensor y;
      kernels::real_ifftn_into(s, d, y, norm);
      close(y, ref, 1e-5, "real_ifftn " + shape.str() + " " + name);
    }
}

TEST_CASE("fft: the _into kernels reuse their output and agree with the returning ones", "[fft]") {
  const Tensor x = randn({2, 6, 5}, 4);
  Tensor s, y;
  kernels::rfftn_into(x, 2, s);
  kernels::irfftn_into(s, 2, 5, y);
  const float* s_data = s.data();
  const float* y_data = y.data();
  REQUIRE(equal(s, kernels::rfftn(x, 2)));
  REQUIRE(equal(y, kernels::irfftn(s, 2, 5)));
  const Tensor x2 = randn({2, 6, 5}, 5);
  kernels::rfftn_into(x2, 2, s);
  kernels::irfftn_into(s, 2, 5, y);
  CHECK(s.data() == s_data);  // same shape: same allocation
  CHECK(y.data() == y_data);
  close(y, x2, 1e-5, "round trip into reused outputs");
  Tensor f;
  kernels::fft_real_into(x, 2, f, Norm::Ortho);
  REQUIRE(equal(f, kernels::fft_real(x, 2, Norm::Ortho)));
  // A wrongly shaped output is reshaped, not written past its end.
  Tensor small({1});
  kernels::rfftn_into(x, 2, small);
  REQUIRE(small.shape() == s.shape());
}

TEST_CASE("fft: large batches split across threads give the per-example results", "[fft]") {
  // 7 × 96 × 96 is above the threshold for splitting the batch; 7 is odd so
  // the chunks differ in size.
  const Tensor x = randn({7, 96, 96}, 21);
  Tensor s, y, f, r;
  kernels::rfftn_into(x, 2, s);
  kernels::irfftn_into(s, 2, 96, y);
  kernels::fft_real_into(x, 2, f, Norm::Ortho);
  kernels::real_ifftn_into(f, 2, r, Norm::Ortho);
  for (int64_t b = 0; b < 7; ++b) {
    Tensor xb({1, 96, 96});
    std::copy(x.begin() + b * 96 * 96, x.begin() + (b + 1) * 96 * 96, xb.begin());
    const Tensor sb = kernels::rfftn(xb, 2);
    const Tensor fb = kernels::fft_real(xb, 2, Norm::Ortho);
    Tensor s_slice(sb.shape()), f_slice(fb.shape());
    std::copy(s.begin() + b * sb.numel(), s.begin() + (b + 1) * sb.numel(), s_slice.begin());
    std::copy(f.begin() + b * fb.numel(), f.begin() + (b + 1) * fb.numel(), f_slice.begin());
    close(s_slice, sb, 1e-6, "rfftn item " + std::to_string(b));
    close(f_slice, fb, 1e-6, "fft_real item " + std::to_string(b));
  }
  close(y, x, 1e-5, "irfftn of the batch");
  close(r, x, 1e-5, "real_ifftn of the batch");
}

TEST_CASE("fft: the plan cache is safe from several threads", "[fft]") {
  const std::vector<Shape> shapes = {{3, 8}, {2, 7}, {4, 13}, {2, 6, 5}, {1, 16, 9}};
  std::vector<Tensor> xs;
  for (size_t i = 0; i < shapes.size(); ++i) xs.push_back(randn(shapes[i], 100 + i));
  auto run = [&](size_t i) {
    const Tensor& x = xs[i];
    const int d = x.rank() - 1;
    std::vector<Tensor> r;
    r.push_back(kernels::rfftn(x, d, Norm::Ortho));
    r.push_back(kernels::irfftn(r.back(), d, x.dim(-1)));
    r.push_back(kernels::fft_real(x, d));
    r.push_back(kernels::ifftn(r.back(), d, Norm::Forward));
    r.push_back(kernels::dct(x, d, 2, Norm::Ortho));
    r.push_back(kernels::idct(x, d, 3));
    return r;
  };
  kernels::fft_clear_plans();
  std::vector<std::vector<Tensor>> expected;
  for (size_t i = 0; i < shapes.size(); ++i) expected.push_back(run(i));
  REQUIRE(kernels::fft_plan_count() > 0);
  kernels::fft_clear_plans();  // make the threads race on planning too
  REQUIRE(kernels::fft_plan_count() == 0);
  constexpr int threads = 4;
  std::vector<int> ok(threads, 1);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep)
        for (size_t k = 0; k < shapes.size(); ++k) {
          const size_t i = (k + t) % shapes.size();
          const auto got = run(i);
          for (size_t j = 0; j < got.size(); ++j)
            if (!equal(got[j], expected[i][j])) ok[t] = 0;
        }
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) REQUIRE(ok[t] == 1);
}

TEST_CASE("fft: planner mode and wisdom files", "[fft]") {
  kernels::fft_set_planner(kernels::FftPlanner::Measure);
  const Tensor x = randn({2, 12}, 9);
  const Tensor ref = kernels::fft_real(x, 1);  // planned with FFTW_MEASURE on scratch
  kernels::fft_set_planner(kernels::FftPlanner::Estimate);
  REQUIRE(kernels::fft_planner() == kernels::FftPlanner::Estimate);
  close(kernels::fft_real(x, 1), ref, 1e-6, "measure vs estimate");

  const test::TempDir dir("fft");
  const std::string path = dir.file("wisdom.txt");
  kernels::fft_save_wisdom(path);
  std::ifstream saved(path);
  std::string first_line;
  std::getline(saved, first_line);
  REQUIRE(first_line.find("fftw") != std::string::npos);  // "(fftw-3.3.x fftwf_wisdom ..."
  kernels::fft_load_wisdom(path);
  const std::string garbage = dir.file("garbage.txt");
  std::ofstream(garbage) << "not wisdom\n";
  REQUIRE_THROWS_WITH(kernels::fft_load_wisdom(garbage), Catch::Contains("garbage.txt"));
  try {
    kernels::fft_load_wisdom("/nonexistent/dir/wisdom.txt");
    FAIL("expected IoError");
  } catch (const IoError& e) {
    REQUIRE(std::string(e.what()).find("/nonexistent/dir/wisdom.txt") != std::string::npos);
  }
  REQUIRE_THROWS_AS(kernels::fft_save_wisdom("/nonexistent/dir/wisdom.txt"), IoError);
}

TEST_CASE("fft: bad shapes and arguments give clear errors", "[fft]") {
  const Tensor c3({2, 4, 3});
  require_throws_starting([&] { kernels::fftn(c3, 1); }, "fftn: input [2,4,3] must end in");
  require_throws_starting([&] { kernels::ifftn(c3, 1); }, "ifftn:");
  require_throws_starting([&] { kernels::irfftn(c3, 1, 6); }, "irfftn:");
  require_throws_starting([&] { kernels::fftn(Tensor({4, 2}), 2); }, "fftn: input [4,2] has rank 2, expected at least 3");
  require_throws_starting([&] { kernels::rfftn(Tensor({5}), 2); }, "rfftn: input [5] has rank 1");
  require_throws_starting([&] { kernels::fft_real(Tensor({5}), 0); }, "fft_real:");
  // irfftn: a half spectrum of 4 entries comes from 6 or 7 points, not 8.
  const Tensor h({2, 4, 2});
  require_throws_starting([&] { kernels::irfftn(h, 1, 8); }, "irfftn: input [2,4,2] has 4");
  REQUIRE(kernels::irfftn(h, 1, 7).shape() == Shape({2, 7}));
  REQUIRE(kernels::irfftn(h, 1, 6).shape() == Shape({2, 6}));
  require_throws_starting([&] { kernels::irfftn(h, 1, 0); }, "irfftn:");
  require_throws_starting([&] { kernels::dct(Tensor({3, 4}), 1, 4); }, "dct: DCT type must be 2 or 3");
  require_throws_starting([&] { kernels::idct(Tensor({3, 4}), 3); }, "idct:");
  require_throws_starting([&] { kernels::fftshift(Tensor({3, 4}), 1, true); }, "fftshift:");
  require_throws_starting([&] { kernels::dct(Tensor({3, 0}), 1); }, "dct:");
  // An empty batch is fine and gives an empty result.
  REQUIRE(kernels::rfftn(Tensor({0, 8}), 1).shape() == Shape({0, 5, 2}));
}
