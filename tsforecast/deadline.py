"""The deadline of one call: a time budget that bounds the whole call, not only its training.

`forecast(time_budget_s=B)` promises that the call returns about B seconds after it started.
Reading and checking the frame, scaling, laying out windows, the first construction of a torch
optimizer in a process (which imports part of torch: about 2 s) and every fit a wrapper makes
(conformal calibration fits, `auto`'s inner backtests) all spend from the same B.

An estimator's own `time_budget_s` keeps its meaning (a bound on one fit) and its value (what
`get_params()` returns is what the user gave). The call's deadline travels beside it, in a
context variable that `within_deadline` sets, and every step that reads its own budget asks
`seconds_left(own_budget, own_start)`: the smaller of what its own budget and the call's
deadline leave. Nested deadlines keep the earliest, so a wrapper can give each of its fits a
share of what is left (`share_of_what_is_left`).

Clocks are `time.perf_counter()` seconds: a deadline does not cross process boundaries (the
engines pass their own, in wall-clock time, to their workers).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["call_deadline", "seconds_left", "share_of_what_is_left", "within_deadline"]

# perf_counter() seconds at which the innermost enclosing call must end; None: no deadline
_DEADLINE: ContextVar[float | None] = ContextVar("tsforecast_call_deadline", default=None)


def call_deadline() -> float | None:
    """The perf_counter() time at which the enclosing call must end, None without one."""
    return _DEADLINE.get()


@contextmanager
def within_deadline(
    budget_s: float | None, started: float | None = None, *, replace: bool = False
) -> Iterator[None]:
    """Within this block, every step ends by `started + budget_s` (perf_counter seconds;
    `started` defaults to now) or by an enclosing deadline, whichever comes first. None as
    `budget_s` adds no deadline of its own (an enclosing one still holds).

    `replace=True` sets this deadline whatever the enclosing one: for a step that its caller
    has decided to run past the call's deadline (the final refit of what `auto` chose gets
    a minimum of time, or the call would return a fallback instead)."""
    outer = None if replace else _DEADLINE.get()
    deadline = outer
    if budget_s is not None:
        start = time.perf_counter() if started is None else started
        own = start + float(budget_s)
        deadline = own if outer is None else min(outer, own)
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def seconds_left(
    own_budget_s: float | None, own_started: float | None = None, *, reserve_s: float = 0.0
) -> float | None:
    """What a step may still spend: the smaller of what its own budget leaves (`own_budget_s`
    from `own_started`, perf_counter seconds; now when None) and what the call's deadline
    leaves less `reserve_s`. None when neither bounds it. May be zero or negative when the
    time is up.

    `reserve_s` is what the call still needs after this step (a neural fit keeps the seconds
    of its forecasting pass): it comes off the call's deadline only, not off the step's own
    budget, which bounds the step alone."""
    now = time.perf_counter()
    left: float | None = None
    if own_budget_s is not None:
        start = now if own_started is None else own_started
        left = float(own_budget_s) - (now - start)
    deadline = _DEADLINE.get()
    if deadline is not None:
        call_left = deadline - now - float(reserve_s)
        left = call_left if left is None else min(left, call_left)
    return left


def share_of_what_is_left(parts: int) -> float | None:
    """One of `parts` equal shares of what the call's deadline leaves (None without one): a
    wrapper that still has `parts` fits to make gives the next one this much."""
    left = seconds_left(None)
    return None if left is None else max(left, 0.0) / max(parts, 1)
