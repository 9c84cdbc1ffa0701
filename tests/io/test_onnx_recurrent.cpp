// Recurrent layers exported from PyTorch 1.13 at opsets 13 and 17
// (tests/reference/make_recurrent.py): LSTM and GRU, forward and
// bidirectional, one and two layers, zero and given initial states,
// batch_first and sequence-first. Each imports, predicts and differentiates
// as PyTorch does at batch 1 and 3 (input gradients, and the weight
// gradients of the unrolled cells); DeepLIFT is complete and CD sums to the
// output; CD of an LSTM equals acd's cd_text on spans of time steps.
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/graph/executor.hpp"
#include "trim/io/onnx.hpp"

using namespace trim;
using trim::test::require_close;

namespace {

std::string model_path(const std::string& name) {
  return std::string(TRIM_FIXTURE_DIR) + "/recurrent/" + name + ".onnx";
}

double largest(const Tensor& t) {
  double m = 0.0;
  for (float v : t) m = std::max(m, double(std::fabs(v)));
  return m;
}

void check_against_torch(const Graph& g, const test::Fixture& f) {
  for (const char* n : {"1", "3"}) {
    INFO("batch " << n);
    const Tensor& x = f[std::string("x") + n];
    Workspace ws;
    forward(g, ws, {x});
    const Tensor& ref = f[std::string("y") + n];
    require_close(outputs(g, ws)[0], ref, 1e-5, std::max(1e-3, 0.05 * largest(ref)), "output");
    const bool batch3 = std::string(n) == "3";
    const Gradients grads = backward(g, ws, {f[std::string("u") + n]}, batch3);
    const Tensor& dx = f[std::string("dx") + n];
    require_close(grads.inputs[0], dx, 1e-4, std::max(1e-3, 0.05 * largest(dx)), "input gradient");
    if (!batch3) continue;
    // The unrolled cells' weight gradients, summed over the steps, against
    // autograd's of torch's weights (make_recurrent.py's param_grads).
    int checked = 0;
    for (size_t p = 0; p < g.parameters().size(); ++p) {
      const std::string key = "grad:" + g.parameters()[p].name;
      if (!f.has(key)) continue;
      INFO(key);
      const Tensor& want = f[key];
      REQUIRE(grads.params[p].numel() == want.numel());
      require_close(grads.params[p].reshaped(want.shape()), want, 1e-4, std::max(1e-4, 0.01 * largest(want)),
                    "parameter gradient");
      ++checked;
    }
    REQUIRE(checked >= 3);  // W, R and the bias(es) of every layer and direction
  }
}

/// DeepLIFT completeness (Σ attributions = F(x) − F(0)) and CD's
/// rel + irrel = output for a span of time steps and all steps.
void check_attribution(const Graph& g, const Tensor& x) {
  const Tensor y = g.evaluate(x);
  const Tensor y0 = g.evaluate(Tensor(x.shape()));
  double scale = 1e-3;
  for (int64_t i = 0; i < y.numel(); ++i) scale = std::max(scale, double(std::fabs(y[i] - y0[i])));
  const Attribution dl = deeplift(g, x);
  for (float d : dl.delta) REQUIRE(std::fabs(d) <= 1e-5 * scale);
  const int64_t targets = y.dim(1), n = y.dim(0), T = x.dim(1), D = x.dim(2);
  Tensor span({T, D});
  for (int64_t i = D; i < 3 * D; ++i) span[i] = 1.0f;
  const CdResult cd = contextual_decomposition(g, x, std::vector<Tensor>{span, Tensor({T, D}, 1.0f)});
  for (int64_t t = 0; t < targets; ++t)
    for (int64_t e = 0; e < n; ++e)
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t i = (t * n + e) * 2 + k;
        REQUIRE(std::isfinite(cd.rel[i]));
        REQUIRE(std::fabs(double(cd.rel[i]) + cd.irrel[i] - y[e * targets + t]) <= 1e-4 * scale);
      }
}

void check_model(const std::string& name) {
  const test::Fixture f("recurrent/" + name + ".txt");
  for (const char* opset : {"13", "17"}) {
    INFO(name << " opset " << opset);
    const Graph g = io::load_onnx(model_path(name + "_op" + opset));
    check_against_torch(g, f);
    check_attribution(g, f["x3"]);
  }
}

}  // namespace

TEST_CASE("onnx recurrent: LSTM, two bidirectional layers, batch_first, zero state", "[io][onnx][recurrent]") {
  check_model("lstm_bf");
}

TEST_CASE("onnx recurrent: LSTM read sequence-first with a given initial state (h_n)", "[io][onnx][recurrent]") {
  check_model("lstm_sf");
}

TEST_CASE("onnx recurrent: GRU, bidirectional, batch_first, mean over time", "[io][onnx][recurrent]") {
  check_model("gru_bf");
}

TEST_CASE("onnx recurrent: GRU, two layers read sequence-first, zero state given", "[io][onnx][recurrent]") {
  check_model("gru_sf");
}

TEST_CASE("onnx recurrent: CD of an LSTM over word vectors equals acd's cd_text on spans of time steps",
          "[io][onnx][recurrent][cd]") {
  const test::Fixture f("recurrent/lstm_acd.txt");
  const Tensor& x = f["x3"];
  const Tensor& spans = f["spans"];
  const int64_t N = x.dim(0), T = x.dim(1), D = x.dim(2), S = spans.dim(0);
  std::vector<Tensor> masks;
  for (int64_t s = 0; s < S; ++s) {
    Tensor m({T, D});
    for (int64_t t = static_cast<int64_t>(spans[s * 2]); t <= static_cast<int64_t>(spans[s * 2 + 1]); ++t)
      for (int64_t d = 0; d < D; ++d) m[t * D + d] = 1.0f;
    masks.push_back(m);
  }
  const Tensor &ref_rel = f["cd_rel"], &ref_irrel = f["cd_irrel"];
  const int64_t K = ref_rel.dim(2);
  for (const char* opset : {"13", "17"}) {
    INFO("opset " << opset);
    const Graph g = io::load_onnx(model_path(std::string("lstm_acd_op") + opset));
    check_against_torch(g, f);
    const CdResult cd = contextual_decomposition(g, x, masks);
    REQUIRE(cd.rel.shape() == Shape({K, N, S}));
    double worst = 0.0;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t e = 0; e < N; ++e)
        for (int64_t s = 0; s < S; ++s) {
          const int64_t i = (k * N + e) * S + s, r = (e * S + s) * K + k;
          worst = std::max(worst, std::fabs(double(cd.rel[i]) - ref_rel[r]));
          worst = std::max(worst, std::fabs(double(cd.irrel[i]) - ref_irrel[r]));
        }
    INFO("largest difference from acd " << worst);
    CHECK(worst <= 1e-4);
    check_attribution(g, x);
  }
}

TEST_CASE("onnx recurrent: an Embedding + LSTM token model is explained in the space of its word vectors",
          "[io][onnx][recurrent][tokens]") {
  const test::Fixture f("recurrent/lstm_tokens.txt");
  for (const char* opset : {"13", "17"}) {
    INFO("opset " << opset);
    std::vector<io::OnnxTokenInput> tokens;
    io::OnnxImportOptions options;
    options.token_inputs = &tokens;
    const Graph g = io::load_onnx(model_path(std::string("lstm_tokens_op") + opset), options);
    REQUIRE(tokens.size() == 1);
    for (const char* n : {"1", "3"})
      REQUIRE(io::embed_tokens(tokens[0], f[std::string("ids") + n]).to_vector() == f[std::string("x") + n].to_vector());
    check_against_torch(g, f);
    check_attribution(g, f["x3"]);
  }
}
