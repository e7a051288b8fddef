"""The API tests reuse the cases scene: two districts, a plan with units, targets, one user per role."""

from tests.cases.conftest import client_for, make_lead, scene, users  # noqa: F401
