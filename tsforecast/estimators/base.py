"""The one estimator contract every model follows (scikit-learn's rules).

- Every parameter is an explicit argument of `__init__` (no `*args` / `**kwargs`), stored
  unchanged under its own name; nothing is computed in `__init__`. `get_params`, `set_params`,
  `clone` and `repr` are derived from the signature, so they can never disagree with it.
- Values are checked by `_check_params` (at `set_params`, at `fit`, and by the registry's
  `build` before any data is read).
- What `fit` learns is stored in attributes ending in `_`; a method that needs them raises
  `NotFittedError` before `fit`.

`Forecaster` adds the forecasting methods and a statement of what a model can use
(`Capabilities`); `check_request` refuses, with a clear error, what a model cannot honour.
`SavedModel` is the one save/load format (a folder with `config.json` and `model.safetensors`,
with a format version), shared by the forecasters and the classifier.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from tsforecast.checks import check_forecast_columns, check_levels
from tsforecast.errors import InputError, NotFittedError

__all__ = ["FORMAT_VERSION", "BaseEstimator", "Capabilities", "Forecaster"]

# The version of the saved-model folder format; `load` refuses any other.
FORMAT_VERSION = 2

EstimatorT = TypeVar("EstimatorT", bound="BaseEstimator")


@dataclass(frozen=True)
class Capabilities:
    """What a forecaster can use. An entry point refuses a request outside it.

    multivariate: more than one target column (`target_col=[...]`).
    past_covariates: other numeric columns of `df`, seen up to each cutoff only.
    future_covariates: known-future covariates given in `future_df`.
    levels: prediction intervals (`levels=(80, 95)`).
    """

    multivariate: bool = True
    past_covariates: bool = False
    future_covariates: bool = False
    levels: bool = True


class BaseEstimator:
    """Parameters from the `__init__` signature: get_params / set_params / clone / repr."""

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's parameter names, in signature order."""
        names = []
        for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                msg = f"{cls.__name__}.__init__ must list every parameter (no *args/**kwargs)."
                raise TypeError(msg)
            names.append(param.name)
        return names

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Default value of each parameter (`inspect.Parameter.empty` when it has none)."""
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return {p.name: p.default for p in params}

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, as given."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self: EstimatorT, **params: Any) -> EstimatorT:
        """Set constructor arguments (unknown names are refused with the closest known one)."""
        check_param_names(type(self), params, what=type(self).__name__)
        old = self.get_params()
        for key, value in params.items():
            setattr(self, key, value)
        try:
            self._check_params()
        except InputError:
            for key, value in old.items():
                setattr(self, key, value)
            raise
        return self

    def clone(self: EstimatorT) -> EstimatorT:
        """A new, unfitted estimator with the same parameters."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def _check_params(self) -> None:
        """Raise `InputError` for a parameter value that cannot work (subclasses extend)."""

    @property
    def is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            msg = f"this {type(self).__name__} is not fitted yet; call `fit` first."
            raise NotFittedError(msg)

    def __repr__(self) -> str:
        defaults = self.param_defaults()
        shown = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if defaults.get(k, inspect.Parameter.empty) is inspect.Parameter.empty
            or not _same(v, defaults[k])
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


class Forecaster(BaseEstimator):
    """The forecasting contract. Frames are pandas or polars; outputs have the input's type.

    fit(df, future_df=None) -> self
    predict(history_df=None, future_df=None): `horizon` steps after the end of every series of
        `history_df` (default: the training data); new series and updated histories are
        forecast without refitting.
    predict_cutoffs(df, cutoffs, future_df=None): `horizon` steps after each cutoff of each
        series, from the rows up to that cutoff only (what a backtest needs), with a `cutoff`
        column after the time column.
    save(path) / load(path): one folder, format `FORMAT_VERSION`.
    """

    model_name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    # parameters a forecast reads as they are when it runs: set_params may change them after
    # `fit`; a change to any other one needs a new fit
    runtime_params: ClassVar[frozenset[str]] = frozenset({"n_jobs", "progress", "time_budget_s"})

    def fit(self, df: Any, future_df: Any | None = None) -> Forecaster:
        raise NotImplementedError

    def set_params(self, **params: Any) -> Forecaster:
        """Set constructor arguments. On a fitted model the fit stays as it was: a forecast
        refuses to run until the model is fitted again (or the values are set back), rather
        than forecast with the old horizon or levels under the new ones' names."""
        before = self.get_params()
        super().set_params(**params)
        if self.is_fitted:
            vars(self).setdefault("_params_at_fit", before)
        return self

    def _begin_fit(self) -> None:
        """Forget the parameters of an earlier fit (see `set_params`)."""
        vars(self).pop("_params_at_fit", None)

    def _check_fitted(self) -> None:
        super()._check_fitted()
        at_fit = vars(self).get("_params_at_fit")
        if at_fit is None:
            return
        now = self.get_params()
        changed = [
            name
            for name in now
            if name not in self.runtime_params and not _equal(now[name], at_fit[name])
        ]
        if changed:
            shown = ", ".join(f"{n}={at_fit[n]!r} at fit, {now[n]!r} now" for n in changed)
            msg = (
                f"this {type(self).__name__} was fitted with other parameters than it has now "
                f"({shown}: set_params after fit); fit it again to use them, or set them back."
            )
            raise InputError(msg)

    def predict(self, history_df: Any | None = None, future_df: Any | None = None) -> Any:
        raise NotImplementedError

    def predict_cutoffs(self, df: Any, cutoffs: Any, future_df: Any | None = None) -> Any:
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str]) -> None:
        raise NotImplementedError

    def _read(self, df: Any, what: str, device: Any = "cpu", like_fit: bool = False) -> Any:
        """`df` as a validated `Panel` read with this model's column settings (`id_col`,
        `time_col`, `target_col`, `freq`, `fill`); a `Panel` (validated by an entry point
        already) passes through. Errors name the argument (`what`) they come from.

        `like_fit` (a history to forecast from, after `fit`): the frame is read on the grid the
        model was fitted on (so a history of one row needs no `freq`), and one of another
        frequency or time type is refused: a daily model's season and calendar features do not
        describe hourly data, nor integer time."""
        from tsforecast.data.panel import Panel
        from tsforecast.data.validation import to_panel

        fitted = getattr(self, "history_panel_", None) if like_fit else None
        if isinstance(df, Panel):
            panel = df if device == "cpu" else df.to(device)
        else:
            freq = getattr(self, "freq", None)
            if freq is None and fitted is not None:
                freq = fitted.freq
            try:
                panel = to_panel(
                    df,
                    id_col=getattr(self, "id_col", "unique_id"),
                    time_col=getattr(self, "time_col", "ds"),
                    target_col=getattr(self, "target_col", "y"),
                    freq=freq,
                    fill=getattr(self, "fill", None),
                    device=device,
                )
            except InputError as error:
                msg = f"in `{what}`: {error}"
                if fitted is not None:
                    msg = (
                        f"in `{what}`, read on the grid the model was fitted on "
                        f"({_grid(fitted)} time stamps): {error}"
                    )
                raise InputError(msg) from error
        # before any work: the forecast frame must not give two of its columns one name
        check_forecast_columns(
            panel.id_col,
            panel.time_col,
            panel.target_cols,
            check_levels(getattr(self, "levels", None)),
        )
        if fitted is not None and (
            panel.is_datetime != fitted.is_datetime or panel.freq != fitted.freq
        ):
            msg = (
                f"`{what}` has {_grid(panel)} time stamps, but the model was fitted on "
                f"{_grid(fitted)} ones; forecast a history of the fitted frequency, or fit a "
                "model on this one."
            )
            raise InputError(msg)
        return panel

    @classmethod
    def _load(cls, folder: Path, device: Any) -> Forecaster:
        """Read a folder written by `save` (the registry's `load` calls this on the class the
        folder names); a model made of other models overrides it."""
        from tsforecast.persistence import check_saved_format, read_model_folder

        config, tensors = read_model_folder(folder, "tsforecast model")
        check_saved_format(folder, config, cls.__name__, FORMAT_VERSION)
        return cls._from_saved(config, tensors, device)  # type: ignore[attr-defined]

    @classmethod
    def check_request(
        cls,
        *,
        target_cols: Sequence[str] = ("y",),
        past_covariates: Sequence[str] = (),
        future_df: bool = False,
        levels: Sequence[float] = (),
        label: str | None = None,
    ) -> None:
        """Refuse, with a clear error, a request this model cannot honour."""
        caps = cls.capabilities
        name = label or cls.model_name or cls.__name__
        if len(target_cols) > 1 and not caps.multivariate:
            msg = (
                f"model {name!r} forecasts one target, got {list(target_cols)}; "
                "pass one `target_col` or choose a multivariate model."
            )
            raise InputError(msg)
        if future_df and not caps.future_covariates:
            msg = (
                f"model {name!r} uses no known-future covariates, but `future_df` was given; "
                "drop `future_df` or choose a model that uses it (lstm, bilstm, seq2seq)."
            )
            raise InputError(msg)
        if past_covariates and not caps.past_covariates:
            msg = (
                f"model {name!r} uses no covariates, but the frame has the numeric or boolean "
                f"columns {list(past_covariates)} besides the targets; drop them (or select the "
                "target columns; `tsforecast forecast ... --covariates` with no names, "
                "`covariates = []` in a config's [data]) or choose a model that uses "
                "covariates (lstm, bilstm, seq2seq)."
            )
            raise InputError(msg)
        if levels and not caps.levels:
            msg = f"model {name!r} gives no prediction intervals; drop `levels`."
            raise InputError(msg)


def check_param_names(cls: type[BaseEstimator], params: dict[str, Any], what: str) -> None:
    """Refuse parameter names `cls` does not take, naming the closest known one."""
    known = cls.param_names()
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" did you mean {close[0]!r}?" if close else ""
            msg = f"{what} has no parameter {key!r};{hint} known: {sorted(known)}."
            raise InputError(msg)


def _equal(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal (the same object when `==` cannot tell)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # arrays and the like
        return False


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and the like: show them
        return False


def _grid(panel: Any) -> str:
    """'daily ("D")'-like words for a panel's time grid, for messages."""
    if panel.is_datetime:
        return f"datetime ({panel.freq!r})"
    return f"integer (step {panel.freq})"
