"""The data layer: frames in, a validated `Panel` out, and the shipped data sets.

One module per concept: `frames` (pandas/polars conversion, wide to long), `validation`
(`to_panel` and its checks), `panel` (the `Panel`), `frequency` (frequency inference, regular
grids, season length), `calendar` (calendar features) and `datasets` (the shipped data sets).
Nothing is imported here, so that `tsforecast.data.datasets` loads without torch.
"""
