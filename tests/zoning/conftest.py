# The case fixtures (two districts, role users, leads) serve the vector-tile scoping tests.
from tests.cases.conftest import client_for, make_lead, scene, users  # noqa: F401
