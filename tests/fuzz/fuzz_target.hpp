#pragma once
// Shared by the fuzz targets in this folder. Each target defines
// LLVMFuzzerTestOneInput; it is linked either with libFuzzer (clang,
// -fsanitize=fuzzer: coverage-guided fuzzing) or with replay_main.cpp, which
// feeds it every file of its seed corpus and of its regression folder (the
// inputs that once crashed), so both are checked in every test run.
//
// Contract of every target: trim's own exceptions (trim::Error and its
// subclasses) are the expected answer to bad input and are swallowed; anything
// else (a crash, a sanitizer report, another exception, a hang) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "trim/core/error.hpp"

namespace trim::fuzz {

/// The input as a string.
inline std::string bytes_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Runs `body`, accepting a trim::Error as the answer to bad input.
template <class Body>
int expect_clean(Body body) {
  try {
    body();
  } catch (const trim::Error&) {
  }
  return 0;
}

}  // namespace trim::fuzz
