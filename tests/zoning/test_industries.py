"""Pure tests for the GB/T 4754-2017 table and loader (no Django, no database)."""

import pytest

from supervision.zoning.industries import (
    IndustryCodeError,
    industry_matches,
    industry_normalise,
    industry_search,
    load_industries,
)

# Sections and the two-digit division ranges of GB/T 4754-2017.
SECTION_RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}


def _by_level(level):
    return [i for i in load_industries().values() if i.level == level]


def test_counts():
    assert len(_by_level("section")) == 20
    assert len(_by_level("division")) == 97
    groups = _by_level("group")
    assert {g.code[0] for g in groups} == {"B", "C", "D"}
    assert len([g for g in groups if g.code[0] == "B"]) == 19
    assert len([g for g in groups if g.code[0] == "C"]) == 179
    assert len([g for g in groups if g.code[0] == "D"]) == 9


def test_divisions_are_contiguous_and_in_the_right_section():
    divisions = {i.code for i in _by_level("division")}
    expected = {f"{letter}{n:02d}" for letter, (lo, hi) in SECTION_RANGES.items() for n in range(lo, hi + 1)}
    assert divisions == expected


def test_parents_exist_and_match_prefix():
    table = load_industries()
    for ind in table.values():
        if ind.level == "section":
            assert ind.parent is None
            continue
        assert ind.parent in table, ind
        assert ind.code.startswith(ind.parent)
        assert table[ind.parent].level == {"division": "section", "group": "division"}[ind.level]


def test_every_bcd_division_has_groups():
    table = load_industries()
    for div in (i for i in table.values() if i.level == "division" and i.code[0] in "BCD"):
        assert any(g.parent == div.code for g in table.values() if g.level == "group"), div


def test_names_have_no_stray_whitespace_or_ascii_parentheses():
    for ind in load_industries().values():
        assert ind.name == ind.name.strip() and "\u3000" not in ind.name
        assert "(" not in ind.name and ")" not in ind.name


@pytest.mark.parametrize(
    "code,name",
    [
        ("A", "农、林、牧、渔业"),
        ("C", "制造业"),
        ("D", "电力、热力、燃气及水生产和供应业"),
        ("A01", "农业"),
        ("B11", "开采专业及辅助性活动"),
        ("C15", "酒、饮料和精制茶制造业"),
        ("C25", "石油、煤炭及其他燃料加工业"),
        ("C26", "化学原料和化学制品制造业"),
        ("C261", "基础化学原料制造"),
        ("C266", "专用化学产品制造"),
        ("C311", "炼铁"),
        ("C349", "其他通用设备制造业"),
        ("C384", "电池制造"),
        ("D441", "电力生产"),
        ("D462", "污水处理及其再生利用"),
        ("G58", "多式联运和运输代理业"),
        ("N77", "生态保护和环境治理业"),
        ("S96", "基层群众自治组织及其他组织"),
        ("T97", "国际组织"),
    ],
)
def test_known_names(code, name):
    assert load_industries()[code].name == name


def test_loader_is_cached():
    assert load_industries() is load_industries()


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("C26", "C26"),
        ("c26", "C26"),
        ("C 26", "C26"),
        (" 26 ", "C26"),
        ("26", "C26"),
        ("2614", "C2614"),
        ("c2614", "C2614"),
        ("C261", "C261"),
        ("261", "C261"),
        ("06", "B06"),
        ("0610", "B0610"),
        ("44", "D44"),
        ("4411", "D4411"),
        ("77", "N77"),
        ("c", "C"),
        ("T", "T"),
    ],
)
def test_normalise(raw, expected):
    assert industry_normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["Z99", "Z", "C2", "2", "C26145", "26145", "", "   ", "C-26", "CC26", "B26", "C98", "00", "C260"],
)
def test_normalise_rejects(raw):
    with pytest.raises(IndustryCodeError):
        industry_normalise(raw)


def test_error_messages_are_clear():
    with pytest.raises(IndustryCodeError, match="digit"):
        industry_normalise("C2")
    with pytest.raises(IndustryCodeError, match="section C, not B"):
        industry_normalise("B26")
    with pytest.raises(IndustryCodeError, match="division 99"):
        industry_normalise("99")


@pytest.mark.parametrize(
    "req,proj,expected",
    [
        ("C", "C2614", True),
        ("C", "c26", True),
        ("C", "B06", False),
        ("C26", "C2614", True),
        ("C26", "2614", True),
        ("26", "C261", True),
        ("C261", "C2614", True),
        ("C261", "C2621", False),
        ("C26", "C25", False),
        ("C26", "C26", True),
        ("C2614", "C26", False),
        ("D44", "4415", True),
        ("B", "0610", True),
    ],
)
def test_matches(req, proj, expected):
    assert industry_matches(req, proj) is expected


def test_matches_unknown_class_needs_existing_division():
    assert industry_matches("C26", "C2699")  # class not tabulated: fine, division exists
    with pytest.raises(IndustryCodeError):
        industry_matches("C26", "Z9999")
    with pytest.raises(IndustryCodeError):
        industry_matches("C2", "C2614")


def test_search_by_code_prefix():
    codes = [i.code for i in industry_search("C26")]
    assert codes[0] == "C26"
    assert "C261" in codes and "C268" in codes
    assert all(c.startswith("C26") for c in codes)
    assert [i.code for i in industry_search("26")] == codes
    assert [i.code for i in industry_search("c 26")] == codes


def test_search_by_name():
    results = industry_search("化学")
    codes = {i.code for i in results}
    assert {"C26", "C261", "C28"} <= codes
    assert all("化学" in i.name for i in results)
    assert [i.code for i in industry_search("污水")] == ["D462"]


def test_search_empty_and_unknown():
    assert industry_search("") == []
    assert industry_search("Z") == []
    assert industry_search("不存在的行业") == []
