"""Officials' titles from the division type: 区长 for a 区, 县长 for a 县, 市长 for a 县级市 … No ORM."""

from __future__ import annotations

from supervision.zoning.choices import DivisionKind

from .choices import OfficialRole

# kind → (party committee, government head); the deputy is 副 + the head's title.
_POSTS: dict[str, tuple[str, str]] = {
    DivisionKind.PROVINCE: ("省委书记", "省长"),
    DivisionKind.PREFECTURE: ("市委书记", "市长"),
    DivisionKind.DISTRICT: ("区委书记", "区长"),
    DivisionKind.COUNTY: ("县委书记", "县长"),
    DivisionKind.COUNTY_CITY: ("市委书记", "市长"),
    DivisionKind.BANNER: ("旗委书记", "旗长"),
}


def official_title(*, role: str, division_name: str, division_kind: str) -> str:
    """The full title, e.g. 朝阳区区长, 农安县县长, 榆树市副市长（分管生态环境）; generic for an unknown type."""
    secretary, head = _POSTS.get(division_kind, ("党委书记", "政府主要负责人"))
    if role == OfficialRole.PARTY_SECRETARY:
        post = secretary
    elif role == OfficialRole.DEPUTY_PARTY_SECRETARY:
        post = secretary.replace("书记", "副书记")
    elif role == OfficialRole.GOVERNMENT_HEAD:
        post = head
    elif role == OfficialRole.DEPUTY_HEAD_ENVIRONMENT:
        post = ("副" + head if division_kind in _POSTS else "政府分管副职") + "（分管生态环境）"
    elif role == OfficialRole.ENVIRONMENT_BUREAU_HEAD:
        post = "生态环境分局局长"
    else:
        return division_name
    return f"{division_name}{post}"
