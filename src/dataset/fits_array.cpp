// FITS images for dataset/array.hpp, read with cfitsio: a cube NAXIS3 x
// NAXIS2 x NAXIS1 is N examples of NAXIS2 x NAXIS1 (FITS lists axes fastest
// first; trim's shapes are C order, slowest first). BSCALE / BZERO are
// applied by cfitsio; blank pixels of integer images become NaN.
#include "formats.hpp"
#include "trim/core/error.hpp"

#ifdef TRIM_HAVE_FITS

#include <fitsio.h>

#include <filesystem>
#include <limits>

namespace trim::dataset {

bool has_fits() { return true; }

namespace detail {

namespace {

std::string fits_reason(int status) {
  char text[FLEN_STATUS] = {0};
  fits_get_errstatus(status, text);
  fits_clear_errmsg();
  return " (cfitsio: " + std::string(text) + ")";
}

class FitsReader final : public ArrayReader {
 public:
  FitsReader(const ArraySpec& spec, fitsfile* f, std::vector<int64_t> shape)
      : ArrayReader(spec.text, std::move(shape)), f_(f) {}
  ~FitsReader() override {
    int status = 0;
    fits_close_file(f_, &status);
  }

 protected:
  void do_read(int64_t first, int64_t count, float* out) override {
    std::vector<LONGLONG> firstpix(shape().size(), 1);
    firstpix.back() = first + 1;  // the slowest FITS axis is the examples axis
    int status = 0, anynul = 0;
    float nan = std::numeric_limits<float>::quiet_NaN();
    if (fits_read_pixll(f_, TFLOAT, firstpix.data(), count * row_size(), &nan, out, &anynul, &status))
      throw IoError("fits '" + spec() + "': reading rows [" + std::to_string(first) + ", " +
                    std::to_string(first + count) + ") failed" + fits_reason(status));
  }

 private:
  fitsfile* f_;
};

}  // namespace

std::unique_ptr<ArrayReader> open_fits(const ArraySpec& spec) {
  std::error_code ec;
  if (!std::filesystem::exists(spec.file, ec)) throw IoError("fits '" + spec.file + "': no such file");
  fitsfile* f = nullptr;
  int status = 0;
  const std::string name = spec.inner.empty() ? spec.file : spec.file + "[" + spec.inner + "]";
  if (fits_open_file(&f, name.c_str(), READONLY, &status))
    throw IoError("fits '" + spec.text + "': cannot open" +
                  (spec.inner.empty() ? "" : " (no extension '" + spec.inner + "'?)") + fits_reason(status));
  auto fail = [&](const std::string& problem) {
    int s = 0;
    fits_close_file(f, &s);
    throw IoError("fits '" + spec.text + "': " + problem);
  };
  int type = 0, naxis = 0;
  fits_get_hdu_type(f, &type, &status);
  if (type == IMAGE_HDU) fits_get_img_dim(f, &naxis, &status);
  if (status) fail("cannot read the header" + fits_reason(status));
  if (spec.inner.empty() && naxis == 0) {
    // A primary HDU without data: take the first image extension that has some.
    int nhdu = 0;
    fits_get_num_hdus(f, &nhdu, &status);
    for (int k = 2; k <= nhdu && naxis == 0 && !status; ++k) {
      fits_movabs_hdu(f, k, &type, &status);
      if (!status && type == IMAGE_HDU) fits_get_img_dim(f, &naxis, &status);
    }
    if (status) fail("cannot read the extensions" + fits_reason(status));
    if (naxis == 0) fail("holds no image data (the primary HDU is empty and no image extension has data)");
  }
  if (type != IMAGE_HDU) fail("is a table extension, not an image (name an image extension as FILE.fits[EXT])");
  if (naxis == 0) fail("the image has no data (NAXIS = 0)");
  std::vector<LONGLONG> naxes(static_cast<size_t>(naxis));
  if (fits_get_img_sizell(f, naxis, naxes.data(), &status)) fail("cannot read the image size" + fits_reason(status));
  std::vector<int64_t> shape(naxes.rbegin(), naxes.rend());
  try {
    return std::make_unique<FitsReader>(spec, f, std::move(shape));
  } catch (const std::exception& e) {
    fail(e.what());
  }
  return nullptr;
}

}  // namespace detail
}  // namespace trim::dataset

#else  // no cfitsio in this build

namespace trim::dataset {

bool has_fits() { return false; }

namespace detail {

std::unique_ptr<ArrayReader> open_fits(const ArraySpec& spec) {
  throw IoError("fits '" + spec.file + "': this trim was built without FITS support (install libcfitsio-dev and rebuild)");
}

}  // namespace detail
}  // namespace trim::dataset

#endif
