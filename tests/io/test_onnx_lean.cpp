// ONNX loading without copying the weights (src/io/onnx_lean.hpp): models
// written here byte by byte in protobuf's wire format, so that the corner
// cases of protobuf's merge rules (a field given twice, a message split in
// two) are exercised on the large raw_data the loader leaves in the file.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/io/onnx.hpp"
#include "trim/io/onnx_info.hpp"

using namespace trim;
using trim::test::TempDir;

namespace {

// ---- protobuf wire format ------------------------------------------------------------

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string num(int field, uint64_t v) { return varint(static_cast<uint64_t>(field) << 3) + varint(v); }
std::string bytes(int field, const std::string& body) {
  return varint((static_cast<uint64_t>(field) << 3) | 2) + varint(body.size()) + body;
}
std::string floats(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  for (size_t k = 0; k < v.size(); ++k) {
    uint32_t b;
    std::memcpy(&b, &v[k], 4);
    for (int j = 0; j < 4; ++j) s[4 * k + j] = static_cast<char>((b >> (8 * j)) & 0xff);  // little-endian
  }
  return s;
}

// onnx.proto field numbers.
std::string node(const std::string& op, std::vector<std::string> in, const std::string& out, const std::string& attrs = "") {
  std::string s;
  for (const auto& i : in) s += bytes(1, i);
  return s + bytes(2, out) + bytes(4, op) + attrs;
}
std::string int_attr(const std::string& name, int64_t v) {
  return bytes(5, bytes(1, name) + num(20, 2 /* INT */) + num(3, static_cast<uint64_t>(v)));
}
/// A float initializer [rows, cols] with one raw_data field per entry of `raws`.
std::string initializer(const std::string& name, int64_t rows, int64_t cols, const std::vector<std::string>& raws) {
  std::string s = num(1, static_cast<uint64_t>(rows)) + num(1, static_cast<uint64_t>(cols)) + num(2, 1 /* FLOAT */) +
                  bytes(8, name);
  for (const auto& r : raws) s += bytes(9, r);
  return s;
}
/// A float value [N, width].
std::string value_info(const std::string& name, int64_t width) {
  const std::string dims = bytes(1, bytes(2, "N")) + bytes(1, num(1, static_cast<uint64_t>(width)));
  return bytes(1, name) + bytes(2, bytes(1, num(1, 1) + bytes(2, dims)));
}
std::string model(const std::vector<std::string>& graphs) {
  std::string s = num(1, 8) + bytes(8, num(2, 13));
  for (const auto& g : graphs) s += bytes(7, g);
  return s;
}

constexpr int64_t kW = 12;  // 12 x 12 floats: 576 bytes, left in the file by the loader

std::vector<float> weights(float seed) {
  std::vector<float> w(kW * kW);
  for (size_t k = 0; k < w.size(); ++k) w[k] = seed + 0.01f * static_cast<float>(k % 37) - 0.1f * static_cast<float>(k % 5);
  return w;
}

/// y = x W (MatMul), z = y Wᵀ (Gemm, transB = 1): one initializer read by two
/// nodes, moved into its parameter only by the last.
std::string graph_nodes() {
  return bytes(1, node("MatMul", {"x", "W"}, "y")) + bytes(1, node("Gemm", {"y", "W"}, "z", int_attr("transB", 1))) +
         bytes(11, value_info("x", kW)) + bytes(12, value_info("z", kW));
}

/// The same product by hand: z = (x W) Wᵀ.
std::vector<double> expected(const std::vector<float>& x, const std::vector<float>& w) {
  std::vector<double> y(kW, 0.0), z(kW, 0.0);
  for (int64_t j = 0; j < kW; ++j)
    for (int64_t k = 0; k < kW; ++k) y[j] += static_cast<double>(x[k]) * w[k * kW + j];
  for (int64_t i = 0; i < kW; ++i)
    for (int64_t j = 0; j < kW; ++j) z[i] += y[j] * w[i * kW + j];
  return z;
}

void require_computes(const Graph& g, const std::vector<float>& w) {
  std::vector<float> xs(kW);
  for (int64_t k = 0; k < kW; ++k) xs[k] = 0.3f - 0.05f * static_cast<float>(k);
  const Tensor z = g.evaluate(Tensor({1, kW}, xs));
  const std::vector<double> want = expected(xs, w);
  REQUIRE(z.numel() == kW);
  for (int64_t k = 0; k < kW; ++k) REQUIRE(std::abs(z[k] - want[static_cast<size_t>(k)]) < 1e-4 * (1 + std::abs(want[static_cast<size_t>(k)])));
}

}  // namespace

TEST_CASE("onnx lean load: weights left in the file load as protobuf would read them", "[io][onnx][lean]") {
  const std::vector<float> a = weights(0.5f), b = weights(-0.25f);
  SECTION("one raw_data") {
    const std::string m = model({graph_nodes() + bytes(5, initializer("W", kW, kW, {floats(a)}))});
    require_computes(io::load_onnx_bytes(m, "one.onnx"), a);
    TempDir dir("lean");
    const std::string path = dir.file("one.onnx");
    std::ofstream(path, std::ios::binary) << m;
    require_computes(io::load_onnx(path), a);
    REQUIRE(io::check_onnx(path).empty());
    REQUIRE(io::read_onnx_info(path).op_counts.at("Gemm") == 1);
  }
  SECTION("raw_data given twice: the last one counts") {
    require_computes(
        io::load_onnx_bytes(model({graph_nodes() + bytes(5, initializer("W", kW, kW, {floats(a), floats(b)}))}), "twice"),
        b);
    // A short last one wins too (and is too short for the shape).
    REQUIRE_THROWS_WITH(
        io::load_onnx_bytes(model({graph_nodes() + bytes(5, initializer("W", kW, kW, {floats(a), "abcd"}))}), "short"),
        Catch::Contains("has 4 bytes of raw data, expected 576"));
    require_computes(
        io::load_onnx_bytes(model({graph_nodes() + bytes(5, initializer("W", kW, kW, {"abcd", floats(b)}))}), "long"), b);
  }
  SECTION("the graph split in two messages (protobuf merges them)") {
    const std::string init = bytes(5, initializer("V", kW, kW, {floats(b)})) + bytes(5, initializer("W", kW, kW, {floats(a)}));
    require_computes(io::load_onnx_bytes(model({graph_nodes(), init}), "split"), a);
    require_computes(io::load_onnx_bytes(model({init, graph_nodes()}), "split"), a);
  }
  SECTION("a file cut inside a weight") {
    const std::string m = model({graph_nodes() + bytes(5, initializer("W", kW, kW, {floats(a)}))});
    TempDir dir("lean");
    const std::string path = dir.file("cut.onnx");
    std::ofstream(path, std::ios::binary) << m.substr(0, m.size() - 100);
    REQUIRE_THROWS_WITH(io::load_onnx(path), Catch::Contains("cut.onnx") && Catch::Contains("malformed or truncated"));
  }
}
