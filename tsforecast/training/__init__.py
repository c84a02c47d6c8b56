"""Training: the loop every neural model shares (`loop`) and the losses it minimises (`losses`).

`from tsforecast.training import train, TrainingConfig, TrainingResult` is the entry point.
"""

from tsforecast.training.loop import TrainingConfig, TrainingResult, lr_factor, train

__all__ = ["TrainingConfig", "TrainingResult", "lr_factor", "train"]
