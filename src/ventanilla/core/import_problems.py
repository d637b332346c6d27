"""One problem found in an imported file, said the same way by every import (directory, social media,
administrative areas).

The row is the spreadsheet's (the header is row 1; 0 means the file as a whole), so a person can find
the cell in the program they used to write it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Problem:
    """One problem (or warning) in the file: the spreadsheet row (header = 1; 0 = the file) and column."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        return _("Row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }
