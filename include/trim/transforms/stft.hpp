#pragma once
/// \file
/// The short-time Fourier transform as a TRIM transform: attribution to
/// time–frequency tiles, frequency bands (Hz, mel) and time segments of a
/// 1-D signal (audio, time series).
///
/// Spec: `stft:WINDOW:N_FFT:HOP[:center]` with WINDOW `hann`, `hamming` or
/// `rect` (also `rectangular`, `boxcar`), the periodic windows of
/// `scipy.signal.get_window` and `torch.hann_window` (window length = N_FFT).
/// The transform acts on the last axis of an example [leading..., n] and gives
/// [leading..., N_FFT/2 + 1, frames, 2]: frequency bins by frames, (re, im)
/// pairs, the layout of `torch.stft(..., return_complex=True)` and of
/// `scipy.signal.stft`'s Zxx.
///
///   s[k, m] = Σ_j w[j] · x_pad[m·HOP + j] · e^{−2πi·jk/N_FFT}   (unnormalised)
///
/// `center` pads N_FFT/2 zeros on both sides first, so frame m is centred at
/// sample m·HOP (scipy's `boundary='zeros'`, torch's `pad_mode='constant'`,
/// librosa's default): zeros, not torch's default reflection, so the edge
/// frames describe the signal and not mirrored copies of it. Without `center`
/// frame m starts at sample m·HOP. Either way the end is padded with zeros so
/// that the frames cover every sample (scipy's `padded=True`): frames =
/// ceil((n_pad − N_FFT)/HOP) + 1 with n_pad = n (+ 2·(N_FFT/2) with center).
/// So `s` equals `scipy.signal.stft(x, window=WINDOW, nperseg=N_FFT,
/// noverlap=N_FFT−HOP, boundary='zeros' or None, padded=True) · Σw` (scipy
/// divides by Σw) and, on the frames torch computes (torch drops the tail
/// that does not fill a frame), `torch.stft(x, N_FFT, HOP, window=w,
/// center=…, pad_mode='constant')`.
///
/// The inverse is the weighted overlap-add of `torch.istft` /
/// `scipy.signal.istft`: x[p] = Σ_m w[p − m·HOP]·irfft(s[:, m])[p − m·HOP] /
/// Σ_m w²[p − m·HOP], cropped to the signal. It reconstructs x exactly when
/// the denominator is positive at every sample of the signal (the NOLA
/// condition on the signal's own frames); a window and hop that fail it
/// (e.g. `hann` without `center`, whose first sample only meets w[0] = 0) are
/// refused when the transform is made. As every inverse it is a Linear graph
/// op whose backward is its exact adjoint.

#include <memory>
#include <string>
#include <vector>

#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

enum class StftWindow { Hann, Hamming, Rect };

/// What an STFT spec says.
struct StftOptions {
  StftWindow window = StftWindow::Hann;
  int64_t n_fft = 256;
  int64_t hop = 64;
  bool center = false;
};

/// "hann", "hamming", "rect".
std::string stft_window_name(StftWindow w);
/// The periodic window of length n (scipy.signal.get_window(name, n)).
std::vector<double> stft_window(StftWindow w, int64_t n);

namespace detail {
struct StftPlan;
}

class StftTransform final : public Transform {
 public:
  /// Throws ValueError for n_fft < 1, n_fft longer than the signal, hop < 1,
  /// hop > n_fft or a window and
  /// hop that fail the NOLA condition on this signal length (naming the
  /// first sample that cannot be reconstructed); ShapeError for an input
  /// without axes or with a size 0.
  StftTransform(const StftOptions& options, const Shape& input_shape);

  /// "stft:hann:256:64:center".
  std::string spec() const override;
  int axes() const override { return 1; }
  std::string family() const override { return "stft"; }
  CoefficientLayout coefficient_layout() const override { return CoefficientLayout::TimeFrequency; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& s) const override;
  std::shared_ptr<const Op> inverse_op() const override;

  const StftOptions& options() const;
  /// The signal length n (the input's last axis).
  int64_t length() const;
  /// N_FFT/2 + 1.
  int64_t bins() const;
  int64_t frames() const;
  /// The centre of frame m in samples of the signal: m·HOP with center,
  /// m·HOP + N_FFT/2 without (scipy.signal.stft's t times fs).
  double frame_center(int64_t m) const;
  /// Leading (channel) positions of one example.
  int64_t channels() const;

 private:
  explicit StftTransform(std::shared_ptr<const detail::StftPlan> plan);
  std::shared_ptr<const detail::StftPlan> plan_;
};

/// Parses an `stft:...` spec (make_transform calls it); ValueError naming the
/// bad part.
std::shared_ptr<const StftTransform> make_stft(const std::string& spec, const Shape& input_shape);

/// The STFT of `t` or ValueError naming `where` and the spec of a transform
/// that is not one.
const StftTransform& as_stft(const Transform& t, const std::string& where);

/// Time–frequency tiles: the bins split into `n_freq` and the frames into
/// `n_time` contiguous runs as even as `numpy.array_split` makes them,
/// n_freq·n_time groups, frequency-major ("f 0-15, t 0-3" in bins and
/// frames; in Hz and seconds when `sample_rate` > 0). centers: group index,
/// units "tile". ValueError for more runs than bins or frames.
Grouping stft_tiles(const Transform& t, int n_freq, int n_time, double sample_rate = 0);
/// Time segments: the frames split into `n` contiguous runs (array_split),
/// all frequencies of a frame in its segment. centers: the mean frame centre
/// in samples, or in seconds when `sample_rate` > 0 (units "frame centre
/// (samples)" or "s").
Grouping stft_segments(const Transform& t, int n, double sample_rate = 0);

}  // namespace trim
