// Fuzz target: ONNX model bytes -> import (and, when it imports, one forward
// pass on a zero input, so shapes computed at import are exercised too).
#include "fuzz_target.hpp"
#include "trim/graph/graph.hpp"
#include "trim/io/onnx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return trim::fuzz::expect_clean([&] {
    const trim::Graph g = trim::io::load_onnx_bytes(trim::fuzz::bytes_of(data, size), "fuzz.onnx");
    trim::Shape x = g.shape(g.inputs().at(0));
    x[0] = 1;
    if (x.numel() <= (int64_t{1} << 20)) g.evaluate(trim::Tensor(x));
  });
}
