"""One reading of validation errors for the API's `problems`, a page's message and a command's output."""

from django import forms
from rest_framework import serializers

from supervision.errors import error_lines
from supervision.web import form_problems


class _Point(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)


class _Site(serializers.Serializer):
    plan = serializers.CharField()
    location = _Point()

    def validate(self, attrs):
        raise serializers.ValidationError("the site lies outside the plan")


class _Form(forms.Form):
    name = forms.CharField()

    def clean(self):
        raise forms.ValidationError("nothing to save")


def test_nested_fields_are_dotted_and_fieldless_errors_carry_the_enclosing_name():
    site = _Site(data={"location": {"lon": 200}})
    assert not site.is_valid()
    assert error_lines(site.errors) == [
        "plan: This field is required.",
        "location.lon: Ensure this value is less than or equal to 180.",
    ]
    site = _Site(data={"plan": "x", "location": {"lon": 1}})
    assert not site.is_valid()
    assert error_lines(site.errors) == ["the site lies outside the plan"]
    assert error_lines({"location": {"non_field_errors": ["not a point"]}}) == ["location: not a point"]


def test_a_page_says_the_same_as_the_api_on_one_line():
    form = _Form(data={})
    assert not form.is_valid()
    assert form_problems(form.errors) == "name: This field is required.; nothing to save"
    site = _Site(data={"location": {"lon": 200}})
    site.is_valid()
    assert form_problems(site.errors) == "; ".join(error_lines(site.errors))
