# Shared by scripts/test and scripts/demo: install what is missing, configure, build.

# Debian packages the build and the tests need (the python3-* ones: the Python
# module python/ and its pytest suite, which compares with NumPy, PyWavelets and
# scikit-learn; patchelf: meson-python packs wheels with it; HDF5, cfitsio and
# OpenMPI: the optional parts of dataset/).
TRIM_PACKAGES=(meson ninja-build pkg-config g++ libeigen3-dev libfftw3-dev catch2 libbenchmark-dev python3 libonnx-dev libprotobuf-dev libplplot-dev plplot-driver-cairo
  libhdf5-dev libcfitsio-dev libopenmpi-dev openmpi-bin
  pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pytest python3-mesonpy patchelf python3-pywt python3-sklearn)

# Installs the packages of "$@" that are not installed yet (sudo only when not root).
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing missing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_build DIR [meson options...]: sets up DIR once, reconfigures when the options change.
configure_build() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}
