// Decoding ONNX TensorProtos into host constants (see onnx_host_tensor.hpp).
#include <cmath>
#include <cstring>

#include "onnx_host_tensor.hpp"

namespace trim::io::detail {

namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

bool host_is_little_endian() {
  const uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

uint64_t load_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

}  // namespace

/// Decodes an ONNX TensorProto, checking every count against its dims.
HostTensor from_proto(const onnx::TensorProto& t, const std::string& what_in, const ExternalRaw* external) {
  const std::string what = what_in + " '" + t.name() + "'";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw IoError(what + " is stored in an external data file, which trim does not read "
                         "(save the model with its weights inside)");
  if (t.has_segment()) throw IoError(what + " is segmented, which trim does not read");
  HostTensor h;
  h.shape.assign(t.dims().begin(), t.dims().end());
  // The element count is only an upper bound here; each branch below checks
  // it against the data actually stored before allocating.
  const int64_t n = checked_numel(h.shape, what, int64_t{1} << 40);
  const int32_t type = t.data_type();
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data() || external;
  // The lean parse (onnx_lean.hpp) left a large raw_data in the file: it is
  // read into `ext_bytes` where it needs decoding, straight into the values
  // where it needs none.
  const uint64_t raw_size = external ? external->size : raw.size();
  std::vector<unsigned char> ext_bytes;
  auto bad_count = [&](int64_t got, const char* unit) {
    return IoError(what + " of shape " + list_str(h.shape) + " (" + detail::onnx_type_name(type) + ") holds " +
                   std::to_string(got) + " " + unit + ", expected " + std::to_string(n) +
                   " (truncated or corrupt tensor)");
  };
  auto raw_elems = [&](int size, bool fetch = true) {
    if (raw_size != static_cast<uint64_t>(n) * static_cast<uint64_t>(size))
      throw IoError(what + " of shape " + list_str(h.shape) + " (" + detail::onnx_type_name(type) + ") has " +
                    std::to_string(raw_size) + " bytes of raw data, expected " +
                    std::to_string(static_cast<uint64_t>(n) * static_cast<uint64_t>(size)) +
                    " (truncated or corrupt tensor)");
    if (!external) return reinterpret_cast<const unsigned char*>(raw.data());
    if (fetch && ext_bytes.size() != raw_size) {
      ext_bytes.resize(static_cast<size_t>(raw_size));
      external->source->read(external->offset, ext_bytes.data(), ext_bytes.size());
    }
    return static_cast<const unsigned char*>(ext_bytes.data());
  };
  // Check the stored count before allocating anything.
  int elem_size = 0;
  int64_t typed = 0;
  switch (type) {
    case onnx::TensorProto::FLOAT: elem_size = 4; typed = t.float_data_size(); break;
    case onnx::TensorProto::DOUBLE: elem_size = 8; typed = t.double_data_size(); break;
    case onnx::TensorProto::INT64: elem_size = 8; typed = t.int64_data_size(); break;
    case onnx::TensorProto::UINT64: elem_size = 8; typed = t.uint64_data_size(); break;
    case onnx::TensorProto::UINT32: elem_size = 4; typed = t.uint64_data_size(); break;
    case onnx::TensorProto::INT32: elem_size = 4; typed = t.int32_data_size(); break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: elem_size = 2; typed = t.int32_data_size(); break;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: elem_size = 1; typed = t.int32_data_size(); break;
    default:
      throw IoError(what + " has element type " + detail::onnx_type_name(type) + ", which trim does not read");
  }
  if (has_raw) raw_elems(elem_size, false);
  else if (typed != n) throw bad_count(typed, "values");
  switch (type) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::FLOAT16: {
      h.is_int = false;
      h.f.resize(static_cast<size_t>(n));
      if (type == onnx::TensorProto::FLOAT) {
        if (has_raw && external && host_is_little_endian()) {
          external->source->read(external->offset, h.f.data(), static_cast<size_t>(raw_size));
        } else if (has_raw) {
          const unsigned char* p = raw_elems(4);
          for (int64_t k = 0; k < n; ++k) {
            const uint32_t b = static_cast<uint32_t>(load_le(p + 4 * k, 4));
            std::memcpy(&h.f[static_cast<size_t>(k)], &b, 4);
          }
        } else {
          if (t.float_data_size() != n) throw bad_count(t.float_data_size(), "values");
          std::copy(t.float_data().begin(), t.float_data().end(), h.f.begin());
        }
      } else if (type == onnx::TensorProto::DOUBLE) {
        auto put = [&](int64_t k, double d) {
          if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
            throw IoError(what + ": double value " + std::to_string(d) + " is outside float32's range");
          h.f[static_cast<size_t>(k)] = static_cast<float>(d);
        };
        if (has_raw) {
          const unsigned char* p = raw_elems(8);
          for (int64_t k = 0; k < n; ++k) {
            const uint64_t b = load_le(p + 8 * k, 8);
            double d;
            std::memcpy(&d, &b, 8);
            put(k, d);
          }
        } else {
          if (t.double_data_size() != n) throw bad_count(t.double_data_size(), "values");
          for (int64_t k = 0; k < n; ++k) put(k, t.double_data(static_cast<int>(k)));
        }
      } else {
        if (has_raw) {
          const unsigned char* p = raw_elems(2);
          for (int64_t k = 0; k < n; ++k)
            h.f[static_cast<size_t>(k)] = half_to_float(static_cast<uint16_t>(load_le(p + 2 * k, 2)));
        } else {
          if (t.int32_data_size() != n) throw bad_count(t.int32_data_size(), "values");
          for (int64_t k = 0; k < n; ++k)
            h.f[static_cast<size_t>(k)] = half_to_float(static_cast<uint16_t>(t.int32_data(static_cast<int>(k))));
        }
      }
      return h;
    }
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::BOOL: {
      h.is_int = true;
      h.i.resize(static_cast<size_t>(n));
      int size = 1;
      bool is_signed = true;
      switch (type) {
        case onnx::TensorProto::INT64: size = 8; break;
        case onnx::TensorProto::INT32: size = 4; break;
        case onnx::TensorProto::INT16: size = 2; break;
        case onnx::TensorProto::UINT16: size = 2; is_signed = false; break;
        case onnx::TensorProto::UINT32: size = 4; is_signed = false; break;
        case onnx::TensorProto::UINT64: size = 8; is_signed = false; break;
        case onnx::TensorProto::UINT8:
        case onnx::TensorProto::BOOL: is_signed = false; break;
        default: break;
      }
      if (has_raw) {
        const unsigned char* p = raw_elems(size);
        for (int64_t k = 0; k < n; ++k) {
          uint64_t b = load_le(p + size * k, size);
          int64_t v;
          if (is_signed && size < 8 && (b >> (8 * size - 1)) & 1) b |= ~uint64_t{0} << (8 * size);
          if (!is_signed && size == 8 && b > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw IoError(what + ": uint64 value exceeds int64's range");
          std::memcpy(&v, &b, 8);
          h.i[static_cast<size_t>(k)] = v;
        }
      } else if (type == onnx::TensorProto::INT64) {
        if (t.int64_data_size() != n) throw bad_count(t.int64_data_size(), "values");
        std::copy(t.int64_data().begin(), t.int64_data().end(), h.i.begin());
      } else if (type == onnx::TensorProto::UINT32 || type == onnx::TensorProto::UINT64) {
        if (t.uint64_data_size() != n) throw bad_count(t.uint64_data_size(), "values");
        for (int64_t k = 0; k < n; ++k) {
          const uint64_t v = t.uint64_data(static_cast<int>(k));
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw IoError(what + ": uint64 value exceeds int64's range");
          h.i[static_cast<size_t>(k)] = static_cast<int64_t>(v);
        }
      } else {
        if (t.int32_data_size() != n) throw bad_count(t.int32_data_size(), "values");
        std::copy(t.int32_data().begin(), t.int32_data().end(), h.i.begin());
      }
      if (type == onnx::TensorProto::BOOL)
        for (int64_t& v : h.i) v = v != 0;
      for (int64_t v : h.i)
        if (is_batch(v)) throw IoError(what + " holds " + std::to_string(v) + ", which trim reserves for the symbolic batch size");
      return h;
    }
    default:
      throw IoError(what + " has element type " + detail::onnx_type_name(type) + ", which trim does not read");
  }
}

/// Shape of an ONNX attribute type, for messages.
const char* attr_type_name(int t) {
  switch (t) {
    case onnx::AttributeProto::FLOAT: return "FLOAT";
    case onnx::AttributeProto::INT: return "INT";
    case onnx::AttributeProto::STRING: return "STRING";
    case onnx::AttributeProto::TENSOR: return "TENSOR";
    case onnx::AttributeProto::GRAPH: return "GRAPH";
    case onnx::AttributeProto::FLOATS: return "FLOATS";
    case onnx::AttributeProto::INTS: return "INTS";
    case onnx::AttributeProto::STRINGS: return "STRINGS";
    case onnx::AttributeProto::SPARSE_TENSOR: return "SPARSE_TENSOR";
    default: return "UNDEFINED";
  }
}

}  // namespace trim::io::detail
