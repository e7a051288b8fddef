import pytest


@pytest.fixture(autouse=True)
def english_messages():
    """Services called directly answer in English (the msgids); requests follow their Accept-Language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="planner1", password="pw-123456")


@pytest.fixture
def auth_client(user):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client
