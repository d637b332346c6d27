"""Model fields for personal data: encrypted text and the keyed-hash column that makes it findable."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from ventanilla.core import crypto
from ventanilla.core.text import search_key


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. Only `isnull` can be queried: use a BlindIndexField to find rows."""

    description = "Text encrypted at rest"
    encrypted = True

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        value = self.to_python(value)
        if value == "" and self.blank:
            return ""
        return crypto.encrypt(self.to_text(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None if value is None else self.empty_value()
        return self.from_text(crypto.decrypt(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be filtered with "
                f"'{lookup_name}'; filter on its blind index instead."
            )
        return super().get_lookup(lookup_name)

    # Subclasses convert between Python values and the text that is encrypted.
    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def empty_value(self) -> Any:
        return ""


class EncryptedDateField(EncryptedTextField):
    """A date (for example of birth) encrypted as its ISO text."""

    # What django-stubs reads for the attribute's type: a date, not the text it is stored as.
    _pyi_private_set_type: datetime.date | None  # type: ignore[assignment]
    _pyi_private_get_type: datetime.date | None  # type: ignore[assignment]

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value:
            return datetime.date.fromisoformat(value)
        return value

    def to_text(self, value: Any) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> Any:
        return datetime.date.fromisoformat(text)

    def empty_value(self) -> Any:
        return None


class BlindIndexField(models.CharField):
    """HMAC of another field's normalised value, filled on every save; blank source gives blank."""

    def __init__(self, *args: Any, source: str = "", purpose: str = "", phone: bool = False, **kwargs: Any):
        self.source = source
        self.purpose = purpose
        self.phone = phone
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update({"source": self.source, "purpose": self.purpose})
        if self.phone:
            kwargs["phone"] = True
        # Compare with this field's defaults, not Django's: Django leaves out db_index=False, blank=False
        # and editable=True, which this field would then rebuild as True, True and False.
        for key, default in (("max_length", 64), ("editable", False), ("blank", True), ("db_index", True)):
            value = getattr(self, key)
            if value == default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        return name, path, args, kwargs

    def compute(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        normaliser = crypto.normalise_phone if self.phone else crypto.normalise_text
        return crypto.blind_index(str(value), purpose=self.purpose, normaliser=normaliser)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def lookup_value(self, raw: str) -> str | None:
        """The value to filter with: `Model.objects.filter(phone_index=field.lookup_value("+52..."))`.

        A blank search matches nothing (None filters as IS NULL on a NOT NULL column), not every row
        whose source is blank: "find the person with phone ''" must not return a stranger.
        """
        return self.compute(raw) or None


class BlindIndexedModel(models.Model):
    """Base for models with blind indexes: `save(update_fields=[source])` also refreshes the index.

    Without it the index keeps the old value, so the new value is not found and the old one still is.
    (`QuerySet.update()` on a source field bypasses this: it is a dangerous construct.)
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            names = set(update_fields)
            names |= {
                field.name
                for field in self._meta.concrete_fields
                if isinstance(field, BlindIndexField) and field.source in names
            }
            kwargs["update_fields"] = names
        super().save(*args, **kwargs)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


class SearchTextField(models.TextField):
    """The search key (`core.text.search_key`) of other text fields of the same row, filled on every
    save and by `bulk_create` (both call `pre_save`), so any way a row is written keeps it right.

    Searches compare the typed words, folded the same way, with `contains`: accents, case and Arabic
    vowel marks then never decide whether a service is found. (`QuerySet.update()` of a source field
    bypasses it, as it bypasses every `pre_save`.)"""

    def __init__(self, *args: Any, sources: tuple[str, ...] = (), **kwargs: Any):
        self.sources = tuple(sources)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        for key, default in (("editable", False), ("blank", True), ("default", "")):
            if kwargs.get(key, getattr(self, key)) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def compute(self, model_instance: models.Model) -> str:
        parts = (getattr(model_instance, source) or "" for source in self.sources)
        # A newline between fields: a typed word (never containing whitespace) cannot span two fields.
        return "\n".join(search_key(str(part)) for part in parts)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value
