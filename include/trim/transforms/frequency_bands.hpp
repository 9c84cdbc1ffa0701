#pragma once
/// \file
/// Groupings in physical units: frequency bands in Hz and on the mel scale
/// for 1-D signals (fft1, rfft1, dct1, stft), multipole bins ℓ for flat-sky
/// maps (fft2, rfft2). Unlike `physical_bands`, a band that holds no
/// coefficient is an error naming the band and the largest reachable value
/// (a band past Nyquist, an ℓ bin beyond the map's resolution, a band
/// narrower than the bin spacing), not a group that silently scores 0.

#include <string>
#include <vector>

#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

/// The two mel scales of librosa (`htk=False` / `htk=True`):
/// Slaney's (Auditory Toolbox): linear below 1 kHz, mel = f / (200/3), and
/// logarithmic above, mel = 15 + ln(f / 1000) / (ln 6.4 / 27);
/// HTK's: mel = 2595 · log10(1 + f / 700).
enum class MelScale { Slaney, Htk };

/// librosa.hz_to_mel / librosa.mel_to_hz.
double hz_to_mel(double hz, MelScale scale);
double mel_to_hz(double mel, MelScale scale);
/// librosa.mel_frequencies(n, fmin, fmax, htk): n frequencies (Hz) equally
/// spaced on the mel scale from fmin to fmax inclusive.
std::vector<double> mel_frequencies(int n, double fmin, double fmax, MelScale scale);

/// The frequency in Hz of every coefficient element of one example
/// (coefficient_shape order; the re and im parts share it) of a 1-D
/// frequency transform sampled at `sample_rate`: fft1 |fftfreq(n)|·rate,
/// rfft1 k·rate/n, dct1 (DCT-II basis k oscillates at k/(2n) cycles per
/// sample) k·rate/(2n), stft k·rate/N_FFT. ValueError for other transforms.
std::vector<double> coefficient_frequencies_hz(const Transform& t, double sample_rate);
/// The largest of those frequencies: rate/2 for even lengths.
double largest_frequency_hz(const Transform& t, double sample_rate);

/// Bands with `edges` in Hz (ascending, ≥ 2) over the coefficients of a 1-D
/// frequency transform (coefficient_frequencies_hz): lo ≤ f < hi, the top
/// edge closing the last band. Names "250-500 Hz", centers the band middles,
/// units "Hz". ValueError for an empty band.
Grouping hz_bands(const Transform& t, const std::vector<double>& edges, double sample_rate);
/// `n` contiguous bands of equal width on the mel scale from 0 Hz to
/// rate/2: the edges are librosa.mel_frequencies(n + 1, 0, rate/2, htk)
/// (the same points as the edges of librosa's triangular filters, but each
/// coefficient in exactly one band, as a partition must). Names "mel 3:
/// 245-378 Hz", centers the band middles in mel, units "mel (Slaney)" or
/// "mel (HTK)". ValueError for an empty band (too many bands for the
/// frequency resolution).
Grouping mel_bands(const Transform& t, int n, double sample_rate, MelScale scale);
/// Multipole bins for a flat-sky map (fft2, rfft2) of `arcmin_per_pixel`:
/// `physical_bands(t, edges, arcmin_per_pixel, "multipole l")` (ℓ = 2π·|k|
/// with k in cycles per radian), names "l 100-200", units "multipole l".
/// ValueError for an empty bin, naming the largest ℓ of the map (its corner)
/// and the ℓ spacing of the grid.
Grouping ell_bands(const Transform& t, const std::vector<double>& edges, double arcmin_per_pixel);

}  // namespace trim
