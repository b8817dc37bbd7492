"""Request and response bodies of `POST /v1/trading/predict`, shared with the client.

Returns are log returns over `horizon` bars. A fold's scores are out of sample: the
model never saw its test rows. `forecast` is the model trained on all the data applied
to the last bar: a forecast, not a figure of skill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel
from aitbc_daemon.trading.models import DataSource

MAX_LAGS = 60
MAX_FOLDS = 20
MAX_EPOCHS = 500
MAX_HORIZON = 20
MAX_WIDTH = 512
MIN_SEGMENT_ROWS = 20  # rows in each of the folds + 1 equal segments (the first trains only)


@dataclass
class PredictRequest(DataSource):
    lags: Annotated[int, Ge(1), Le(MAX_LAGS)] = 10
    folds: Annotated[int, Ge(1), Le(MAX_FOLDS)] = 5
    epochs: Annotated[int, Ge(1), Le(MAX_EPOCHS)] = 30
    horizon: Annotated[int, Ge(1), Le(MAX_HORIZON)] = 1
    seed: Annotated[int, Ge(0), Le(2**32 - 1)] = 0
    hidden: Annotated[list[Annotated[int, Ge(1), Le(MAX_WIDTH)]], MinLen(1), MaxLen(4)] = field(
        default_factory=lambda: [32, 16]
    )


@dataclass
class Score(ApiModel):
    accuracy: float  # share of test rows whose direction (up: return > 0) was called right
    mae: float  # mean absolute error of the predicted log return


@dataclass
class PredictFold(ApiModel):
    train_start: int  # timestamps of the bars the first and last rows were made at
    train_end: int
    test_start: int
    test_end: int
    train_rows: int  # including the validation slice (the end of the training rows)
    test_rows: int
    up_rate: float  # share of up moves in the test rows
    epochs_run: int  # early stopping on the validation slice may end training before --epochs
    model: Score
    zero: Score
    persistence: Score


@dataclass
class Forecast(ApiModel):
    at: int  # the last bar's timestamp: the forecast is for `horizon` bars after it
    horizon: int
    log_return: float
    direction: str  # "up" or "down"
    note: str


@dataclass
class PredictOut(ApiModel):
    source: str
    bars: int
    first: int
    last: int
    lags: int
    horizon: int
    features: list[str]
    hidden: list[int]
    seed: int
    epochs: int
    folds: list[PredictFold]
    test_rows: int
    up_rate: float
    model: Score
    zero: Score  # predicts a zero return; direction: the training rows' majority
    persistence: Score  # predicts the last `horizon`-bar return again
    best_accuracy_baseline: str  # "zero" or "persistence"
    best_mae_baseline: str
    p_accuracy: float  # one-sided exact McNemar test: model more often right than that baseline
    p_mae: float  # one-sided Diebold-Mariano test on absolute errors against that baseline
    edge: bool
    verdict: str
    forecast: Forecast
    device: str
    seconds: float
