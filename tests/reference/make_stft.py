"""Reference values for the STFT transform (trim/transforms/stft.hpp) and the
physical-unit groupings (trim/transforms/frequency_bands.hpp).

Run with Debian's python3:  /usr/bin/python3 tests/reference/make_stft.py

stft.txt, per case c (odd and even lengths, odd and even N_FFT, every window,
with and without center):
  c_x      the input [channels, n]
  c_scipy  scipy.signal.stft(x, window, nperseg=N_FFT, noverlap=N_FFT-HOP,
           boundary='zeros' (center) or None, padded=True) * window.sum()
           (scipy divides by the window's sum; trim does not), as
           [channels, bins, frames, 2]
  c_torch  torch.stft(x, N_FFT, HOP, window=w, center=center,
           pad_mode='constant', return_complex=True) as
           [channels, bins, torch_frames, 2] (torch drops a tail that does
           not fill a frame: its frames are a prefix of scipy's)
  c_config [window (0 hann, 1 hamming, 2 rect), N_FFT, HOP, center]
bands.txt:
  rfft1_hz_labels    numpy.digitize of rfftfreq(64, 1/8000) into the edges
                     0, 500, 1000, 2000, 4000 (the top edge closing the last band)
  stft_hz_labels     the same for the bins of stft:hann:32:8 (rfftfreq(32, 1/8000))
  dct1_hz_labels     the DCT-II frequencies k*8000/(2*64) into the same edges
  mel_slaney, mel_htk  librosa.mel_frequencies(11, 0, 4000, htk) written out
                     from librosa's definitions (librosa is not installed; the
                     C++ test also checks values printed in librosa's docs)
"""
import os

import numpy as np
import scipy.signal
import torch

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
WINDOWS = ["hann", "hamming", "boxcar"]

CASES = {
    "hann_c": (0, 8, 2, True, 21),      # odd length, centred
    "hamming": (1, 7, 3, False, 20),    # odd N_FFT, even length, not centred
    "rect_c": (2, 6, 4, True, 16),      # even length, hop not dividing it
    "hann_long": (0, 16, 4, True, 33),  # odd length, torch drops a frame
    "hamming_c": (1, 9, 2, True, 18),   # odd N_FFT, centred
}


def as_pairs(z):
    return np.stack([z.real, z.imag], axis=-1)


def make_stft_cases():
    rng = np.random.default_rng(19)
    out = {}
    for name, (win, n_fft, hop, center, n) in CASES.items():
        x = rng.standard_normal((2, n))
        w = scipy.signal.get_window(WINDOWS[win], n_fft)
        _, _, z = scipy.signal.stft(x, window=w, nperseg=n_fft, noverlap=n_fft - hop,
                                    boundary="zeros" if center else None, padded=True, detrend=False,
                                    return_onesided=True)
        z = z * w.sum()
        zt = torch.stft(torch.from_numpy(x), n_fft, hop_length=hop, window=torch.from_numpy(w), center=center,
                        pad_mode="constant", return_complex=True).numpy()
        assert np.allclose(z[..., :zt.shape[-1]], zt, atol=1e-9), name
        out[name + "_x"] = x
        out[name + "_scipy"] = as_pairs(z)
        out[name + "_torch"] = as_pairs(zt)
        out[name + "_config"] = [win, n_fft, hop, int(center)]
    return out


def hz_to_mel(f, htk):
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-30) / min_log_hz) / logstep, mels)


def mel_to_hz(m, htk):
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_frequencies(n, fmin, fmax, htk):
    return mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n), htk)


def labels(freqs, edges):
    edges = np.asarray(edges, dtype=np.float64)
    lab = np.digitize(freqs, edges) - 1
    lab[freqs == edges[-1]] = len(edges) - 2
    lab[(freqs < edges[0]) | (freqs > edges[-1])] = -1
    return lab


def make_bands():
    edges = [0, 500, 1000, 2000, 4000]
    return {
        "rfft1_hz_labels": labels(np.fft.rfftfreq(64, 1 / 8000), edges),
        "stft_hz_labels": labels(np.fft.rfftfreq(32, 1 / 8000), edges),
        "dct1_hz_labels": labels(np.arange(64) * 8000 / 128, edges),
        "mel_slaney": mel_frequencies(11, 0, 4000, False),
        "mel_htk": mel_frequencies(11, 0, 4000, True),
    }


if __name__ == "__main__":
    data = os.path.join(here, "data")
    write_fixture(os.path.join(data, "stft.txt"), make_stft_cases(),
                  "scipy.signal.stft * window.sum() and torch.stft(pad_mode='constant'); see make_stft.py")
    write_fixture(os.path.join(data, "bands.txt"), make_bands(), "physical-unit band labels; see make_stft.py")
