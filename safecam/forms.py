"""Form helpers shared by every app's pages: Bootstrap classes on widgets, invalid fields marked.

Templates render fields as they are (``{{ field }}``); the classes are decided here once, so a page
never re-implements which widget gets which class.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms


def widget_classes(fields: Mapping[str, forms.Field], *, small: bool = False) -> None:
    """Give each widget its Bootstrap class (a class set by the form itself is kept); radio buttons
    are left to their template."""
    size = " form-select-sm" if small else ""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            css = "form-select" + size
        else:
            css = "form-control" + (" form-control-sm" if small else "")
        widget.attrs.setdefault("class", css)


class InvalidMarked:
    """A form whose invalid fields carry Bootstrap's ``is-invalid``, so templates need not decide."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
