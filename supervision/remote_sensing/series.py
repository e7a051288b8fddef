"""Deterministic, realistic daily air-quality series for the demo, tests and benchmarks (pure: no Django).

A series is a seasonal cycle (a cosine peaking in the heating season, as PM2.5 does in
north-east China) times log-normal day-to-day noise with AR(1) persistence (polluted days
come in runs, as weather does). Seeded: the same arguments give the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Seasonal:
    mean: float  # µg/m³, the annual level
    amplitude: float  # relative: 0.4 means the heating-season peak is 40 % above the mean
    peak_day_of_year: int = 15  # mid-January
    noise_sd: float = 0.2  # standard deviation of the log of the day-to-day factor
    persistence: float = 0.5  # AR(1) coefficient of the log noise


def daily_series(*, start: date, days: int, shape: Seasonal, seed: int) -> list[tuple[date, float]]:
    """`days` daily means from `start`: seasonal cycle x AR(1) log-normal noise, rounded to 0.1."""
    rng = np.random.default_rng(seed)
    innovations = rng.normal(0.0, shape.noise_sd * math.sqrt(1 - shape.persistence**2), days)
    noise = np.empty(days)
    level = rng.normal(0.0, shape.noise_sd)
    for i in range(days):
        level = shape.persistence * level + innovations[i]
        noise[i] = level
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        phase = 2 * math.pi * (day.timetuple().tm_yday - shape.peak_day_of_year) / 365.25
        seasonal = shape.mean * (1 + shape.amplitude * math.cos(phase))
        out.append((day, round(seasonal * math.exp(noise[i] - shape.noise_sd**2 / 2), 1)))
    return out


def scaled(series: list[tuple[date, float]], first: date, last: date, factor: float) -> list[tuple[date, float]]:
    """The series with the days first..last multiplied by `factor` (a new source, an episode)."""
    return [(d, round(v * factor, 1) if first <= d <= last else v) for d, v in series]


def replaced(series: list[tuple[date, float]], values: dict[date, float]) -> list[tuple[date, float]]:
    """The series with some days' values replaced."""
    return [(d, values.get(d, v)) for d, v in series]
