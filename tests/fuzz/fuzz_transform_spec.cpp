// Fuzz target: transform spec strings -> make_transform on a small signal
// shape, then forward and inverse of a zero signal when it builds. The first
// two bytes pick the shape (rank 1-3, sides 1-33), the rest is the spec.
// Transforms with more than kMaxCoefficients coefficients are built (their
// parsing and layout checks are what is fuzzed) but not run: a 3-D wavelet
// far above its maximum level legitimately holds ~10^8 boundary
// coefficients, which takes seconds, and longer than libFuzzer's timeout
// under the sanitizers.
#include "fuzz_target.hpp"
#include "trim/transforms/transform.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int rank = 1 + data[0] % 3;
  const int64_t side = 1 + data[1] % 33;
  trim::Shape shape;
  shape.push_back(1);  // one channel
  for (int k = 0; k < rank; ++k) shape.push_back(side);
  const std::string spec = trim::fuzz::bytes_of(data + 2, size - 2);
  return trim::fuzz::expect_clean([&] {
    const auto t = trim::make_transform(spec, shape);
    constexpr int64_t kMaxCoefficients = int64_t{1} << 20;
    if (t->coefficient_shape().numel() > kMaxCoefficients) return;
    trim::Shape batch;
    batch.push_back(1);
    for (int k = 0; k < shape.rank(); ++k) batch.push_back(shape[k]);
    const trim::Tensor s = t->forward(trim::Tensor(batch));
    t->inverse(s);
  });
}
