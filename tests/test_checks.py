"""nnlib.checks: `agree` passes on equal results and fails on slips; `fails` inverts it."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.checks import agree, fails


def test_agree_returns_the_relative_error_of_equal_results():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert agree(a, a.copy()) == 0.0
    assert 0 < agree(a, a * (1 + 1e-10)) < 1e-9


def test_agree_fails_on_a_dropped_one_over_m():
    # Worked by hand: a = g/m with m = 5 against g: |g/5 - g| / (|g/5| + |g|) = 4/6.
    g = np.array([1.0, -2.0, 3.0])
    with pytest.raises(AssertionError, match=r"dW: relative error 0\.67, not below 1e-07"):
        agree(g, g / 5, name="dW")


def test_agree_fails_on_a_shape_slip_and_on_nan():
    X = np.ones((2, 3))
    with pytest.raises(AssertionError, match=r"shape \(3, 2\) differs from the reference"):
        agree(X.T, X)
    with pytest.raises(AssertionError, match="non-finite"):
        agree(np.array([np.nan]), np.array([1.0]))


def test_agree_tolerance_is_respected():
    assert agree(1.0, 1.001, tol=1e-2) < 1e-2
    with pytest.raises(AssertionError):
        agree(1.0, 1.001, tol=1e-4)


def test_fails_returns_the_message_of_a_failing_check():
    msg = fails(lambda: agree([2.0], [1.0], name="slip"))
    assert msg == "slip: relative error 0.33, not below 1e-07"


def test_fails_gives_a_name_to_a_bare_assertion():
    def bare():
        raise AssertionError

    assert fails(bare) == "AssertionError"


def test_fails_raises_when_the_check_passes():
    with pytest.raises(AssertionError, match="cannot catch this slip"):
        fails(lambda: agree([1.0], [1.0]))


def test_fails_passes_other_errors_through_and_refuses_a_non_callable():
    with pytest.raises(ZeroDivisionError):
        fails(lambda: 1 / 0)
    with pytest.raises(TypeError, match="check must be a callable"):
        fails(42)
