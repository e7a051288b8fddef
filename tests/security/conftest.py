"""The cases scene (two districts, a target in each, one user per role) for the security tests."""

from tests.cases.conftest import client_for, make_lead, scene, users  # noqa: F401
