"""Staff forms for uploading XLSForms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation
from ventanilla.questionnaires.models import Purpose
from ventanilla.questionnaires.xlsform import MAX_XLSFORM_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("XLSForm file (.xlsx)"),
        help_text=_("The survey, choices and settings sheets, as ODK and KoboToolbox use them."),
    )
    owner = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    purpose = forms.ChoiceField(label=_("Used for"), choices=Purpose.choices, initial=Purpose.SURVEY)

    def __init__(self, *args: Any, organisations: set[int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = Organisation.objects.filter(pk__in=organisations).order_by("name")
        if len(organisations) == 1:
            owner.initial = next(iter(organisations))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_XLSFORM_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload
