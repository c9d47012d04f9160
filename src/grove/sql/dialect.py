"""The SQL dialect grove parses: sqlglot's Druid dialect, adjusted where it reads a statement
differently from Calcite (Druid's SQL parser).

* ``IS [NOT] NULL``/``TRUE``/``FALSE`` binds more loosely than comparisons in Calcite:
  ``clicks > 5 IS NOT TRUE`` means ``(clicks > 5) IS NOT TRUE``. sqlglot's Druid dialect binds ``IS``
  tightly (``clicks > (5 IS NOT TRUE)``), which would silently answer another question.
* ``DIV`` is MySQL's integer-division operator to sqlglot's tokenizer; in Druid it is the function
  ``DIV(x, y)``.
"""

from __future__ import annotations

from sqlglot.dialects.druid import Druid
from sqlglot.parser import IsPredicatePrecedence


class Calcite(Druid):
    """Druid SQL as Calcite reads it (only the differences that change what a statement means)."""

    class Tokenizer(Druid.tokenizer_class):  # type: ignore[valid-type,misc]
        KEYWORDS = {k: v for k, v in Druid.tokenizer_class.KEYWORDS.items() if k != "DIV"}

    class Parser(Druid.Parser):  # type: ignore[valid-type,misc]
        IS_PREDICATE_PRECEDENCE = IsPredicatePrecedence.LOW
