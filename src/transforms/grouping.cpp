// placeholder: filled in by the Fourier transforms work
