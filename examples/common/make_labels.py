#!/usr/bin/python3
"""Writes digits_labels.txt (next to this script): the class (0-9) of every image in
tests/reference/data/digits.txt, in the same order, as shipped with
scikit-learn (sklearn.datasets.load_digits().target).

Checks first that digits.txt holds exactly scikit-learn's images in
scikit-learn's order, so the labels line up with the images.
Run with Debian's /usr/bin/python3 (python3-sklearn) from the repository root.
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_digits_txt(path):
    alphabet = "0123456789abcdefg"
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            row = []
            for ch in line:
                if "A" <= ch <= "Z":
                    row += [0] * (ord(ch) - ord("A") + 1)
                else:
                    row.append(alphabet.index(ch))
            rows.append(row)
    return np.array(rows)


def main():
    digits = load_digits()
    X = read_digits_txt(os.path.join(ROOT, "tests/reference/data/digits.txt"))
    if X.shape != digits.data.shape or not np.array_equal(X, digits.data.astype(int)):
        sys.exit("digits.txt does not hold scikit-learn's digits in order")
    y = digits.target
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_labels.txt")
    with open(out, "w") as f:
        f.write("# Class (0-9) of each image of tests/reference/data/digits.txt, in order, 60 per line\n"
                "# (sklearn.datasets.load_digits().target, scikit-learn %s). Data: the test set of\n"
                "# 'Optical Recognition of Handwritten Digits' (E. Alpaydin, C. Kaynak, UCI ML repository),\n"
                "# as shipped with scikit-learn (BSD-3-Clause). Written by examples/common/make_labels.py.\n"
                % sklearn.__version__)
        s = "".join(str(v) for v in y)
        for i in range(0, len(s), 60):
            f.write(s[i:i + 60] + "\n")
    print("wrote %s: %d labels, counts %s" % (out, len(y), np.bincount(y).tolist()))


if __name__ == "__main__":
    main()
