"""Nelder-Mead minimisation of many independent problems of one dimension, in lockstep.

The caller owns the objective: `ask()` returns the points that must be evaluated next (which
problem each belongs to and where), `tell(f)` hands back their values. Between the two the
caller may evaluate the points of many optimisers in one vectorised call, which is the point:
an exponential-smoothing likelihood costs one Python-level loop over time whatever the number
of parameter vectors evaluated inside it.

The method is the textbook one (Nelder & Mead 1965 with the coefficients of Lagarias et al.
1998: reflection 1, expansion 2, contraction 1/2, shrink 1/2), restricted to a box by clipping
every proposed point into it. A problem stops when its simplex's values span less than `ftol`
(relative to the best value, plus `ftol` absolute) and its vertices lie within `xtol` of the best
one, or after `max_iter` iterations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

__all__ = ["BatchedNelderMead"]


class BatchedNelderMead:
    """Minimise R problems of dimension d at once, starting from x0 [R, d] inside [lower, upper].

    `steps` [d] is the initial simplex: vertex i moves coordinate i of x0 by steps[i] (by
    -steps[i] where that would leave the box). After `done` is true, `x` [R, d] and `f` [R] are
    each problem's best point and value, and `converged` [R] says which stopped by tolerance.
    `restarts`: how many times a converged problem starts again from a fresh simplex around its
    best point (clipping into the box can flatten a simplex onto a face of it). Once no more
    than `speculate_below` problems run, each iteration asks for all four candidate points at
    once (reflection, expansion, both contractions): one round instead of two.
    """

    def __init__(
        self,
        x0: np.ndarray,
        steps: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        ftol: float = 1e-7,
        xtol: float = 1e-4,
        max_iter: int = 300,
        restarts: int = 1,
        speculate_below: int = 0,
    ) -> None:
        self.lower, self.upper = np.asarray(lower, float), np.asarray(upper, float)
        x0 = np.clip(np.asarray(x0, float), self.lower, self.upper)
        n_problems, dim = x0.shape
        self.dim = dim
        self.ftol, self.xtol, self.max_iter = ftol, xtol, max_iter
        simplex = np.repeat(x0[:, None, :], dim + 1, axis=1)  # -> (R, d+1, d)
        for i in range(dim):
            moved = x0[:, i] + steps[i]
            simplex[:, i + 1, i] = np.where(moved <= self.upper[i], moved, x0[:, i] - steps[i])
        self.simplex = np.clip(simplex, self.lower, self.upper)
        self.steps = np.asarray(steps, float)
        self.restarts_left = np.full(n_problems, restarts)
        self.speculate_below = max(speculate_below, 0)
        self._speculative = False
        self.values = np.full((n_problems, dim + 1), np.inf)
        self.active = np.ones(n_problems, dtype=bool)
        self.converged = np.zeros(n_problems, dtype=bool)
        self.n_iter = 0
        self._phase = "init"
        self._rows = np.arange(n_problems)
        self._pending: np.ndarray = np.empty((0, dim))
        self._restart_rows = np.empty(0, dtype=np.int64)

    @property
    def done(self) -> bool:
        return not self.active.any()

    @property
    def x(self) -> np.ndarray:
        best = np.argmin(self.values, axis=1)
        return self.simplex[np.arange(len(best)), best]

    @property
    def f(self) -> np.ndarray:
        return self.values.min(axis=1)

    def ask(self) -> tuple[np.ndarray, np.ndarray]:
        """(problem index [K], point [K, d]) to evaluate next; K may be 0 only when done."""
        if self._phase == "init":
            rows = np.flatnonzero(self.active)
            self._rows = np.repeat(rows, self.dim + 1)
            self._pending = self.simplex[rows].reshape(-1, self.dim)
            return self._rows, self._pending
        if self._phase == "reflect":
            rows = np.flatnonzero(self.active)
            centroid = self.simplex[rows, :-1].mean(axis=1)  # best d vertices (sorted)
            worst = self.simplex[rows, -1]
            self._rows, self._centroid = rows, centroid
            self._pending = self._clip(2.0 * centroid - worst)
            # The last few problems cost as much per round as many: ask for the reflection,
            # the expansion and both contractions at once, one round per iteration.
            self._speculative = len(rows) <= self.speculate_below
            if self._speculative:
                self._others = [
                    self._clip(3.0 * centroid - 2.0 * worst),
                    self._clip(1.5 * centroid - 0.5 * worst),
                    self._clip(0.5 * centroid + 0.5 * worst),
                ]
                points = np.concatenate([self._pending, *self._others])
                return np.tile(rows, 4), points
            return self._rows, self._pending
        return self._rows, self._pending  # second step or shrink: prepared by tell

    def _clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lower, self.upper)

    def tell(self, f: np.ndarray) -> None:
        f = np.where(np.isfinite(f), f, np.inf)
        if self._phase == "init":
            self.values[np.unique(self._rows)] = f.reshape(-1, self.dim + 1)
            self._sort_and_check()
            self._next_phase()
            return
        if self._phase == "reflect":
            if self._speculative:
                fr, fe, foc, fic = np.split(f, 4)
                self._after_reflection(fr, (fe, foc, fic))
            else:
                self._after_reflection(f)
            return
        if self._phase == "second":
            self._after_second(f)
            return
        # shrink or restart: the d non-best vertices of each problem were (re-)evaluated
        rows = np.unique(self._rows)
        self.values[rows, 1:] = f.reshape(-1, self.dim)
        if self._phase == "restart":
            self._sort_and_check()
            self._next_phase()
        else:
            self._finish_iteration()

    def _next_phase(self) -> None:
        """Evaluate the fresh simplices of restarted problems first, then reflect."""
        again = self._restart_rows
        if again.size:
            self._rows = np.repeat(again, self.dim)
            self._pending = self.simplex[again, 1:].reshape(-1, self.dim)
            self._phase = "restart"
        else:
            self._phase = "reflect"

    def _after_reflection(
        self, fr: np.ndarray, known: tuple[np.ndarray, ...] | None = None
    ) -> None:
        """Accept the reflection, or prepare the second point (already evaluated when
        `known` holds the values at the expansion and both contractions)."""
        rows, centroid, xr = self._rows, self._centroid, self._pending
        f_best, f_second, f_worst = (
            self.values[rows, 0],
            self.values[rows, -2],
            self.values[rows, -1],
        )
        accept = (fr >= f_best) & (fr < f_second)
        expand = fr < f_best
        outside = (fr >= f_second) & (fr < f_worst)
        inside = fr >= f_worst
        self._replace(rows[accept], xr[accept], fr[accept])
        worst = self.simplex[rows, -1]
        second = np.empty_like(xr)
        second[expand] = self._clip(3.0 * centroid[expand] - 2.0 * worst[expand])
        second[outside] = self._clip(1.5 * centroid[outside] - 0.5 * worst[outside])
        second[inside] = self._clip(0.5 * centroid[inside] + 0.5 * worst[inside])
        need = ~accept
        # kind: 0 expansion, 1 outside contraction, 2 inside contraction
        kind = np.where(expand, 0, np.where(outside, 1, 2)).astype(np.int8)
        self._second_state = (rows[need], xr[need], fr[need], kind[need])
        if not need.any():
            self._finish_iteration()
            return
        self._rows, self._pending = rows[need], second[need]
        self._phase = "second"
        if known is not None:
            fe, foc, fic = known
            f2 = np.where(expand, fe, np.where(outside, foc, fic))
            self._after_second(f2[need])

    def _after_second(self, f2: np.ndarray) -> None:
        rows, xr, fr, kind = self._second_state
        x2 = self._pending
        f_worst = self.values[rows, -1]
        take2 = (
            ((kind == 0) & (f2 < fr)) | ((kind == 1) & (f2 <= fr)) | ((kind == 2) & (f2 < f_worst))
        )
        take_r = (kind == 0) & ~take2
        self._replace(rows[take2], x2[take2], f2[take2])
        self._replace(rows[take_r], xr[take_r], fr[take_r])
        shrink = rows[(kind > 0) & ~take2]
        if shrink.size == 0:
            self._finish_iteration()
            return
        best = self.simplex[shrink, :1]  # -> (K, 1, d)
        self.simplex[shrink, 1:] = self._clip(best + 0.5 * (self.simplex[shrink, 1:] - best))
        self._rows = np.repeat(shrink, self.dim)
        self._pending = self.simplex[shrink, 1:].reshape(-1, self.dim)
        self._phase = "shrink"

    def _replace(self, rows: np.ndarray, x: np.ndarray, f: np.ndarray) -> None:
        self.simplex[rows, -1] = x
        self.values[rows, -1] = f

    def _finish_iteration(self) -> None:
        self.n_iter += 1
        self._sort_and_check()
        self._next_phase()

    def _sort_and_check(self) -> None:
        rows = np.flatnonzero(self.active)
        order = np.argsort(self.values[rows], axis=1, kind="stable")
        self.values[rows] = np.take_along_axis(self.values[rows], order, axis=1)
        self.simplex[rows] = np.take_along_axis(self.simplex[rows], order[:, :, None], axis=1)
        values, simplex = self.values[rows], self.simplex[rows]
        f_span = values[:, -1] - values[:, 0]
        x_span = np.abs(simplex[:, 1:] - simplex[:, :1]).max(axis=(1, 2))
        small = (f_span <= self.ftol * (1.0 + np.abs(values[:, 0]))) & (x_span <= self.xtol)
        # A simplex that collapsed onto a face of the box (or into a shallow dip) looks
        # converged; a fresh simplex around its best point either confirms it or moves on.
        again = rows[small & (self.restarts_left[rows] > 0)]
        if again.size:
            self.restarts_left[again] -= 1
            best = self.simplex[again, 0]
            fresh = np.repeat(best[:, None, :], self.dim + 1, axis=1)
            for i in range(self.dim):
                moved = best[:, i] + self.steps[i]
                fresh[:, i + 1, i] = np.where(
                    moved <= self.upper[i], moved, best[:, i] - self.steps[i]
                )
            self.simplex[again] = self._clip(fresh)
            small[np.isin(rows, again)] = False
        self._restart_rows = again
        self.converged[rows[small]] = True
        stop = small | (self.n_iter >= self.max_iter)
        self.active[rows[stop]] = False


Requests = list[tuple[np.ndarray, np.ndarray]]


def minimise_all(
    optimisers: list[BatchedNelderMead],
    evaluate: Callable[[Requests], list[np.ndarray]],
    stop_at: float | None = None,
) -> None:
    """Run every optimiser to its end, evaluating all their asked points in one call per round.

    `evaluate(requests)` gets one (problem index [K], point [K, d]) pair per optimiser still
    running (in the order of `optimisers`) and returns one array of values per pair.
    `stop_at` (a `time.time()` value) ends every optimiser before the first round that would
    end after it, by the time the round before took: each keeps the best point it has
    evaluated (its start before any), an anytime answer where a deadline would otherwise leave
    the problems without one.
    """
    last_round = 0.0  # seconds
    while True:
        running = [opt for opt in optimisers if not opt.done]
        if not running or (stop_at is not None and time.time() + last_round >= stop_at):
            return
        started = time.time()
        requests = [opt.ask() for opt in running]
        for opt, f in zip(running, evaluate(requests), strict=True):
            opt.tell(np.asarray(f, dtype=np.float64))
        last_round = time.time() - started
