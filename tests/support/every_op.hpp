#pragma once
// The one graph that holds every op the library builds (a test helper).
// Tests that must cover every op run on it: the executor's kept-activation
// and backward_reads_* claims (tests/graph/test_executor.cpp) and the ONNX
// exporter's round trip (tests/io/test_onnx.cpp). A new op goes here.

#include "trim/graph/graph.hpp"

namespace trim::test {

/// Input "x" [*, 2, 8, 8]; outputs log-softmax and softmax over 3 classes.
Graph every_op();

}  // namespace trim::test
