// placeholder: FFT tests arrive with the Fourier work
