// A recurrent and an attention model read from ONNX files that
// bench/compare_recurrent.py writes from its PyTorch twins (directory in
// $TRIM_BENCH_MODELS; each benchmark is skipped when its file is missing):
//   lstm.onnx     LSTM classifier: LSTM(64 → 128) read sequence-first over 32 steps,
//                 Linear on the last hidden state (acd's LSTMSentiment shape)
//   encoder.onnx  two pre-norm transformer encoder layers (d 64, 4 heads,
//                 MLP 128, written batch-first), mean over 32 tokens, Linear
//   mha.onnx      the same from nn.TransformerEncoder (torch's own
//                 nn.MultiheadAttention export: sequence-first inside, the
//                 batch merged with the heads)
// For each: forward at batch 1 and 32, integrated gradients (50 steps, one
// example, target 0), and CD over the 30 spans of 3 consecutive steps.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <string>

#include "networks.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"
#include "trim/io/onnx.hpp"

namespace {

using namespace trim;

constexpr int64_t kSteps = 32, kSpan = 3;

/// The model `name` from $TRIM_BENCH_MODELS, or null (the benchmark is skipped).
const Graph* model(const std::string& name) {
  static std::map<std::string, Graph> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  const char* dir = std::getenv("TRIM_BENCH_MODELS");
  if (!dir) return nullptr;
  try {
    return &cache.emplace(name, io::load_onnx(std::string(dir) + "/" + name + ".onnx")).first->second;
  } catch (const std::exception&) {
    return nullptr;
  }
}

Tensor input(const Graph& g, int64_t n) {
  Shape s = g.shape(g.inputs()[0]);
  s[0] = n;
  Tensor x(s);
  Rng(3).fill_normal(x, 0, 1);
  return x;
}

void forward_case(benchmark::State& state, const std::string& name) {
  const Graph* g = model(name);
  if (!g) return state.SkipWithError("set TRIM_BENCH_MODELS (bench/compare_recurrent.py writes the models)");
  const Tensor x = input(*g, state.range(0));
  Workspace ws;
  for (auto _ : state) {
    forward(*g, ws, {x});
    benchmark::DoNotOptimize(ws.value(g->outputs()[0]).data());
  }
}

void ig_case(benchmark::State& state, const std::string& name) {
  const Graph* g = model(name);
  if (!g) return state.SkipWithError("set TRIM_BENCH_MODELS (bench/compare_recurrent.py writes the models)");
  const Tensor x = input(*g, 1);
  AttributionOptions o;
  o.targets = Targets(0);
  IntegratedGradientsOptions ig;
  ig.n_steps = 50;
  for (auto _ : state) {
    const Attribution a = integrated_gradients(*g, x, ig, o);
    benchmark::DoNotOptimize(a.attributions.data());
  }
}

void cd_case(benchmark::State& state, const std::string& name) {
  const Graph* g = model(name);
  if (!g) return state.SkipWithError("set TRIM_BENCH_MODELS (bench/compare_recurrent.py writes the models)");
  const Tensor x = input(*g, 1);
  const int64_t T = x.dim(1), D = x.dim(2);
  std::vector<Tensor> masks;
  for (int64_t s = 0; s + kSpan <= T; ++s) {
    Tensor m({T, D});
    for (int64_t i = s * D; i < (s + kSpan) * D; ++i) m[i] = 1.0f;
    masks.push_back(m);
  }
  CdOptions o;
  o.targets = Targets(0);
  for (auto _ : state) {
    const CdResult r = contextual_decomposition(*g, x, masks, o);
    benchmark::DoNotOptimize(r.rel.data());
  }
}

void BM_lstm_forward(benchmark::State& state) { forward_case(state, "lstm"); }
void BM_lstm_ig50(benchmark::State& state) { ig_case(state, "lstm"); }
void BM_lstm_cd_spans(benchmark::State& state) { cd_case(state, "lstm"); }
void BM_encoder_forward(benchmark::State& state) { forward_case(state, "encoder"); }
void BM_encoder_ig50(benchmark::State& state) { ig_case(state, "encoder"); }
void BM_encoder_cd_spans(benchmark::State& state) { cd_case(state, "encoder"); }
void BM_mha_forward(benchmark::State& state) { forward_case(state, "mha"); }
void BM_mha_ig50(benchmark::State& state) { ig_case(state, "mha"); }
void BM_mha_cd_spans(benchmark::State& state) { cd_case(state, "mha"); }

}  // namespace

BENCHMARK(BM_lstm_forward)->Arg(1)->Arg(kSteps)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lstm_ig50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lstm_cd_spans)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encoder_forward)->Arg(1)->Arg(kSteps)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encoder_ig50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encoder_cd_spans)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mha_forward)->Arg(1)->Arg(kSteps)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mha_ig50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mha_cd_spans)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
