"""ARIMA: seasonal ARIMA by conditional sum of squares, orders from a stepwise search.

Seasonal ARIMA (p,d,q)(P,D,Q)m. D from the seasonal strength of an STL decomposition
(> 0.64, as R's `nsdiffs`), d from repeated KPSS tests at 5% (as R's `ndiffs`), then the
Hyndman-Khandakar stepwise search over p, q <= 5, P, Q <= 2, p+q+P+Q <= 5 and the constant, by
AICc of a conditional-sum-of-squares (CSS) fit. CSS is what R's `auto.arima` also uses for
series longer than 150 or with m > 12; here it is the whole fit because the exact likelihood
of a 24-periodic model (a state of 50-75 dimensions) costs seconds per evaluation while the CSS
residuals are one linear filter. Each CSS fit is a Levenberg-Marquardt least-squares fit with
the exact Jacobian of the residuals (a few more filters, `_css_residuals`): finite differences
cost one filter per parameter per step and were ~80% of the time. Stationarity and
invertibility hold by construction (the coefficients are the partial-autocorrelation transform
of free parameters). Forecasts follow the ARMA recursion on the differenced series, integrated
back; intervals from the psi weights of the integrated model (statsmodels `arma2ma`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsforecast.stats.common import SeriesForecast, _bands, _Fallback
from tsforecast.stats.naive import seasonal_strength

# Relative change of the sum of squares (and of the parameters) at which a CSS fit stops: AICc
# differences that decide the search are whole units, far above what 1e-8 buys.
_FTOL = 1e-6


def _n_diffs(z: np.ndarray, max_d: int = 2) -> int:
    """R's `ndiffs`: difference while KPSS rejects level stationarity at 5%."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(z) > 10 and float(np.var(z)) > 0.0:
        lags = int(4 * (len(z) / 100.0) ** 0.25)  # R's tseries "lshort" truncation
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p_value = kpss(z, regression="c", nlags=lags)[1]
        if p_value >= 0.05:
            break
        z = np.diff(z)
        d += 1
    return d


def _difference(y: np.ndarray, d: int, big_d: int, m: int) -> np.ndarray:
    z = y
    for _ in range(big_d):
        z = z[m:] - z[:-m]
    for _ in range(d):
        z = np.diff(z)
    return z


def _poly_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.convolve(a, b)


def _lag_poly(coefs: np.ndarray, step: int, sign: float) -> np.ndarray:
    """1 + sign * sum_i coefs[i] B^{(i+1) step} as a coefficient vector."""
    poly = np.zeros(len(coefs) * step + 1)
    poly[0] = 1.0
    poly[step::step] = sign * coefs
    return poly


@dataclass(frozen=True)
class _Order:
    p: int
    q: int
    big_p: int
    big_q: int
    constant: bool

    @property
    def n_coef(self) -> int:
        return self.p + self.q + self.big_p + self.big_q


def _constrain(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Free parameters -> the coefficients of a stationary polynomial 1 - sum c_i B^i, and
    their Jacobian dc/dx (k, k).

    The Monahan (1984) transform, exactly as statsmodels' `constrain_stationary_univariate`:
    x -> partial autocorrelations r = x / sqrt(1 + x^2) in (-1, 1) -> Durbin-Levinson
    recursion. The Jacobian is carried through the recursion (forward mode) so that the CSS
    fit has exact derivatives instead of finite differences (those cost k + 1 filters per step).
    """
    k = len(x)
    r = x / np.sqrt(1.0 + x * x)
    dr = (1.0 + x * x) ** -1.5
    y = np.zeros(k)
    jac = np.zeros((k, k))  # jac[i, l] = d y_i / d x_l
    for n in range(k):
        prev, prev_jac = y[:n].copy(), jac[:n].copy()
        y[:n] = prev + r[n] * prev[::-1]
        jac[:n] = prev_jac + r[n] * prev_jac[::-1]
        jac[:n, n] += dr[n] * prev[::-1]
        y[n], jac[n, n] = r[n], dr[n]
    return -y, -jac


@dataclass(frozen=True)
class _Polys:
    """The lag polynomials of one parameter vector: phi(B) Phi(B^m) w_t = theta(B) Theta(B^m) e_t
    with w = z - mean. Each factor is kept apart because the Jacobian needs them one by one."""

    phi: np.ndarray  # 1 - sum ar_i B^i
    theta: np.ndarray  # 1 - sum ma_i B^i  (SARIMAX's ma coefficients are -ma_i)
    big_phi: np.ndarray  # 1 - sum sar_j B^{jm}
    big_theta: np.ndarray  # 1 - sum sma_j B^{jm}
    mean: float
    coef_jac: tuple[np.ndarray, ...]  # d(coefficients)/d(free) of each factor, in that order

    @property
    def ar(self) -> np.ndarray:
        return _poly_mul(self.phi, self.big_phi)

    @property
    def ma(self) -> np.ndarray:
        return _poly_mul(self.theta, self.big_theta)


def _polys(free: np.ndarray, order: _Order, m: int) -> _Polys:
    """free = (ar, ma, sar, sma free parameters, then the mean if `order.constant`)."""
    polys, jacs = [], []
    start = 0
    for size, step in ((order.p, 1), (order.q, 1), (order.big_p, m), (order.big_q, m)):
        coefs, jac = _constrain(free[start : start + size])
        polys.append(_lag_poly(coefs, step, -1.0))
        jacs.append(jac)
        start += size
    mean = float(free[start]) if order.constant else 0.0
    phi, theta, big_phi, big_theta = polys
    return _Polys(phi, theta, big_phi, big_theta, mean=mean, coef_jac=tuple(jacs))


def _arima_polys(
    free: np.ndarray, order: _Order, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Free parameters -> (AR poly, MA poly, coefficient vector, mean); always stationary and
    invertible thanks to the partial-autocorrelation transform. The coefficient vector is in
    SARIMAX's convention: (ar, ma, sar, sma) with the MA side 1 + sum ma_i B^i."""
    polys = _polys(free, order, m)
    coefs = np.concatenate(
        [
            -polys.phi[1:],
            polys.theta[1:],
            -polys.big_phi[m::m] if order.big_p else np.empty(0),
            polys.big_theta[m::m] if order.big_q else np.empty(0),
        ]
    )
    return polys.ar, polys.ma, coefs, polys.mean


def _lagged(u: np.ndarray, n_lags: int, step: int) -> np.ndarray:
    """(T, n_lags) matrix whose column j is u delayed by (j + 1) * step, zeros before the start
    (the same zero start-up that the CSS residual filter assumes)."""
    out = np.zeros((len(u), n_lags))
    for j in range(n_lags):
        lag = (j + 1) * step
        out[lag:, j] = u[: len(u) - lag]
    return out


def _css_residuals(
    free: np.ndarray, z: np.ndarray, order: _Order, m: int, burn: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSS residuals e[burn:] (T',) of the ARMA on z and their Jacobian (T', n_free).

    e = ar(B) / ma(B) (z - mean) with ar = phi Phi, ma = theta Theta. For a coefficient of one
    factor, d e = (d factor) * (the other factor on the same side) / ma applied to w (AR side)
    or, with the opposite sign, to e (MA side), e.g. d e / d phi_i = -B^i Phi(B^m) w / ma(B):
    four filters in all, whatever the number of parameters.
    """
    from scipy.signal import lfilter

    polys = _polys(free, order, m)
    ar, ma = polys.ar, polys.ma
    w = z - polys.mean
    e = lfilter(ar, ma, w)
    columns = []
    for size, step, other, x, sign, jac in (
        (order.p, 1, polys.big_phi, w, -1.0, polys.coef_jac[0]),
        (order.q, 1, polys.big_theta, e, 1.0, polys.coef_jac[1]),
        (order.big_p, m, polys.phi, w, -1.0, polys.coef_jac[2]),
        (order.big_q, m, polys.theta, e, 1.0, polys.coef_jac[3]),
    ):
        if size:
            d_coefs = sign * _lagged(lfilter(other, ma, x), size, step)  # -> (T, size)
            columns.append(d_coefs @ jac)  # chain rule through the transform -> (T, size)
    if order.constant:
        columns.append(-lfilter(ar, ma, np.ones(len(z)))[:, None])  # -> (T, 1)
    full = np.hstack(columns)  # -> (T, n_free)
    return e[burn:], full[burn:]


_MA_START = 0.01  # the free parameter of each MA coefficient at the CSS start (_zero_start)


def _zero_start(z: np.ndarray, order: _Order) -> np.ndarray:
    """The CSS start: white noise around the mean, with the MA coefficients a little off zero.

    At exactly zero the derivative of the residuals by the i-th AR coefficient equals that by
    the i-th MA one (both are -z delayed by i), so the Jacobian of any order with AR and MA
    terms on one side is rank-deficient there, and MINPACK's first step then depends on
    rounding: the same call gave one of two orders at random on 6 of the 359 M4 Weekly series
    (tour 14). Off zero the two columns differ by one more MA filter and the first step is
    well posed. 0.01 is the start nearest zero's accuracy of those measured (0.001, 0.01, 0.1,
    0.3: README, ARIMA)."""
    x0 = np.zeros(order.n_coef + int(order.constant))
    x0[order.p : order.p + order.q] = _MA_START
    ma_seasonal = order.p + order.q + order.big_p
    x0[ma_seasonal : ma_seasonal + order.big_q] = _MA_START
    if order.constant:
        x0[-1] = float(np.mean(z))
    return x0


def _css_fit(
    z: np.ndarray, order: _Order, m: int, burn: int, start: np.ndarray | None = None
) -> tuple[float, np.ndarray, float]:
    """CSS fit of an ARMA on z: returns (AICc, free parameters, sigma^2)."""
    from scipy.optimize import least_squares

    n_free = order.n_coef + int(order.constant)
    if n_free == 0:
        resid = z[burn:]
        free = np.empty(0)
    else:
        x0 = _zero_start(z, order) if start is None else start
        # lmder asks for the residuals and then the Jacobian at the same point: compute both once
        cache: dict[str, Any] = {}

        def both(free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if cache.get("x") is None or not np.array_equal(cache["x"], free):
                cache["x"], cache["out"] = free.copy(), _css_residuals(free, z, order, m, burn)
            return cache["out"]

        sol = least_squares(
            lambda f: both(f)[0],
            x0,
            jac=lambda f: both(f)[1],
            method="lm",
            ftol=_FTOL,
            xtol=_FTOL,
            max_nfev=100 * (n_free + 1),
        )
        if sol.status <= 0:
            raise _Fallback(f"CSS optimiser failed: {sol.message}")
        free = sol.x
        resid = both(free)[0]
    n_eff = resid.size
    sigma2 = float(np.dot(resid, resid) / n_eff)
    k = n_free + 1
    if sigma2 <= 0.0 or n_eff - k - 1 <= 0:
        return float("inf"), free, sigma2
    loglik = -0.5 * n_eff * (math.log(2.0 * math.pi * sigma2) + 1.0)
    aicc = -2.0 * loglik + 2.0 * k + 2.0 * k * (k + 1) / (n_eff - k - 1)
    return aicc, free, sigma2


def _arima_search(z: np.ndarray, m: int, n_differences: int, seasonal: bool) -> tuple:
    """Hyndman-Khandakar stepwise search (R's auto.arima, stepwise=TRUE) by CSS AICc.

    The constant: none after two differences (a quadratic trend), searched after one (a
    drift), and always there on an undifferenced series. auto.arima searches it there too, but
    a zero-mean stationary model says the series returns to 0: where one outlier inflates
    sigma^2 enough for AICc to drop the mean, a series of values around 120 was forecast 0."""
    allow_constant = n_differences <= 1
    require_constant = n_differences == 0
    max_p, max_q, max_order = 5, 5, 5
    max_sp, max_sq = (2, 2) if seasonal else (0, 0)
    # The same residuals (after `burn` steps) for every candidate, so their AICc compare.
    burn = min(max_p + m * max_sp, len(z) // 3)
    fits: dict[_Order, tuple[float, np.ndarray, float]] = {}

    def visit(order: _Order) -> float:
        valid = (
            0 <= order.p <= max_p
            and 0 <= order.q <= max_q
            and 0 <= order.big_p <= max_sp
            and 0 <= order.big_q <= max_sq
            and order.n_coef <= max_order
            and (allow_constant or not order.constant)
            and (order.constant or not require_constant)
        )
        if not valid:
            return float("inf")
        if order not in fits:
            try:
                fits[order] = _css_fit(z, order, m, burn)
            except (_Fallback, ValueError, np.linalg.LinAlgError):
                fits[order] = (float("inf"), np.empty(0), float("nan"))
        return fits[order][0]

    s1 = 1 if seasonal else 0
    starts = [
        _Order(2, 2, s1, s1, allow_constant),
        _Order(0, 0, 0, 0, allow_constant),
        _Order(1, 0, s1, 0, allow_constant),
        _Order(0, 1, 0, s1, allow_constant),
        _Order(0, 0, 0, 0, False),
    ]
    best = min(starts, key=visit)
    improved = True
    while improved and len(fits) < 94:
        improved = False
        b = best
        neighbours = [
            _Order(b.p, b.q, b.big_p + dp, b.big_q + dq, b.constant)
            for dp, dq in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1), (1, -1), (-1, 1))
        ] + [
            _Order(b.p + dp, b.q + dq, b.big_p, b.big_q, b.constant)
            for dp, dq in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1), (1, -1), (-1, 1))
        ]
        neighbours.append(_Order(b.p, b.q, b.big_p, b.big_q, not b.constant))
        for cand in neighbours:
            if visit(cand) < visit(best):
                best = cand
                improved = True
                break  # move at once, as auto.arima does
    aicc, free, sigma2 = fits[best]
    if not np.isfinite(aicc):
        raise _Fallback("no ARIMA candidate could be fitted")
    return best, free, sigma2


def _arima(
    y: np.ndarray, horizon: int, m: int, levels: Sequence[float], spec: dict[str, Any] | None
) -> SeriesForecast:
    from scipy.signal import lfilter
    from statsmodels.tsa.arima_process import arma2ma

    seasonal_m = m if m > 1 and len(y) >= 3 * m else 1
    if spec:
        d, big_d = int(spec["d"]), int(spec["D"])
        order = _Order(*spec["order"])
        free = np.asarray(spec["free"], dtype=np.float64)
        sigma2 = float(spec["sigma2"])
        seasonal_m = int(spec["m"])
        z = _difference(y, d, big_d, seasonal_m)
    else:
        big_d = int(seasonal_m > 1 and seasonal_strength(y, seasonal_m) > 0.64)
        z0 = _difference(y, 0, big_d, seasonal_m)
        d = _n_diffs(z0)
        z = _difference(y, d, 0, 1) if big_d == 0 else _difference(z0, d, 0, 1)
        if len(z) < 10 or float(np.var(z)) == 0.0:
            raise _Fallback("too few or constant values after differencing for ARIMA")
        order, free, sigma2 = _arima_search(z, seasonal_m, d + big_d, seasonal_m > 1)
    ar_poly, ma_poly, _, mean = _arima_polys(free, order, seasonal_m)
    # Forecast the differenced series by the ARMA recursion, future shocks set to zero.
    w = z - mean
    resid = lfilter(ar_poly, ma_poly, w)  # in-sample shocks
    n_ar, n_ma = len(ar_poly) - 1, len(ma_poly) - 1
    w_ext = np.concatenate([w, np.zeros(horizon)])
    e_ext = np.concatenate([resid, np.zeros(horizon)])
    n = len(w)
    for h in range(horizon):
        t = n + h
        ar_part = -sum(ar_poly[i] * w_ext[t - i] for i in range(1, n_ar + 1) if t - i >= 0)
        ma_part = sum(ma_poly[j] * e_ext[t - j] for j in range(1, n_ma + 1) if t - j >= 0)
        w_ext[t] = ar_part + ma_part
    z_future = w_ext[n:] + mean
    # Integrate back: delta(B) y_t = z_t with delta = (1-B)^d (1-B^m)^D.
    delta = np.array([1.0])
    for _ in range(d):
        delta = _poly_mul(delta, np.array([1.0, -1.0]))
    for _ in range(big_d):
        delta = _poly_mul(delta, _lag_poly(np.array([1.0]), seasonal_m, -1.0))
    y_ext = np.concatenate([y, np.zeros(horizon)])
    n_y = len(y)
    for h in range(horizon):
        t = n_y + h
        y_ext[t] = z_future[h] - sum(delta[i] * y_ext[t - i] for i in range(1, len(delta)))
    mean_fc = y_ext[n_y:]
    psi = arma2ma(_poly_mul(ar_poly, delta), ma_poly, lags=horizon)
    sd = np.sqrt(sigma2 * np.cumsum(psi**2))
    lo, hi = _bands(mean_fc, sd, levels)
    out = SeriesForecast(mean_fc, lo, hi)
    out.spec = {
        "order": [order.p, order.q, order.big_p, order.big_q, order.constant],
        "d": d,
        "D": big_d,
        "m": seasonal_m,
        "free": free.tolist(),
        "sigma2": sigma2,
    }
    return out
