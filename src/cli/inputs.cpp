#include "inputs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "args.hpp"
#include "trim/attribution/methods.hpp"
#include "trim/core/check.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/onnx.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/frequency_bands.hpp"
#include "trim/transforms/stft.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim::cli {

Model load_model(const std::string& path) {
  std::vector<io::OnnxTokenInput> tokens;
  io::OnnxImportOptions options;
  options.token_inputs = &tokens;
  Model m{path, io::load_onnx(path, options), {}, {}, 0, std::move(tokens)};
  const Graph& g = m.graph;
  if (g.inputs().size() != 1 || g.outputs().size() != 1)
    throw ValueError("model '" + path + "' has " + std::to_string(g.inputs().size()) + " inputs and " +
                     std::to_string(g.outputs().size()) + " outputs; trim explains models with one of each");
  m.example_shape = drop_leading(g.shape(g.inputs()[0]), 1);
  m.output_shape = drop_leading(g.shape(g.outputs()[0]), 1);
  m.n_outputs = m.output_shape.numel();
  return m;
}

void require_finite(const Tensor& t, const std::string& what, const std::string& why) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i]))
      throw ValueError(what + ": element " + index_text(t.shape(), i) + " is " +
                       (std::isnan(t[i]) ? "NaN" : "infinite") + " (" + why + ")");
}

Tensor read_finite_npy(const std::string& path, const std::string& role) {
  Tensor t = io::read_npy(path);
  require_finite(t, role + " '" + path + "'");
  return t;
}

Tensor as_batch(const Tensor& x, const Shape& example, const std::string& path, const std::string& model_path) {
  const int r = example.rank();
  if (x.rank() == r && x.shape() == example) return x.reshaped(prepend({1}, example));
  if (x.rank() == r + 1 && drop_leading(x.shape(), 1) == example) {
    if (x.dim(0) == 0) throw ShapeError("'" + path + "' holds no examples (shape " + x.shape().str() + ")");
    return x;
  }
  throw ShapeError("'" + path + "' has shape " + x.shape().str() + ", but model '" + model_path +
                   "' takes examples of shape " + example.str() + " (one example " + example.str() + " or a batch " +
                   batch_text(example) + ")");
}

Tensor model_input(const Model& m, const Tensor& x, const std::string& path) {
  if (m.tokens.size() == 1 && m.example_shape.rank() >= 1) {
    Shape ids;  // the example shape without the embedding width
    for (int k = 0; k + 1 < m.example_shape.rank(); ++k) ids.push_back(m.example_shape[k]);
    if (x.shape() == ids) return io::embed_tokens(m.tokens[0], x.reshaped(prepend({1}, ids)));
    if (x.rank() == ids.rank() + 1 && drop_leading(x.shape(), 1) == ids) return io::embed_tokens(m.tokens[0], x);
  }
  return as_batch(x, m.example_shape, path, m.path);
}

std::string batch_text(const Shape& example) {
  return example.rank() == 0 ? "[N]" : "[N," + example.str().substr(1);
}

Tensor rows(const Tensor& t, int64_t begin, int64_t end) { return example_rows(t, begin, end); }

Shape drop_leading(const Shape& s, int n) {
  Shape out;
  for (int a = n; a < s.rank(); ++a) out.push_back(s[a]);
  return out;
}

std::string spec_family(const std::string& spec) { return spec.substr(0, spec.find(':')); }

std::shared_ptr<const Transform> parse_transform(const std::string& spec, const Shape& example_shape) {
  const TransformFamily* family = find_transform_family(spec);
  const bool from_file = family && family->reads_file;
  try {
    return make_transform(spec, example_shape);
  } catch (const ValueError& e) {
    if (from_file) throw;  // the file's contents do not fit: not a command-line problem
    throw UsageError(e.what());
  }
}

std::vector<int64_t> parse_targets(const std::string& text, int64_t n_outputs, const std::string& model_path) {
  std::vector<int64_t> targets;
  if (text == "all") {
    for (int64_t k = 0; k < n_outputs; ++k) targets.push_back(k);
    return targets;
  }
  for (const std::string& part : split(text, ',')) {
    const std::optional<int64_t> k = parse_int(part);
    if (!k) throw UsageError("--target '" + text + "': expected 'all' or output indices such as 0 or 0,2");
    if (*k < 0 || *k >= n_outputs)
      throw UsageError("--target " + part + " is out of range: model '" + model_path + "' has " +
                       std::to_string(n_outputs) + " outputs per example (0 to " + std::to_string(n_outputs - 1) + ")");
    targets.push_back(*k);
  }
  return targets;
}

namespace {

/// "subbands, levels or mask:FILE.npy": the --groups forms that fit `t`
/// (Transform::groupings), for messages about one that does not.
std::string fitting_groupings(const Transform& t) {
  std::vector<std::string> forms;
  for (const std::string& k : t.groupings())
    forms.push_back(k == "radial"     ? "radial:N"
                    : k == "band"     ? "band:CENTER:WIDTH"
                    : k == "bands"    ? "bands:EDGES:SPACING[:UNITS]"
                    : k == "hz"       ? "hz:EDGES with --sample-rate"
                    : k == "mel"      ? "mel:N[:htk|slaney] with --sample-rate"
                    : k == "ell"      ? "ell:EDGES with --arcmin-per-pixel"
                    : k == "tiles"    ? "tiles:NF:NT"
                    : k == "segments" ? "segments:N"
                                      : k);
  forms.push_back("mask:FILE.npy");
  std::string s;
  for (size_t i = 0; i < forms.size(); ++i) s += (i == 0 ? "" : i + 1 == forms.size() ? " or " : ", ") + forms[i];
  return s;
}

}  // namespace

GroupUnits group_units(const Args& args) {
  GroupUnits u;
  u.sample_rate = args.get_double("sample-rate", 0, 1e-30, 1e30);
  u.arcmin_per_pixel = args.get_double("arcmin-per-pixel", 0, 1e-30, 1e30);
  if ((u.sample_rate > 0 || u.arcmin_per_pixel > 0) && !args.has("groups"))
    throw UsageError(std::string("--") + (u.sample_rate > 0 ? "sample-rate" : "arcmin-per-pixel") +
                     " gives the units of --groups, which is not given");
  return u;
}

std::vector<OptionSpec> group_unit_options() {
  return {{"sample-rate", "HZ",
           "samples per second of a 1-D signal: the unit of --groups hz:E0,E1,... (bands in Hz) and mel:N[:htk|slaney] "
           "(N bands of equal width on the mel scale, Slaney's by default, as librosa), and labels stft tiles: and "
           "segments: in Hz and seconds (fft1, rfft1, dct1, stft)"},
          {"arcmin-per-pixel", "A",
           "pixel size of a flat-sky map in arcmin: the unit of --groups ell:E0,E1,... (multipole bins l, fft2 and "
           "rfft2)"}};
}

namespace {

/// "E0,E1,..." as numbers; UsageError starting with `bad` otherwise.
std::vector<double> parse_edges(const std::string& text, const std::string& bad, const std::string& usage) {
  std::vector<double> edges;
  for (const std::string& e : split(text, ',')) {
    const std::optional<double> v = parse_double(e);
    if (!v) throw UsageError(bad + "edge '" + e + "' is not a number (expected " + usage + ")");
    edges.push_back(*v);
  }
  if (edges.size() < 2) throw UsageError(bad + "expected " + usage + " with at least two edges");
  return edges;
}

/// UsageError for a band of physical_bands that holds no coefficient, naming
/// it and the largest radius the transform reaches (its corner).
void require_filled(const Grouping& g, const Transform& t, double spacing, const std::string& bad) {
  std::vector<char> used(static_cast<size_t>(g.size()), 0);
  for (int32_t l : g.labels)
    if (l >= 0) used[static_cast<size_t>(l)] = 1;
  for (int b = 0; b < g.size(); ++b) {
    if (used[static_cast<size_t>(b)]) continue;
    double r2 = 0;  // the largest |f| per axis is floor(n/2) / (n·spacing)
    const Shape& in = t.input_shape();
    for (int a = in.rank() - t.axes(); a < in.rank(); ++a) {
      const double f = static_cast<double>(in[a] / 2) / (static_cast<double>(in[a]) * spacing);
      r2 += f * f;
    }
    const double top = g.units == "multipole l" ? 21600.0 * std::sqrt(r2) : std::sqrt(r2);  // l = 2π·f per radian
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", top);
    throw UsageError(bad + "band " + g.names[static_cast<size_t>(b)] + " holds no coefficient of '" + t.spec() +
                     "' (its largest radius is " + buf + " " + g.units + ")");
  }
}

}  // namespace

Grouping parse_groups(const std::string& text, const Transform& t, const GroupUnits& units) {
  const std::vector<std::string> parts = split(text, ':');
  const std::string& kind = parts[0];
  {
    const bool reads_rate = kind == "hz" || kind == "mel" || kind == "tiles" || kind == "segments";
    if (units.sample_rate > 0 && !reads_rate)
      throw UsageError("--sample-rate is the unit of --groups hz:, mel:, tiles: and segments:, not of '" + text + "'");
    if (units.arcmin_per_pixel > 0 && kind != "ell")
      throw UsageError("--arcmin-per-pixel is the unit of --groups ell:, not of '" + text + "'");
    if ((kind == "hz" || kind == "mel") && !(units.sample_rate > 0))
      throw UsageError("--groups '" + text + "' needs --sample-rate (samples per second of the signal)");
    if (kind == "ell" && !(units.arcmin_per_pixel > 0))
      throw UsageError("--groups '" + text + "' needs --arcmin-per-pixel (the pixel size of the map)");
  }
  if (kind == "mask") {
    if (parts.size() < 2 || text.size() <= 5) throw UsageError("--groups mask:FILE.npy needs a file name");
    const std::string path = text.substr(5);
    const io::NpyArray mask = io::read_npy_array(path);
    return mask_groups(t, Shape(mask.shape), mask.values, "mask '" + path + "'");
  }
  const std::string bad = "--groups '" + text + "': ";
  try {
    if (kind == "radial") {
      const std::optional<int64_t> n = parts.size() == 2 ? parse_int(parts[1]) : std::nullopt;
      if (!n || *n < 1 || *n > 100000) throw UsageError(bad + "expected radial:N with N bands, 1 <= N <= 100000");
      return radial_bands(t, static_cast<int>(*n));
    }
    if (kind == "band") {
      const std::optional<double> c = parts.size() == 3 ? parse_double(parts[1]) : std::nullopt;
      const std::optional<double> w = parts.size() == 3 ? parse_double(parts[2]) : std::nullopt;
      if (!c || !w || *w <= 0) throw UsageError(bad + "expected band:CENTER:WIDTH with WIDTH > 0 (the full width)");
      return radial_band(t, *c, *w);
    }
    if (kind == "bands") {
      // bands:E0,E1,...:SPACING[:UNITS]: edges in cycles per unit of the sample spacing
      // (Hz for a spacing in seconds), or multipole l for UNITS ell (spacing in arcmin).
      std::vector<double> edges;
      if (parts.size() == 3 || parts.size() == 4)
        for (const std::string& e : split(parts[1], ',')) {
          const std::optional<double> v = parse_double(e);
          if (!v) throw UsageError(bad + "edge '" + e + "' is not a number");
          edges.push_back(*v);
        }
      const std::optional<double> spacing = parts.size() >= 3 ? parse_double(parts[2]) : std::nullopt;
      if (!spacing || edges.size() < 2)
        throw UsageError(bad + "expected bands:E0,E1,...:SPACING[:UNITS] with at least two edges, e.g. "
                               "bands:0,250,500,1000:0.000125:Hz");
      std::string units = parts.size() == 4 ? parts[3] : "cycles per sample spacing";
      if (units == "ell" || units == "l") units = "multipole l";
      Grouping g = physical_bands(t, edges, *spacing, units);
      require_filled(g, t, *spacing, bad);
      return g;
    }
    if (kind == "hz") {
      if (parts.size() != 2) throw UsageError(bad + "expected hz:E0,E1,... (band edges in Hz)");
      return hz_bands(t, parse_edges(parts[1], bad, "hz:E0,E1,..."), units.sample_rate);
    }
    if (kind == "ell") {
      if (parts.size() != 2) throw UsageError(bad + "expected ell:E0,E1,... (multipole bin edges)");
      return ell_bands(t, parse_edges(parts[1], bad, "ell:E0,E1,..."), units.arcmin_per_pixel);
    }
    if (kind == "mel") {
      const std::optional<int64_t> n = parts.size() == 2 || parts.size() == 3 ? parse_int(parts[1]) : std::nullopt;
      const std::string scale = parts.size() == 3 ? parts[2] : "slaney";
      if (!n || *n < 1 || *n > 100000 || (scale != "slaney" && scale != "htk"))
        throw UsageError(bad + "expected mel:N[:htk|slaney] with N bands, 1 <= N <= 100000");
      return mel_bands(t, static_cast<int>(*n), units.sample_rate, scale == "htk" ? MelScale::Htk : MelScale::Slaney);
    }
    if (kind == "tiles") {
      const std::optional<int64_t> nf = parts.size() == 3 ? parse_int(parts[1]) : std::nullopt;
      const std::optional<int64_t> nt = parts.size() == 3 ? parse_int(parts[2]) : std::nullopt;
      if (!nf || !nt || *nf < 1 || *nt < 1 || *nf > 100000 || *nt > 100000)
        throw UsageError(bad + "expected tiles:NF:NT (NF frequency runs by NT time runs)");
      return stft_tiles(t, static_cast<int>(*nf), static_cast<int>(*nt), units.sample_rate);
    }
    if (kind == "segments") {
      const std::optional<int64_t> n = parts.size() == 2 ? parse_int(parts[1]) : std::nullopt;
      if (!n || *n < 1 || *n > 100000) throw UsageError(bad + "expected segments:N (N runs of frames)");
      return stft_segments(t, static_cast<int>(*n), units.sample_rate);
    }
    if (parts.size() == 1 && kind == "subbands") return wavelet_subbands(t);
    if (parts.size() == 1 && kind == "levels") return wavelet_levels(t);
    if (parts.size() == 1 && kind == "components") return component_groups(t);
  } catch (const ValueError& e) {
    // e.g. radial bands of a wavelet transform: the option does not fit the spec
    const std::vector<std::string> fit = t.groupings();
    if (std::find(fit.begin(), fit.end(), kind) != fit.end()) throw UsageError(bad + e.what());
    throw UsageError(bad + e.what() + " (groupings of '" + t.spec() + "': " + fitting_groupings(t) + ")");
  }
  throw UsageError(bad + "unknown grouping (expected radial:N, band:CENTER:WIDTH, bands:EDGES:SPACING[:UNITS], "
                         "hz:EDGES, mel:N[:htk|slaney], ell:EDGES, tiles:NF:NT, segments:N, subbands, levels, "
                         "components or mask:FILE.npy)");
}

std::optional<Grouping> parse_groups_option(const Args& args, const Transform& t) {
  const GroupUnits units = group_units(args);
  if (!args.has("groups")) return std::nullopt;
  return parse_groups(args.get("groups"), t, units);
}

Tensor parse_baseline(const std::string& text, const Shape& example_shape, const std::string& model_path) {
  const Shape one = prepend({1}, example_shape);
  if (text == "zero") return Tensor(one);
  if (const std::optional<double> v = parse_double(text)) return Tensor(one, static_cast<float>(*v));
  return as_batch(read_finite_npy(text, "baseline"), example_shape, text, model_path);
}

TrimSetup load_trim_setup(const Args& args, bool read_input) {
  TrimSetup s;
  const std::string& model_path = args.positional(0);
  const std::string& input_path = args.positional(1);
  const std::string spec = args.required("transform");
  s.model = load_model(model_path);
  if (read_input) s.x = model_input(s.model, read_finite_npy(input_path, "input"), input_path);
  s.transform = parse_transform(spec, s.model.example_shape);
  TrimOptions options;
  if (args.has("residual")) options.residual = TrimOptions::Residual::On;
  // The model's weights held once (the TRIM graph's; the model graph, kept
  // for plain predictions, borrows them): a ResNet-18 holds 45 MB, not 90.
  s.trim = TrimModel::sharing_weights(s.model.graph, s.transform, options);
  s.targets = parse_targets(args.get("target", "all"), s.model.n_outputs, model_path);
  if (!read_input) return s;
  s.compute_coefficients("input '" + input_path + "'");
  return s;
}

int64_t rows_per_batch(int64_t example_numel) {
  constexpr int64_t kValuesPerBatch = int64_t(1) << 20;
  return std::clamp<int64_t>(kValuesPerBatch / std::max<int64_t>(example_numel, 1), 1, 64);
}

int64_t max_memory_option(const Args& args) {
  if (!args.has("max-memory")) return 0;
  const std::optional<int64_t> b = parse_bytes(args.get("max-memory"));
  if (!b) throw UsageError("--max-memory '" + args.get("max-memory") + "': expected a size such as 2G, 500M or 65536");
  return *b;
}

std::vector<double> parse_range(const std::string& text, const std::string& option) {
  const std::vector<std::string> parts = split(text, ':');
  const std::optional<double> a = parts.size() == 3 ? parse_double(parts[0]) : std::nullopt;
  const std::optional<double> b = parts.size() == 3 ? parse_double(parts[1]) : std::nullopt;
  const std::optional<int64_t> n = parts.size() == 3 ? parse_int(parts[2]) : std::nullopt;
  if (!a || !b || !n || *n < 1 || *n > 100000)
    throw UsageError("--" + option + " '" + text + "': expected A:B:N, N values from A to B (1 <= N <= 100000)");
  std::vector<double> values(static_cast<size_t>(*n));
  for (int64_t i = 0; i < *n; ++i)
    values[static_cast<size_t>(i)] =
        *n == 1 ? *a : *a + (*b - *a) * static_cast<double>(i) / static_cast<double>(*n - 1);
  return values;
}

}  // namespace trim::cli
