#pragma once
/// \file
/// Exception types. Every error trim raises says what went wrong and where
/// (node, argument, file) so a user can act on it; nothing aborts.

#include <stdexcept>
#include <string>

namespace trim {

/// Base of all trim exceptions.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A tensor or graph shape does not fit: names the operation, the actual and
/// the expected shape, e.g. `linear 'fc1': input [32,100], expected [*,128]`.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// An argument has a value outside its domain (negative stride, unknown name).
class ValueError : public Error {
 public:
  using Error::Error;
};

/// Reading or writing a file failed; the message names the file.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace trim
