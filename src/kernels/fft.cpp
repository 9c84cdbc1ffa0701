// placeholder: FFTW kernels arrive with the Fourier work
