"""execsim's ``njit``: one compilation per argument type for calls between kernels."""

from __future__ import annotations

import numpy as np

from execsim.core.jit import njit


@njit
def _callee(x: int) -> int:
    return x * 2


@njit(cache=False)
def _caller_with_constants(a: int) -> int:
    return _callee(1) + _callee(2) + _callee(np.int64(3)) + _callee(a)


@njit(cache=False)
def _callee_flag(x: int, flag: bool) -> int:
    return x if flag else -x


@njit(cache=False)
def _caller_with_flags() -> int:
    return _callee_flag(1, True) + _callee_flag(2, False)


def test_constant_arguments_from_compiled_code_do_not_multiply_compilations() -> None:
    assert _caller_with_constants(4) == 2 + 4 + 6 + 8
    # plain numba would have compiled _callee for Literal[int](1), Literal[int](2) and int64
    assert [str(s) for s in _callee.signatures] == ["(int64,)"]
    assert _caller_with_flags() == 1 - 2
    assert [str(s) for s in _callee_flag.signatures] == ["(int64, bool)"]


def test_calls_from_python_behave_as_with_numba() -> None:
    assert _callee(21) == 42
    assert _callee_flag(5, False) == -5
