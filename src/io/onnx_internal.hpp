#pragma once
// Internal to the ONNX reader and writer: protobuf includes and helpers both
// sides share. Not installed; never include from a public header.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

namespace trim::io::detail {

/// Writes `bytes` to `path` through a temporary file renamed into place
/// (defined in npy.cpp). `what` prefixes error messages ("onnx", "npy").
void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what);

/// ONNX IR version matching an opset (the oldest IR that carries it), so
/// older runtimes accept what we write.
inline int64_t ir_version_for_opset(int opset) {
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

/// Name of an ONNX TensorProto data type for messages.
inline const char* onnx_type_name(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return "float";
    case onnx::TensorProto::UINT8: return "uint8";
    case onnx::TensorProto::INT8: return "int8";
    case onnx::TensorProto::UINT16: return "uint16";
    case onnx::TensorProto::INT16: return "int16";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::STRING: return "string";
    case onnx::TensorProto::BOOL: return "bool";
    case onnx::TensorProto::FLOAT16: return "float16";
    case onnx::TensorProto::DOUBLE: return "double";
    case onnx::TensorProto::UINT32: return "uint32";
    case onnx::TensorProto::UINT64: return "uint64";
    case onnx::TensorProto::COMPLEX64: return "complex64";
    case onnx::TensorProto::COMPLEX128: return "complex128";
    case onnx::TensorProto::BFLOAT16: return "bfloat16";
    default: return "undefined";
  }
}

}  // namespace trim::io::detail
