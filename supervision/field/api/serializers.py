"""Input of the field sync endpoints: every field checked, named in the error."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from supervision.cases.api.serializers import PlaceInput
from supervision.cases.choices import ChecklistResult

RESULTS = [ChecklistResult.PASS, ChecklistResult.FAIL, ChecklistResult.NOTE]


class PlaceSerializer(PlaceInput):
    """Where and when the device made the record (WGS84, from navigator.geolocation): the cases API's rule."""


class AnswerSerializer(PlaceSerializer):
    inspection = serializers.IntegerField(min_value=1)
    item = serializers.IntegerField(min_value=1)
    result = serializers.ChoiceField(choices=RESULTS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class FindingSerializer(PlaceSerializer):
    lead = serializers.IntegerField(min_value=1)
    finding = serializers.CharField(max_length=4000)


class PhotoSerializer(PlaceSerializer):
    file = serializers.FileField()
    inspection = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    item = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    lead = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    caption = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    accuracy_m = serializers.FloatField(required=False, allow_null=True, min_value=0)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if (attrs.get("item") is None) == (attrs.get("lead") is None):
            raise serializers.ValidationError({"item": _("Give either item (with inspection) or lead.")})
        if attrs.get("item") is not None and attrs.get("inspection") is None:
            raise serializers.ValidationError({"inspection": _("Name the inspection of the item.")})
        return attrs


class BatchRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["answer", "finding"])
    client_id = serializers.UUIDField()


class BatchSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), max_length=500, allow_empty=False)


class ChecklistPhotoInput(PhotoSerializer):
    """The online checklist's photo form: the field photo (same rules) plus the id the page made for it,
    so a second tap or a resent form stores the photo once."""

    client_id = serializers.UUIDField()
