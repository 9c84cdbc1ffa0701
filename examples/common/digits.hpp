#pragma once
// scikit-learn's digits for the examples: 1797 images of 8×8 integers 0..16
// (tests/reference/data/digits.txt, the test fixture's copy) with their
// classes (digits_labels.txt next to this file, written by make_labels.py),
// scaled to [0, 1] and split into seeded train / test sets. Used by
// digits_nmf and wavelet_scales. The data are the test set of "Optical
// Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak; UCI Machine
// Learning Repository) as shipped with scikit-learn (BSD-3-Clause).
#include <trim/trim.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

namespace digits {

constexpr int64_t kSide = 8;
constexpr int64_t kPixels = kSide * kSide;
constexpr int64_t kClasses = 10;

struct Split {
  trim::Tensor train_x, test_x;  ///< [N, 64], values in [0, 1]
  trim::Tensor train_y, test_y;  ///< [N], class indices as floats
};

/// Images [1797, 64] (0..16) from the run-length coded text file:
/// '1'-'9','a'-'g' = 1..16, 'A'-'Z' = a run of 1..26 zeros, '#' comments.
inline std::vector<float> read_images(const std::string& path, int64_t& count) {
  std::ifstream in(path);
  if (!in) throw trim::IoError("digits data '" + path + "': cannot open");
  std::vector<float> v;
  std::string line;
  int64_t line_no = 0;
  count = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const size_t before = v.size();
    for (char ch : line) {
      if (ch >= 'A' && ch <= 'Z') v.insert(v.end(), static_cast<size_t>(ch - 'A' + 1), 0.0f);
      else if (ch >= '1' && ch <= '9') v.push_back(static_cast<float>(ch - '0'));
      else if (ch >= 'a' && ch <= 'g') v.push_back(static_cast<float>(ch - 'a' + 10));
      else if (ch != '\r')
        throw trim::IoError("digits data '" + path + "' line " + std::to_string(line_no) + ": bad character '" +
                            std::string(1, ch) + "'");
    }
    if (v.size() - before != static_cast<size_t>(kPixels))
      throw trim::IoError("digits data '" + path + "' line " + std::to_string(line_no) + ": " +
                          std::to_string(v.size() - before) + " values, expected 64");
    ++count;
  }
  return v;
}

/// Classes 0..9, one character per image, '#' comment lines.
inline std::vector<int> read_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw trim::IoError("digits labels '" + path + "': cannot open");
  std::vector<int> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    for (char ch : line) {
      if (ch >= '0' && ch <= '9') labels.push_back(ch - '0');
      else if (ch != '\r' && ch != ' ')
        throw trim::IoError("digits labels '" + path + "': bad character '" + std::string(1, ch) + "'");
    }
  }
  return labels;
}

/// All images scaled to [0, 1], shuffled with `seed`, the first
/// `test_fraction` of them held out.
inline Split load(const std::string& images_path, const std::string& labels_path, uint64_t seed,
                  double test_fraction = 0.25) {
  int64_t n = 0;
  const std::vector<float> images = read_images(images_path, n);
  const std::vector<int> labels = read_labels(labels_path);
  if (static_cast<int64_t>(labels.size()) != n)
    throw trim::ValueError("digits: " + std::to_string(n) + " images in '" + images_path + "' but " +
                           std::to_string(labels.size()) + " labels in '" + labels_path + "'");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  trim::Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i + 1))]);
  const int64_t n_test = static_cast<int64_t>(test_fraction * static_cast<double>(n));
  Split s{trim::Tensor({n - n_test, kPixels}), trim::Tensor({n_test, kPixels}), trim::Tensor({n - n_test}),
          trim::Tensor({n_test})};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = order[i];
    const bool test = i < n_test;
    const int64_t row = test ? i : i - n_test;
    trim::Tensor& x = test ? s.test_x : s.train_x;
    for (int64_t p = 0; p < kPixels; ++p) x[row * kPixels + p] = images[src * kPixels + p] / 16.0f;
    (test ? s.test_y : s.train_y)[row] = static_cast<float>(labels[src]);
  }
  return s;
}

}  // namespace digits
