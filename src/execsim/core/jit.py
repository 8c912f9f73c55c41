"""``njit`` for execsim's kernels: numba's, without literal specialisation of kernel-to-kernel calls.

When one compiled function calls another with a constant argument (``submit(..., side=1)``,
``_rest(..., 0, 0, t)``, ``post_only=True``), numba types that argument as a *literal*
(``Literal[int](1)``) and compiles the callee once per distinct constant. The specialisation
travels down the call chain: the matching engine's ``_execute`` was compiled five times and
``_push_fill`` seventeen, and the first ``execsim demo`` after install spent about a minute
doing so. The kernels never branch on a parameter's literal value, so a single compilation per
argument *type* is enough; this decorator types such calls with the plain type (``int64``,
``bool``) instead. Calls from Python were never literal-specialised and are unchanged.

The change is local to the dispatchers this decorator creates (no numba internals are patched
globally); it relies on :meth:`numba.core.dispatcher.Dispatcher.get_call_template`, the hook
numba's type inference uses to resolve a call to a dispatcher from compiled code.

It also sets ``no_cfunc_wrapper=True`` unless told otherwise: the C-callable wrapper numba
builds for every function by default serves only to pass a dispatcher to compiled code as a
first-class function, which execsim never does (its compiled strategies are ``cfunc`` built
explicitly), and it was about 5 % of compile time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
from numba.core import types

__all__ = ["njit"]


def _unliteral_calls(dispatcher: Any) -> Any:
    resolve = dispatcher.get_call_template

    def get_call_template(args: tuple[Any, ...], kws: dict[str, Any]) -> Any:
        plain_args = tuple(types.unliteral(a) for a in args)
        plain_kws = {k: types.unliteral(v) for k, v in kws.items()}
        return resolve(plain_args, plain_kws)

    dispatcher.get_call_template = get_call_template
    return dispatcher


def njit(*args: Any, **options: Any) -> Any:
    """:func:`numba.njit` with the same arguments; see the module docstring for the difference.

    Use as ``@njit``, ``@njit(cache=True, ...)`` or ``njit(**options)(function)``.
    """
    options.setdefault("no_cfunc_wrapper", True)
    if args and callable(args[0]) and len(args) == 1:
        return _unliteral_calls(numba.njit(**options)(args[0]))
    decorate: Callable[[Any], Any] = numba.njit(*args, **options)

    def wrap(function: Any) -> Any:
        return _unliteral_calls(decorate(function))

    return wrap
