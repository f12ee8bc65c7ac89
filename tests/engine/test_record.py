"""Rounding for storage."""

import json

import numpy as np

from engine.record import rounded


def test_rounded_keeps_significant_digits_and_prints_short():
    values = [0.123456, 1234567.0, 1.23456e-7, -np.inf, 0.0, -0.98766, np.nan]
    out = rounded(np.array(values, np.float32))
    assert out == [0.1235, 1234567.0, 1.235e-07, None, 0.0, -0.9877, None]
    assert json.dumps(out) == "[0.1235, 1234567.0, 1.235e-07, null, 0.0, -0.9877, null]"
    assert rounded(np.float32(2.0 / 3), 5) == 0.66667
    assert rounded(np.zeros((2, 0, 3))) == [[], []]
