"""Pure tests for GB 3095-2012 / GB 3838-2002 limits (no Django, no database)."""

import pytest

from supervision.remote_sensing.standards import (
    INFERIOR_V,
    Limit,
    StandardsError,
    air_limit,
    exceeds,
    load_standards,
    water_class,
    water_limits,
)


def test_loader_counts_and_cache():
    rows = load_standards()
    assert rows is load_standards()
    assert all(isinstance(r, Limit) for r in rows)
    assert len([r for r in rows if r.medium == "air"]) == 28
    assert len([r for r in rows if r.medium == "water"]) == 40
    assert {r.standard for r in rows if r.medium == "air"} == {"GB 3095-2012"}
    assert {r.standard for r in rows if r.medium == "water"} == {"GB 3838-2002"}


@pytest.mark.parametrize(
    "parameter,grade,limit,unit,averaging",
    [
        ("PM2.5", "II", 75, "µg/m³", "24h"),
        ("PM10", "II", 150, "µg/m³", "24h"),
        ("SO2", "II", 150, "µg/m³", "24h"),
        ("NO2", "II", 80, "µg/m³", "24h"),
        ("CO", "II", 4, "mg/m³", "24h"),
        ("O3", "II", 160, "µg/m³", "max8h"),
        ("PM2.5", "I", 35, "µg/m³", "24h"),
        ("PM10", "I", 50, "µg/m³", "24h"),
        ("SO2", "I", 50, "µg/m³", "24h"),
        ("NO2", "I", 80, "µg/m³", "24h"),
        ("CO", "I", 4, "mg/m³", "24h"),
        ("O3", "I", 100, "µg/m³", "max8h"),
    ],
)
def test_air_default_limits(parameter, grade, limit, unit, averaging):
    lim = air_limit(parameter, grade)
    assert (lim.limit, lim.unit, lim.averaging, lim.standard) == (limit, unit, averaging, "GB 3095-2012")


def test_air_default_grade_is_ii_and_other_averagings():
    assert air_limit("PM2.5").limit == 75
    assert air_limit("pm25").limit == 75
    assert air_limit("PM2.5", "II", "annual").limit == 35
    assert air_limit("PM10", "II", "annual").limit == 70
    assert air_limit("SO2", "II", "1h").limit == 500
    assert air_limit("NO2", 2, "1h").limit == 200
    assert air_limit("O3", "II", "1h").limit == 200
    assert air_limit("CO", "I", "1h").limit == 10
    with pytest.raises(StandardsError):
        air_limit("PM2.5", "II", "1h")  # not defined for PM2.5
    with pytest.raises(StandardsError):
        air_limit("PM2.5", "III")
    with pytest.raises(StandardsError):
        air_limit("H2S")


@pytest.mark.parametrize(
    "parameter,limits",
    [
        ("COD", [15, 15, 20, 30, 40]),
        ("NH3-N", [0.15, 0.5, 1.0, 1.5, 2.0]),
        ("TP", [0.02, 0.1, 0.2, 0.3, 0.4]),
        ("TP_lake", [0.01, 0.025, 0.05, 0.1, 0.2]),
        ("TN_lake", [0.2, 0.5, 1.0, 1.5, 2.0]),
        ("DO", [7.5, 6, 5, 3, 2]),
        ("CODMn", [2, 4, 6, 10, 15]),
        ("BOD5", [3, 3, 4, 6, 10]),
    ],
)
def test_water_limits(parameter, limits):
    rows = water_limits(parameter)
    assert [r.limit for r in rows] == limits
    assert [r.grade for r in rows] == ["I", "II", "III", "IV", "V"]
    assert all(r.unit == "mg/L" for r in rows)


@pytest.mark.parametrize(
    "parameter,value,expected",
    [
        ("COD", 10, 1),
        ("COD", 15, 1),  # classes I and II share 15 mg/L: the better class wins
        ("COD", 15.1, 3),
        ("COD", 20, 3),
        ("COD", 35, 5),
        ("COD", 40, 5),
        ("COD", 40.01, INFERIOR_V),
        ("NH3-N", 0.1, 1),
        ("NH3-N", 0.5, 2),
        ("NH3-N", 0.9, 3),
        ("NH3-N", 1.5, 4),
        ("NH3-N", 2.5, 6),
        ("TP", 0.02, 1),
        ("TP", 0.05, 2),
        ("TP", 0.25, 4),
        ("TP", 0.5, 6),
        ("TP_lake", 0.05, 3),
        ("TP_lake", 0.06, 4),
        ("CODMn", 5, 3),
        ("BOD5", 3, 1),
        ("DO", 8, 1),
        ("DO", 7.5, 1),
        ("DO", 6.5, 2),
        ("DO", 5, 3),
        ("DO", 4, 4),
        ("DO", 2, 5),
        ("DO", 1.5, 6),
        ("nh3n", 0.9, 3),
    ],
)
def test_water_class(parameter, value, expected):
    assert water_class(parameter, value) == expected


def test_water_class_rejects_bad_input():
    for bad in (-1, "1.0", None, float("nan"), True):
        with pytest.raises(StandardsError):
            water_class("COD", bad)
    with pytest.raises(StandardsError):
        water_class("PM2.5", 10)  # air parameter
    with pytest.raises(StandardsError):
        water_class("TN", 1.0)  # GB 3838 TN applies to lakes only: use TN_lake


def test_exceeds_air():
    assert not exceeds("PM2.5", 75, "air", "II")  # limit is inclusive
    assert exceeds("PM2.5", 76, "air", "II")
    assert exceeds("PM2.5", 40, "air", "I")
    assert not exceeds("O3", 160, "air", "II")
    assert exceeds("O3", 161, "air", "II")
    assert exceeds("SO2", 501, "air", "II", averaging="1h")


def test_exceeds_water():
    assert not exceeds("COD", 20, "water", "III")
    assert exceeds("COD", 21, "water", "III")
    assert exceeds("NH3-N", 1.2, "water", 3)
    assert not exceeds("NH3-N", 1.0, "water", "III")
    assert exceeds("TP", 0.5, "water", "V")  # 劣V
    assert exceeds("DO", 4.9, "water", "III")  # DO below the class III minimum
    assert not exceeds("DO", 5.0, "water", "III")
    assert not exceeds("DO", 9, "water", "I")


def test_exceeds_rejects_bad_medium_or_target():
    with pytest.raises(StandardsError):
        exceeds("COD", 20, "soil", "III")
    with pytest.raises(StandardsError):
        exceeds("COD", 20, "water", "VI")
    with pytest.raises(StandardsError):
        exceeds("COD", 20, "water", "III", averaging="24h")
