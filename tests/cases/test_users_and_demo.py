import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from supervision.cases import permissions as perms

pytestmark = pytest.mark.django_db


def test_add_user_command_creates_role_and_scope(scene, capsys):
    call_command(
        "add_user", "li_officer", "--role", "enforcement_officer", "--division", "220102", "--password", "pw-1"
    )
    user = get_user_model().objects.get(username="li_officer")
    assert user.check_password("pw-1")
    assert perms.user_roles(user) == {"enforcement_officer"}
    assert perms.user_division_id(user) == scene.nanguan.pk and not perms.is_city_wide(user)
    call_command("add_user", "li_officer", "--role", "assessor")
    user = get_user_model().objects.get(username="li_officer")
    assert set(user.groups.values_list("name", flat=True)) == {"assessor"}
    assert perms.is_city_wide(user)
    assert "created li_officer" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "enforcement_officer"], "give --division"),
        (["x", "--role", "inspector", "--division", "999999"], "Unknown division"),
    ],
)
def test_add_user_refuses_bad_input(scene, args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("add_user", *args)
    assert exc.value.code == 1
    assert message in capsys.readouterr().err


def test_demo_creates_one_user_per_role_idempotently(scene):
    from supervision.cases import demo
    from supervision.zoning.models import AdministrativeDivision

    AdministrativeDivision.objects.get_or_create(adcode="220104", defaults={"name": "朝阳区", "level": "county"})
    first = demo.demo_load()
    second = demo.demo_load()
    assert first[:8] == second[:8]
    users = get_user_model().objects.filter(username__in=[u for u, _, _ in demo.DEMO_USERS])
    assert users.count() == len(demo.DEMO_USERS)
    roles = {r for u in users for r in perms.user_roles(u)}
    assert roles == {"enforcement_officer", "inspector", "assessor", "planner", "bureau_admin"}
    officer = users.get(username="officer_kuancheng")
    assert officer.check_password(demo.DEMO_PASSWORD) and officer.profile.division.adcode == "220103"
