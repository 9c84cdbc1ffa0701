// `trim transform` and `trim inverse`: coefficients s = T(x) and back.
//
// Transforms act on the trailing axes of an example and keep the leading
// ones, so an array treated as one example gets exactly the coefficients it
// would get as a batch: without --shape the whole file is one example.
#include "commands.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "trim/transforms/dictionary.hpp"

namespace trim::cli {

namespace {

Shape parse_shape(const std::string& text) {
  std::vector<int64_t> dims;
  for (const std::string& part : split(text, ',')) {
    const std::optional<int64_t> d = parse_int(part);
    if (!d || *d < 1 || *d > (int64_t(1) << 31))
      throw UsageError("--shape '" + text + "': expected positive sizes such as 1,64,64");
    dims.push_back(*d);
  }
  if (dims.size() > static_cast<size_t>(Shape::max_rank - 1))
    throw UsageError("--shape '" + text + "': at most " + std::to_string(Shape::max_rank - 1) + " axes");
  return Shape(dims);
}

/// The leading axes of `a` in front of the per-example shape `per`, or an
/// error naming the file when `a` does not end with `per`.
Shape leading_axes(const Tensor& a, const Shape& per, const std::string& path, const std::string& what) {
  const int lead = a.rank() - per.rank();
  if (lead >= 0 && drop_leading(a.shape(), lead) == per) {
    Shape s;
    for (int i = 0; i < lead; ++i) s.push_back(a.dim(i));
    return s;
  }
  throw ShapeError("'" + path + "' has shape " + a.shape().str() + ", which does not end with the " + what + " " +
                   per.str());
}

/// f applied to `a` as a batch of examples of shape `per_in`: the leading
/// axes of `a` are kept in front of the per-example result.
Tensor per_example(const Tensor& a, const Shape& per_in, const std::string& path, const std::string& what,
                   const std::function<Tensor(const Tensor&)>& f) {
  const Shape lead = leading_axes(a, per_in, path, what);
  const Tensor y = f(a.reshaped(prepend({lead.numel()}, per_in)));
  Shape out = lead;
  for (int i = 1; i < y.rank(); ++i) out.push_back(y.dim(i));
  return y.reshaped(out);
}

/// The signal shape whose coefficients have shape `coef`, where the spec
/// determines it (signal_shape_for); UsageError asking for --shape where it
/// does not (dwt).
Shape infer_signal_shape(const std::string& spec, const Shape& coef, const std::string& path) {
  std::optional<Shape> s;
  try {
    s = signal_shape_for(spec, coef);
  } catch (const ShapeError& e) {
    throw ShapeError("'" + path + "': " + e.what());
  } catch (const ValueError& e) {
    throw UsageError(e.what());  // an unknown family
  }
  if (s) return *s;
  throw UsageError("the inverse of '" + spec +
                   "' needs --shape: its coefficients do not determine the signal size (give the shape of one "
                   "example, e.g. --shape 1,64,64)");
}

void run_transform(const Args& args) {
  const std::string& spec = args.positional(0);
  const std::string& path = args.positional(1);
  const std::string out = args.required("output");
  Outputs outputs;
  outputs.declare(out, "-o");
  const Tensor x = read_finite_npy(path, "input");
  const Shape example = args.has("shape") ? parse_shape(args.get("shape")) : x.shape();
  const auto t = parse_transform(spec, example);
  const Tensor s = per_example(x, example, path, "example shape", [&](const Tensor& b) {
    try {
      return t->forward(b);
    } catch (const Error& e) {
      throw ValueError("input '" + path + "': " + e.what());  // e.g. NMF codes of negative values
    }
  });
  outputs.npy(out, s, "the coefficients");
  outputs.commit();
}

void run_inverse(const Args& args) {
  const std::string& spec = args.positional(0);
  const std::string& path = args.positional(1);
  const std::string out = args.required("output");
  Outputs outputs;
  outputs.declare(out, "-o");
  const Tensor s = read_finite_npy(path, "coefficients");
  const Shape example = args.has("shape") ? parse_shape(args.get("shape")) : infer_signal_shape(spec, s.shape(), path);
  const auto t = parse_transform(spec, example);
  const std::string what = "coefficient shape of '" + t->spec() + "' for signals " + example.str() + ",";
  const Tensor x = per_example(s, t->coefficient_shape(), path, what, [&](const Tensor& b) { return t->inverse(b); });
  outputs.npy(out, x, "the reconstructed signal");
  outputs.commit();
}

OptionSpec shape_option(const std::string& help) { return {"shape", "D1[,D2...]", help}; }

/// The spec syntax of every family (transform_families()), families with the
/// same syntax joined: "identity, fft1|fft2|...[:NORM], ...".
std::string spec_help() {
  std::string s = "a transform spec: ";
  const auto& table = transform_families();
  for (size_t i = 0; i < table.size(); ++i) {
    const bool first_of_kind = i == 0 || table[i - 1].syntax != table[i].syntax;
    const bool last_of_kind = i + 1 == table.size() || table[i + 1].syntax != table[i].syntax;
    s += (i == 0 ? "" : first_of_kind ? ", " : "|") + table[i].name;
    if (last_of_kind) s += table[i].syntax;
  }
  return s + " with NORM backward (default), ortho or forward (docs/transforms.md, docs/wavelets.md, "
             "docs/dictionaries.md)";
}

}  // namespace

Command transform_command() {
  CommandSpec s;
  s.name = "transform";
  s.summary = "coefficients s = T(x) of a transform";
  s.description =
      "Writes the coefficients of INPUT.npy. A transform acts on the trailing axes of an example and keeps the "
      "leading ones (channels, batch), so by default the whole array is transformed as one example, which gives the "
      "same coefficients as transforming each row of a batch. Complex coefficients (fft*, rfft*, stft) get a trailing "
      "axis of 2 (re, im), or (|s|, arg s) with :polar; stft coefficients are [..., N_FFT/2+1 bins, frames, 2]; dwt "
      "coefficients of each channel are the flattened sub-bands in wavedec order (cA_n, cH_n, cV_n, cD_n, ..., cD_1; "
      "dwt3: cA_n, aad_n, ..., ddd_n, ..., ddd_1).";
  s.positionals = {{"SPEC", spec_help()}, {"INPUT.npy", "the signal(s), float or integer .npy"}};
  s.options = {output_option("the coefficients (float32 .npy)"),
               shape_option("the shape of one example; the input must be that shape or a batch of it (one more "
                            "leading axis). Default: the whole array")};
  s.examples =
      "  trim transform rfft2:ortho maps.npy -o spectra.npy\n"
      "  trim transform dwt2:db4:3:symmetric maps.npy --shape 1,64,64 -o coeffs.npy\n";
  return {s, run_transform};
}

Command inverse_command() {
  CommandSpec s;
  s.name = "inverse";
  s.summary = "signals x = T^-1(s) from coefficients";
  s.description =
      "Inverts a transform. --shape is the shape of one signal example; the coefficients must be its coefficient "
      "shape, with any leading axes (a batch) in front, which are kept. Without --shape the signal shape is derived "
      "from the coefficients where the spec determines it: fft1-3 drop the (re, im) axis, rfft1-3 give an even "
      "last axis 2*(m-1) as NumPy's irfft, swt1/swt2 drop the band axis, nmf/pca/dict replace the components by the "
      "dictionary's features. dwt1-3 and stft always need --shape.";
  s.positionals = {{"SPEC", spec_help()}, {"COEFFS.npy", "coefficients, as `trim transform` writes them"}};
  s.options = {output_option("the signal(s) (float32 .npy)"),
               shape_option("the shape of one signal example (needed for dwt1-3, stft and odd rfft lengths)")};
  s.examples = "  trim inverse dwt2:db4:3 coeffs.npy --shape 1,64,64 -o maps.npy\n";
  return {s, run_inverse};
}

}  // namespace trim::cli
