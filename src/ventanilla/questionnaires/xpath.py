"""XForm (ODK/JavaRosa) expressions evaluated on the server against an ElementTree instance.

The questionnaire engine runs the same rules when it renders a form (skip logic, cascades,
calculations) and when it validates a submission, so these expressions must behave as they do in ODK
Collect. They are exactly what pyxform writes into binds (``relevant``, ``constraint``, ``calculate``,
``required``, ``readonly``) and itemset nodesets (``choice_filter``): XPath 1.0 plus the ODK
function library, with ``${name}`` already turned into ``/data/group/q`` or ``current()/../q``.

Why our own evaluator and not elementpath: elementpath 5.1's ``XPath1Parser`` was measured first. It
compares an untyped node with a number as strings (``/data/a = 5`` is false when ``a`` holds ``5``),
raises on ``'' > 5`` instead of answering false, and spends about 45 µs per evaluation building its
own node tree before any work. Wrapping every operator and still paying that cost gave less than a
small evaluator gives: XPath 1.0 is a small grammar, and owning it means the empty-answer, node-set
and date rules are written down here once, in plain Python.

How it works: a tokenizer and a recursive-descent parser (the XPath 1.0 grammar) build a tiny AST;
the AST compiles into nested closures, so an evaluation is a few Python calls: 3-8 µs for a typical
relevant/constraint/calculate and about 20 µs for a cascading itemset over a short list, measured on
the development machine (building a tree's parent index adds about 40 µs per 100 nodes, once).
Values are XPath 1.0 values: ``list`` (node-set, document order), ``str``, ``float``,
``bool``, plus ``datetime.date``/``datetime.datetime`` for ``today()``/``now()``/``date()``.

ElementTree has no parent pointers: the parent/document-order index of a tree is built once and
cached (keyed on the tree's top element). It heals itself: a parent lookup checks ``parent[i] is
node`` and rebuilds when a node is missing or moved, so adding or removing repeat instances needs no
call; after reordering siblings call :func:`invalidate`.

Semantics decisions (JavaRosa where it is specified, XPath 1.0 otherwise):

* Names match on the local name, so an instance parsed straight from an XForm (tags in the XForms
  namespace, ``{http://www.w3.org/2002/xforms}age``) and a namespace-free tree both work.
* A string becomes a number as in XPath 1.0 (``''`` → NaN, so ``'' > 5`` and ``'' = 5`` are false and
  ``'' != 5`` is true); in addition, a string that looks like a date, dateTime or time becomes a
  number of days since 1970-01-01 (fractional for dateTime and time), as JavaRosa does for typed date
  nodes. That makes ``. <= today()``, ``today() - ${dob}`` and ``${a} < '2020-01-01'`` work.
* ``=``/``!=`` with a date value on one side compare as day numbers; otherwise the XPath 1.0 rules
  (boolean, then number, then string). Node-sets compare existentially; boolean of a node-set is
  "non-empty".
* ``concat`` with one node-set argument joins all its nodes (JavaRosa); with several arguments each
  node-set contributes its first node (XPath 1.0).
* ``round(x)`` rounds half up (XPath 1.0); ``round(x, n)`` rounds half away from zero (JavaRosa).
* ``date(n)`` takes whole days; ``format-date`` uses English month/day abbreviations for ``%b``/``%a``.
* Not supported (an ExpressionError at compile time): ``pulldata``, ``jr:itext``, ``distance``,
  ``area``, variables (``$x``), the ``following``/``preceding``/``namespace`` axes, ``id()``, ``lang()``.
  ``randomize`` shuffles with Python's generator, so a seeded order differs from Collect's.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import math
import random
import re
import secrets
import string as string_module
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeAlias
from xml.etree.ElementTree import Element

__all__ = [
    "EvalContext",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "invalidate",
    "references",
]

NAMESPACES = {
    "jr": "http://openrosa.org/javarosa",
    "odk": "http://www.opendatakit.org/xforms",
    "orx": "http://openrosa.org/xforms",
    "xf": "http://www.w3.org/2002/xforms",
    "h": "http://www.w3.org/1999/xhtml",
    "ev": "http://www.w3.org/2001/xml-events",
    "xsd": "http://www.w3.org/2001/XMLSchema",
}
# Function prefixes that ODK accepts in front of its own functions (jr:choice-name, odk:...).
_FUNCTION_PREFIXES = frozenset({"jr", "odk", "orx"})

NAN = float("nan")
_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ExpressionError(ValueError):
    """Bad syntax, an unknown function or a type error; ``str()`` names the expression.

    The XLSForm importer catches it and adds sheet, row and column, so the message says what is
    wrong and where in the expression, not where in the spreadsheet.
    """

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"{reason} in expression {expression!r}")


class _EvalError(Exception):
    """Raised inside compiled closures; Expression re-raises it as ExpressionError with the source."""


# --------------------------------------------------------------------------------------------------
# Nodes that ElementTree does not have: attributes and text. Small stand-ins with the same surface.


class _Pseudo:
    __slots__ = ("name", "owner", "value")
    tag = ""

    def __init__(self, owner: Element, name: str, value: str) -> None:
        self.owner = owner
        self.name = name
        self.value = value

    def __iter__(self) -> Iterator[Element]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Pseudo)
            and other.owner is self.owner
            and other.name == self.name
            and type(other) is type(self)
        )

    def __hash__(self) -> int:
        return hash((id(self.owner), self.name))


class _Attr(_Pseudo):
    __slots__ = ()


class _Text(_Pseudo):
    __slots__ = ()


Node: TypeAlias = Element | _Pseudo
Value: TypeAlias = Any  # list[Node] | str | float | bool | dt.date | dt.datetime


# --------------------------------------------------------------------------------------------------
# Tree index: parent and document order for ElementTree, cached per tree.

_INDEX_CACHE_SIZE = 256
_index_cache: dict[int, _Index] = {}


class _Index:
    """Parent, position among siblings and document order of every element under ``top``."""

    __slots__ = ("entries", "top")

    def __init__(self, top: Element) -> None:
        self.top = top
        entries: dict[int, tuple[Element, Element | None, int, int]] = {id(top): (top, None, 0, 0)}
        for order, parent in enumerate(top.iter(), 1):
            if parent is not top:
                entry = entries[id(parent)]
                entries[id(parent)] = (entry[0], entry[1], entry[2], order)
            for i, child in enumerate(parent):
                entries[id(child)] = (child, parent, i, 0)
        self.entries = entries


def _index_for(top: Element, rebuild: bool = False) -> _Index:
    # A plain dict (atomic get/set under the GIL, so safe across threads); when it is full it is
    # emptied rather than kept in LRU order: rebuilding an index costs tens of microseconds.
    key = id(top)
    index = _index_cache.get(key)
    if index is None or rebuild or index.top is not top:
        index = _Index(top)
        if len(_index_cache) >= _INDEX_CACHE_SIZE:
            _index_cache.clear()
        _index_cache[key] = index
    return index


def invalidate(root: Element) -> None:
    """Forget the cached parent/order index of ``root`` (call after reordering siblings)."""
    _index_cache.pop(id(root), None)


# --------------------------------------------------------------------------------------------------
# Public context and per-evaluation environment.


@dataclass(frozen=True)
class EvalContext:
    """Everything an expression may read.

    ``node`` is what ``.`` means (the bound node, or each item while filtering an itemset);
    ``current`` is what ``current()`` returns (the question node; defaults to ``node``).
    ``instances`` holds secondary instances by id: either the XForm's ``<instance id=...>`` element
    or its ``<root>`` child, both work with ``instance('id')/root/item``.
    """

    root: Element
    node: Element
    current: Element | None = None
    instances: Mapping[str, Element] = field(default_factory=dict)
    today: dt.date | None = None
    now: dt.datetime | None = None
    choice_label: Callable[[str, str], str] | None = None


class _Env:
    """State shared by one evaluation: trees, documents, the clock."""

    __slots__ = ("_docs", "_rebuilt", "_tops", "ctx", "current", "main_doc", "memo", "root")

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.root = ctx.root
        self.current: Node = ctx.current if ctx.current is not None else ctx.node
        # The document node of the main instance: a throwaway element whose only child is the root
        # (ElementTree has no parent pointers, so wrapping does not change the root).
        doc = Element("#document")
        doc.append(ctx.root)
        self.main_doc = doc
        self._docs: dict[int, Element] = {id(ctx.root): doc}
        self._tops: list[Element] | None = None
        self._rebuilt: set[int] = set()
        # Paths that do not depend on the context node (absolute, current()/..., instance('x')/...)
        # are computed once per evaluation: an itemset predicate reads /data/country once, not per item.
        self.memo: dict[object, list[Node]] = {}

    # Documents ----------------------------------------------------------------------------------
    def instance_doc(self, instance_id: str) -> Element | None:
        top = self.ctx.instances.get(instance_id)
        if top is None:
            return None
        if _local(top.tag) == "instance":
            return top  # the XForm's <instance> element already plays the document node
        doc = self._docs.get(id(top))
        if doc is None:
            doc = Element("#document")
            doc.append(top)
            self._docs[id(top)] = doc
        return doc

    def tops(self) -> list[Element]:
        if self._tops is None:
            tops = [self.root]
            for top in self.ctx.instances.values():
                tops.append(top)
            self._tops = tops
        return self._tops

    # Navigation ---------------------------------------------------------------------------------
    def _entry(self, node: Element) -> tuple[int, tuple[Element, Element | None, int, int]] | None:
        key = id(node)
        for rank, top in enumerate(self.tops()):
            entry = _index_for(top).entries.get(key)
            if entry is not None and entry[0] is node:
                parent = entry[1]
                if parent is None or (entry[2] < len(parent) and parent[entry[2]] is node):
                    return rank, entry
        # Unknown or moved: the tree changed since its index was built. Rebuild each tree once.
        for rank, top in enumerate(self.tops()):
            if id(top) in self._rebuilt:
                continue
            self._rebuilt.add(id(top))
            entry = _index_for(top, rebuild=True).entries.get(key)
            if entry is not None and entry[0] is node:
                return rank, entry
        return None

    def parent(self, node: Node) -> Node | None:
        if isinstance(node, _Pseudo):
            return node.owner
        found = self._entry(node)
        if found is None:
            return None
        _rank, entry = found
        if entry[1] is not None:
            return entry[1]
        # A top element: its parent is its document node (if we made one).
        return self._docs.get(id(node))

    def order_key(self, node: Node) -> tuple[int, int, int]:
        if isinstance(node, _Pseudo):
            owner = self.order_key(node.owner)
            return owner[0], owner[1], 1 if isinstance(node, _Attr) else 2
        if node.tag == "#document":
            for rank, top in enumerate(self.tops()):
                if len(node) and node[0] is top:
                    return rank, -1, 0
            return len(self.tops()), -1, 0
        found = self._entry(node)
        if found is None:
            return len(self.tops()), 0, 0
        rank, entry = found
        return rank, entry[3], 0

    def today(self) -> dt.date:
        if self.ctx.today is not None:
            return self.ctx.today
        if self.ctx.now is not None:
            return self.ctx.now.date()
        return dt.date.today()

    def now(self) -> dt.datetime:
        if self.ctx.now is not None:
            return self.ctx.now
        return dt.datetime.now().astimezone()


class _Dyn:
    """The dynamic context of one step: context node, position, size."""

    __slots__ = ("env", "node", "pos", "size")

    def __init__(self, env: _Env, node: Node, pos: int, size: int) -> None:
        self.env = env
        self.node = node
        self.pos = pos
        self.size = size


Fn: TypeAlias = Callable[[_Dyn], Value]


# --------------------------------------------------------------------------------------------------
# Conversions (XPath 1.0 + dates).

_NUMBER_RE = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
_DATE_RE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})\s*")
_DATETIME_RE = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*"
)
_TIME_RE = re.compile(r"\s*(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*")


def _local(tag: object) -> str:
    if isinstance(tag, str):
        return tag.rpartition("}")[2]
    return ""


def _node_string(node: Node) -> str:
    if isinstance(node, _Pseudo):
        return node.value
    if len(node) == 0:
        return node.text or ""
    return "".join(node.itertext())


def _tz(text: str | None) -> dt.tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


@functools.lru_cache(maxsize=4096)
def _parse_temporal(text: str) -> dt.date | dt.datetime | None:
    """'2020-01-31' → date; '2020-01-31T10:00:00.000+02:00' → datetime; anything else → None."""
    try:
        m = _DATE_RE.fullmatch(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _DATETIME_RE.fullmatch(text)
        if m:
            micro = int((m[7] or "0")[:6].ljust(6, "0"))
            return dt.datetime(
                int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0), micro, _tz(m[8])
            )
    except ValueError:
        return None  # 2020-02-30 and friends
    return None


@functools.lru_cache(maxsize=1024)
def _parse_time_fraction(text: str) -> float | None:
    """'10:30:00.000+02:00' → fraction of a day on the clock as written (offset ignored)."""
    m = _TIME_RE.fullmatch(text)
    if not m:
        return None
    hours, minutes, seconds = int(m[1]), int(m[2]), int(m[3] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    millis = float("0." + m[4]) if m[4] else 0.0
    return (hours * 3600 + minutes * 60 + seconds + millis) / 86400


def _temporal_days(value: dt.date) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (value - _EPOCH_UTC).total_seconds() / 86400
    return float((value - _EPOCH_DATE).days)


@functools.lru_cache(maxsize=4096)
def _string_number(text: str) -> float:
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    temporal = _parse_temporal(text)
    if temporal is not None:
        return _temporal_days(temporal)
    fraction = _parse_time_fraction(text)
    if fraction is not None:
        return fraction
    return NAN


def _number(value: Value) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is str:
        return _string_number(value)
    if kind is bool:
        return 1.0 if value else 0.0
    if kind is list:
        return _string_number(_node_string(value[0])) if value else NAN
    if isinstance(value, dt.date):
        return _temporal_days(value)
    if isinstance(value, int):
        return float(value)
    raise _EvalError(f"cannot convert {kind.__name__} to a number")


def _format_number(value: float) -> str:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text


def _format_datetime(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}"
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        minutes = abs(minutes)
        text += f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text


def _string(value: Value) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is list:
        return _node_string(value[0]) if value else ""
    if kind is float:
        return _format_number(value)
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return _format_number(float(value))
    raise _EvalError(f"cannot convert {kind.__name__} to a string")


def _boolean(value: Value) -> bool:
    kind = type(value)
    if kind is bool:
        return value
    if kind is list or kind is str:
        return len(value) > 0
    if kind is float:
        return not (value == 0 or value != value)
    return True  # dates


def _temporal(value: Value) -> dt.date | None:
    """A date/datetime from a value: date values, date strings, day numbers."""
    if isinstance(value, dt.date):
        return value
    if type(value) is float or type(value) is int:
        return _from_days(float(value))
    text = _string(value)
    return _parse_temporal(text)


def _from_days(days: float, whole: bool = False) -> dt.date | None:
    """Days since 1970-01-01 → date (whole days, or ``whole``) or UTC datetime; None if out of range."""
    if days != days or math.isinf(days):
        return None
    try:
        if whole or days == int(days):
            return _EPOCH_DATE + dt.timedelta(days=math.floor(days))
        return _EPOCH_UTC + dt.timedelta(days=days)
    except OverflowError:
        return None


# --------------------------------------------------------------------------------------------------
# Comparisons.

_EQ_OPS = frozenset({"=", "!="})


def _is_temporal(value: Value) -> bool:
    return isinstance(value, dt.date)


def _compare_atomic(op: str, left: Value, right: Value) -> bool:
    if op in _EQ_OPS:
        lt, rt = type(left), type(right)
        if lt is bool or rt is bool:
            equal = _boolean(left) == _boolean(right)
        elif lt is float or rt is float or _is_temporal(left) or _is_temporal(right):
            a, b = _number(left), _number(right)
            equal = a == b
            if op == "!=":
                return a != b  # NaN != anything is true
        else:
            equal = _string(left) == _string(right)
        return equal if op == "=" else not equal
    a, b = _number(left), _number(right)
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _compare(op: str, left: Value, right: Value) -> bool:
    left_set = type(left) is list
    right_set = type(right) is list
    if left_set and right_set:
        if op in _EQ_OPS:
            right_strings = [_node_string(n) for n in right]
            for node in left:
                text = _node_string(node)
                for other in right_strings:
                    if (text == other) == (op == "="):
                        return True
            return False
        right_numbers = [_string_number(_node_string(n)) for n in right]
        return any(
            _compare_atomic(op, _string_number(_node_string(n)), other)
            for n in left
            for other in right_numbers
        )
    if left_set:
        if type(right) is bool:
            return _compare_atomic(op, bool(left), right)
        return any(_compare_atomic(op, _node_string(n), right) for n in left)
    if right_set:
        if type(left) is bool:
            return _compare_atomic(op, left, bool(right))
        return any(_compare_atomic(op, left, _node_string(n)) for n in right)
    return _compare_atomic(op, left, right)


def _divide(a: float, b: float) -> float:
    if b == 0:
        if a != a or a == 0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or math.isinf(a):
        return NAN
    return math.fmod(a, b)


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "div": _divide,
    "mod": _modulo,
}


# --------------------------------------------------------------------------------------------------
# Tokenizer and parser.

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d*)?|\.\d+)
    | (?P<str>"[^"]*"|'[^']*')
    | (?P<op>//|::|\.\.|!=|<=|>=|[/()\[\].@,|+\-=<>*$])
    | (?P<name>(?:[^\W\d][\w.\-]*:)?(?:[^\W\d][\w.\-]*|\*))
    )""",
    re.VERBOSE | re.UNICODE,
)
_NODE_TYPES = frozenset({"node", "text", "comment", "processing-instruction"})
_AXES = frozenset(
    {
        "child",
        "descendant",
        "descendant-or-self",
        "self",
        "parent",
        "ancestor",
        "ancestor-or-self",
        "attribute",
        "following-sibling",
        "preceding-sibling",
    }
)
_REVERSE_AXES = frozenset({"parent", "ancestor", "ancestor-or-self", "preceding-sibling"})


@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, op, name, end
    text: str
    pos: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    length = len(source)
    while True:
        while pos < length and source[pos].isspace():
            pos += 1
        if pos >= length:
            break
        m = _TOKEN_RE.match(source, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(source, f"unexpected character {source[pos]!r} at position {pos + 1}")
        kind = m.lastgroup or "op"
        tokens.append(_Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    tokens.append(_Token("end", "", length))
    return tokens


# AST ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: str


@dataclass(frozen=True)
class _Num:
    value: float


@dataclass(frozen=True)
class _Call:
    name: str  # local name, prefix removed
    args: tuple[Any, ...]


@dataclass(frozen=True)
class _Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class _Negate:
    operand: Any


@dataclass(frozen=True)
class _Step:
    axis: str
    test: str  # "name", "prefix:name", "*", "prefix:*", "node()", "text()"
    predicates: tuple[Any, ...]


@dataclass(frozen=True)
class _Path:
    start: Any  # "root", "context", or an AST node (filter expression)
    steps: tuple[_Step, ...]


@dataclass(frozen=True)
class _Filter:
    primary: Any
    predicates: tuple[Any, ...]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0

    # helpers
    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def at_name(self, *names: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text in names

    def expect_op(self, op: str) -> None:
        token = self.next()
        if token.kind != "op" or token.text != op:
            self.fail(token, f"expected {op!r}")

    def fail(self, token: _Token, message: str) -> None:
        found = "the end" if token.kind == "end" else repr(token.text)
        raise ExpressionError(self.source, f"{message}, found {found} at position {token.pos + 1}")

    # grammar
    def parse(self) -> Any:
        if self.peek().kind == "end":
            raise ExpressionError(self.source, "empty expression")
        tree = self.or_expr()
        if self.peek().kind != "end":
            self.fail(self.peek(), "unexpected token")
        return tree

    def or_expr(self) -> Any:
        left = self.and_expr()
        while self.at_name("or"):
            self.next()
            left = _Binary("or", left, self.and_expr())
        return left

    def and_expr(self) -> Any:
        left = self.equality()
        while self.at_name("and"):
            self.next()
            left = _Binary("and", left, self.equality())
        return left

    def equality(self) -> Any:
        left = self.relational()
        while self.at_op("=", "!="):
            op = self.next().text
            left = _Binary(op, left, self.relational())
        return left

    def relational(self) -> Any:
        left = self.additive()
        while self.at_op("<", ">", "<=", ">="):
            op = self.next().text
            left = _Binary(op, left, self.additive())
        return left

    def additive(self) -> Any:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.next().text
            left = _Binary(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Any:
        left = self.unary()
        while self.at_op("*") or self.at_name("div", "mod"):
            op = self.next().text
            left = _Binary(op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.at_op("-"):
            self.next()
            return _Negate(self.unary())
        return self.union()

    def union(self) -> Any:
        left = self.path_expr()
        while self.at_op("|"):
            self.next()
            left = _Binary("|", left, self.path_expr())
        return left

    def path_expr(self) -> Any:
        token = self.peek()
        if token.kind == "op" and token.text in ("/", "//"):
            self.next()
            steps: list[_Step] = []
            if token.text == "//":
                steps.append(_Step("descendant-or-self", "node()", ()))
                steps.extend(self.relative_path())
            elif self.starts_step():
                steps.extend(self.relative_path())
            return _Path("root", tuple(steps))
        if self.starts_primary():
            primary = self.primary()
            predicates = self.predicates()
            expr: Any = _Filter(primary, predicates) if predicates else primary
            if self.at_op("/", "//"):
                return _Path(expr, tuple(self.continuation()))
            return expr
        if self.starts_step():
            return _Path("context", tuple(self.relative_path()))
        self.fail(token, "expected an expression")
        raise AssertionError  # unreachable

    def continuation(self) -> list[_Step]:
        steps: list[_Step] = []
        while self.at_op("/", "//"):
            if self.next().text == "//":
                steps.append(_Step("descendant-or-self", "node()", ()))
            steps.append(self.step())
        return steps

    def relative_path(self) -> list[_Step]:
        steps = [self.step()]
        steps.extend(self.continuation())
        return steps

    def starts_step(self) -> bool:
        token = self.peek()
        if token.kind == "op":
            return token.text in (".", "..", "@", "*")
        return token.kind == "name"

    def starts_primary(self) -> bool:
        token = self.peek()
        if token.kind in ("num", "str"):
            return True
        if token.kind == "op":
            return token.text in ("(", "$")
        if token.kind == "name":
            after = self.peek(1)
            return after.kind == "op" and after.text == "(" and token.text not in _NODE_TYPES
        return False

    def step(self) -> _Step:
        token = self.peek()
        if token.kind == "op" and token.text == ".":
            self.next()
            return _Step("self", "node()", ())
        if token.kind == "op" and token.text == "..":
            self.next()
            return _Step("parent", "node()", ())
        axis = "child"
        if token.kind == "op" and token.text == "@":
            self.next()
            axis = "attribute"
        elif token.kind == "name" and self.peek(1).kind == "op" and self.peek(1).text == "::":
            if token.text not in _AXES:
                raise ExpressionError(self.source, f"unsupported axis {token.text!r}")
            axis = token.text
            self.next()
            self.next()
        test = self.node_test()
        if test == "text()" and axis != "child":
            raise ExpressionError(self.source, "text() is supported on the child axis only")
        return _Step(axis, test, self.predicates())

    def node_test(self) -> str:
        token = self.next()
        if token.kind == "op" and token.text == "*":
            return "*"
        if token.kind != "name":
            self.fail(token, "expected a name")
        if token.text in _NODE_TYPES and self.at_op("("):
            self.next()
            self.expect_op(")")
            if token.text not in ("node", "text"):
                raise ExpressionError(self.source, f"unsupported node test {token.text}()")
            return token.text + "()"
        if ":" in token.text:
            prefix = token.text.split(":", 1)[0]
            if prefix not in NAMESPACES:
                raise ExpressionError(self.source, f"unknown namespace prefix {prefix!r}")
        return token.text

    def predicates(self) -> tuple[Any, ...]:
        found = []
        while self.at_op("["):
            self.next()
            found.append(self.or_expr())
            self.expect_op("]")
        return tuple(found)

    def primary(self) -> Any:
        token = self.next()
        if token.kind == "num":
            return _Num(float(token.text))
        if token.kind == "str":
            return _Literal(token.text[1:-1])
        if token.kind == "op" and token.text == "(":
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        if token.kind == "op" and token.text == "$":
            raise ExpressionError(self.source, "variables ($name) are not supported in XForms")
        # function call
        name = token.text
        if ":" in name:
            prefix, local = name.split(":", 1)
            if prefix not in _FUNCTION_PREFIXES:
                raise ExpressionError(self.source, f"unknown function {name}()")
            name = local
        self.expect_op("(")
        args: list[Any] = []
        if not self.at_op(")"):
            args.append(self.or_expr())
            while self.at_op(","):
                self.next()
                args.append(self.or_expr())
        self.expect_op(")")
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise ExpressionError(self.source, f"unknown function {token.text}()")
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            expected = (
                f"{spec.min_args}"
                if spec.min_args == spec.max_args
                else f"{spec.min_args} or more"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            raise ExpressionError(
                self.source, f"{token.text}() takes {expected} arguments, {len(args)} given"
            )
        return _Call(name, tuple(args))


# --------------------------------------------------------------------------------------------------
# Compiler: AST → closures.


def _doc_sort(env: _Env, nodes: list[Node]) -> list[Node]:
    unique: dict[int, Node] = {}
    for node in nodes:
        key = hash(node) if isinstance(node, _Pseudo) else id(node)
        unique.setdefault(key, node)
    return sorted(unique.values(), key=env.order_key)


def _name_matcher(test: str) -> Callable[[Node], bool]:
    if test == "node()":
        return lambda node: True
    if test == "*":
        return lambda node: type(node.tag) is str and node.tag != "#document"
    if ":" in test:
        prefix, local = test.split(":", 1)
        uri = "{" + NAMESPACES[prefix] + "}"
        if local == "*":
            return lambda node: type(node.tag) is str and node.tag.startswith(uri)
        qualified = uri + local
        return lambda node: node.tag == qualified
    suffix = "}" + test

    def match(node: Node) -> bool:
        tag = node.tag
        return tag == test or (type(tag) is str and tag.endswith(suffix))

    return match


def _attribute_matcher(test: str) -> Callable[[str], bool]:
    if test in ("*", "node()"):
        return lambda key: True
    if ":" in test:
        prefix, local = test.split(":", 1)
        qualified = "{" + NAMESPACES[prefix] + "}" + local
        return lambda key: key == qualified
    return lambda key: key == test


def _axis_nodes(env: _Env, axis: str, node: Node) -> list[Node]:
    """Nodes of an axis, in axis order (reverse axes nearest first)."""
    if axis == "child":
        return list(node)
    if axis == "self":
        return [node]
    if axis == "parent":
        parent = env.parent(node)
        return [parent] if parent is not None else []
    if axis in ("ancestor", "ancestor-or-self"):
        found: list[Node] = [node] if axis == "ancestor-or-self" else []
        current = env.parent(node)
        while current is not None:
            found.append(current)
            current = env.parent(current)
        return found
    if axis in ("descendant", "descendant-or-self"):
        if isinstance(node, _Pseudo):
            return [node] if axis == "descendant-or-self" else []
        descendants: list[Node] = list(node.iter())
        return descendants if axis == "descendant-or-self" else descendants[1:]
    if axis in ("following-sibling", "preceding-sibling"):
        parent = env.parent(node)
        if parent is None or isinstance(node, _Pseudo):
            return []
        siblings = list(parent)
        index = next(i for i, s in enumerate(siblings) if s is node)
        if axis == "following-sibling":
            return list(siblings[index + 1 :])
        return list(reversed(siblings[:index]))
    raise _EvalError(f"unsupported axis {axis}")


def _apply_predicates(
    env: _Env, nodes: list[Node], predicates: Sequence[tuple[float | None, Fn]]
) -> list[Node]:
    for constant, predicate in predicates:
        if constant is not None:
            k = int(constant)
            nodes = [nodes[k - 1]] if constant == k and 1 <= k <= len(nodes) else []
            continue
        size = len(nodes)
        kept: list[Node] = []
        for position, node in enumerate(nodes, 1):
            result = predicate(_Dyn(env, node, position, size))
            if type(result) is float:
                if result == position:
                    kept.append(node)
            elif _boolean(result):
                kept.append(node)
        nodes = kept
    return nodes


def _compile_step(step: _Step) -> Callable[[_Env, list[Node]], list[Node]]:
    predicates = tuple((p.value if isinstance(p, _Num) else None, _compile(p)) for p in step.predicates)
    axis = step.axis

    if axis == "attribute":
        key_matches = _attribute_matcher(step.test)

        def attributes(env: _Env, nodes: list[Node]) -> list[Node]:
            out: list[Node] = []
            for node in nodes:
                if isinstance(node, _Pseudo):
                    continue
                found: list[Node] = [_Attr(node, k, v) for k, v in node.attrib.items() if key_matches(k)]
                out.extend(_apply_predicates(env, found, predicates) if predicates else found)
            return out

        return attributes

    if step.test == "text()":

        def texts(env: _Env, nodes: list[Node]) -> list[Node]:
            # ElementTree keeps a leaf's text on the element itself.
            out: list[Node] = [
                _Text(n, "#text", n.text) for n in nodes if not isinstance(n, _Pseudo) and n.text
            ]
            return _apply_predicates(env, out, predicates) if predicates else out

        return texts

    matches = _name_matcher(step.test)

    if axis == "child" and not predicates:
        if step.test in ("node()", "*"):

            def children_all(env: _Env, nodes: list[Node]) -> list[Node]:
                return [child for node in nodes for child in node if matches(child)]

            return children_all
        name = step.test
        if ":" not in name:
            suffix = "}" + name

            seen: dict[object, bool] = {}  # tag → matches; namespaced tags would otherwise hit endswith

            def children_named(env: _Env, nodes: list[Node]) -> list[Node]:
                out: list[Node] = []
                for node in nodes:
                    for child in node:
                        tag = child.tag
                        hit = seen.get(tag)
                        if hit is None:
                            hit = tag == name or (type(tag) is str and tag.endswith(suffix))
                            if len(seen) < 256:
                                seen[tag] = hit
                        if hit:
                            out.append(child)
                return out

            return children_named

    if axis == "self" and step.test == "node()" and not predicates:
        return lambda env, nodes: nodes

    if axis == "parent" and not predicates:

        def parents(env: _Env, nodes: list[Node]) -> list[Node]:
            out: list[Node] = []
            for node in nodes:
                parent = env.parent(node)
                if parent is not None:
                    out.append(parent)
            return _doc_sort(env, out) if len(out) > 1 else out

        return parents

    reverse = axis in _REVERSE_AXES

    def general(env: _Env, nodes: list[Node]) -> list[Node]:
        out: list[Node] = []
        for node in nodes:
            candidates = [n for n in _axis_nodes(env, axis, node) if matches(n)]
            if predicates:
                candidates = _apply_predicates(env, candidates, predicates)
            if reverse:
                candidates.reverse()
            out.extend(candidates)
        if len(nodes) > 1 or reverse or axis.startswith("descendant"):
            return _doc_sort(env, out) if len(out) > 1 else out
        return out

    return general


def _compile(tree: Any) -> Fn:
    if isinstance(tree, _Literal):
        text = tree.value
        return lambda c: text
    if isinstance(tree, _Num):
        number = tree.value
        return lambda c: number
    if isinstance(tree, _Negate):
        operand = _compile(tree.operand)
        return lambda c: -_number(operand(c))
    if isinstance(tree, _Binary):
        return _compile_binary(tree)
    if isinstance(tree, _Call):
        spec = _FUNCTIONS[tree.name]
        args = tuple(_compile(a) for a in tree.args)
        return spec.compile(args)
    if isinstance(tree, _Filter):
        return _compile_filter(tree)
    if isinstance(tree, _Path):
        return _compile_path(tree)
    raise TypeError(f"unknown node {tree!r}")


def _compile_binary(tree: _Binary) -> Fn:
    left, right = _compile(tree.left), _compile(tree.right)
    op = tree.op
    if op == "or":
        return lambda c: _boolean(left(c)) or _boolean(right(c))
    if op == "and":
        return lambda c: _boolean(left(c)) and _boolean(right(c))
    if op in ("=", "!=", "<", ">", "<=", ">="):
        return lambda c: _compare(op, left(c), right(c))
    if op == "|":

        def union(c: _Dyn) -> Value:
            a, b = left(c), right(c)
            if type(a) is not list or type(b) is not list:
                raise _EvalError("'|' needs node-sets on both sides")
            return _doc_sort(c.env, a + b)

        return union
    arith = _ARITH[op]
    return lambda c: arith(_number(left(c)), _number(right(c)))


def _compile_filter(tree: _Filter) -> Fn:
    primary = _compile(tree.primary)
    predicates = tuple((p.value if isinstance(p, _Num) else None, _compile(p)) for p in tree.predicates)

    def run(c: _Dyn) -> Value:
        value = primary(c)
        if type(value) is not list:
            raise _EvalError("a predicate needs a node-set")
        return _apply_predicates(c.env, value, predicates)

    return run


def _context_free(start: Any) -> bool:
    """True when a path's value does not depend on the context node (so it can be memoised)."""
    if start == "root":
        return True
    if isinstance(start, _Call):
        if start.name == "current":
            return True
        return start.name == "instance" and all(isinstance(a, _Literal) for a in start.args)
    return False


def _compile_path(tree: _Path) -> Fn:
    steps = tuple(_compile_step(s) for s in tree.steps)
    start = tree.start
    if start == "context":
        if len(steps) == 1:
            only = steps[0]
            return lambda c: only(c.env, [c.node])

        def from_context(c: _Dyn) -> Value:
            env = c.env
            nodes: list[Node] = [c.node]
            for step in steps:
                if not nodes:
                    return nodes
                nodes = step(env, nodes)
            return nodes

        return from_context

    head: Fn = (lambda c: [c.env.main_doc]) if start == "root" else _compile(start)

    def from_head(c: _Dyn) -> Value:
        env = c.env
        nodes = head(c)
        if type(nodes) is not list:
            raise _EvalError("a path must start from a node-set")
        for step in steps:
            if not nodes:
                return nodes
            nodes = step(env, nodes)
        return nodes

    if not _context_free(start):
        return from_head
    key = object()

    def memoised(c: _Dyn) -> Value:
        memo = c.env.memo
        found = memo.get(key)
        if found is None:
            found = memo[key] = from_head(c)
        return found

    return memoised


# --------------------------------------------------------------------------------------------------
# Function library.


@dataclass(frozen=True)
class _Spec:
    min_args: int
    max_args: int | None
    compile: Callable[[tuple[Fn, ...]], Fn]


_FUNCTIONS: dict[str, _Spec] = {}


def _eager(name: str, min_args: int, max_args: int | None = -1) -> Callable[[Callable[..., Value]], Any]:
    """Register ``impl(c, *values)``: all arguments evaluated first."""

    def register(impl: Callable[..., Value]) -> Callable[..., Value]:
        def compile_call(args: tuple[Fn, ...]) -> Fn:
            if not args:
                return lambda c: impl(c)
            if len(args) == 1:
                (only,) = args
                return lambda c: impl(c, only(c))
            if len(args) == 2:
                first, second = args
                return lambda c: impl(c, first(c), second(c))
            return lambda c: impl(c, *[a(c) for a in args])

        upper = min_args if max_args == -1 else max_args
        _FUNCTIONS[name] = _Spec(min_args, upper, compile_call)
        return impl

    return register


def _lazy(name: str, min_args: int, max_args: int | None) -> Callable[[Callable[..., Value]], Any]:
    """Register ``impl(c, arg_fns)``: the function decides what to evaluate (if, coalesce)."""

    def register(impl: Callable[..., Value]) -> Callable[..., Value]:
        def compile_call(args: tuple[Fn, ...]) -> Fn:
            return lambda c: impl(c, args)

        _FUNCTIONS[name] = _Spec(min_args, max_args, compile_call)
        return impl

    return register


def _nodeset(value: Value, function: str) -> list[Node]:
    if type(value) is not list:
        raise _EvalError(f"{function}() needs a node-set")
    return value


def _flatten_strings(values: Sequence[Value]) -> list[str]:
    out: list[str] = []
    for value in values:
        if type(value) is list:
            out.extend(_node_string(n) for n in value)
        else:
            out.append(_string(value))
    return out


def _flatten_numbers(values: Sequence[Value]) -> list[float]:
    out: list[float] = []
    for value in values:
        if type(value) is list:
            out.extend(_string_number(_node_string(n)) for n in value)
        else:
            out.append(_number(value))
    return out


def _context_string(c: _Dyn, args: Sequence[Value]) -> str:
    return _string(args[0]) if args else _node_string(c.node)


def _int_arg(value: Value) -> int | None:
    number = _number(value)
    if number != number or math.isinf(number):
        return None
    return int(number)


# XPath 1.0 core -----------------------------------------------------------------------------------


@_eager("last", 0)
def _f_last(c: _Dyn) -> Value:
    return float(c.size)


@_eager("position", 0, 1)
def _f_position(c: _Dyn, *args: Value) -> Value:
    if not args:
        return float(c.pos)
    # ODK: position(node) = 1-based position of the node among its same-named siblings.
    nodes = _nodeset(args[0], "position")
    if not nodes:
        return NAN
    node = nodes[0]
    parent = c.env.parent(node)
    if parent is None or isinstance(node, _Pseudo):
        return 1.0
    position = 0
    for sibling in parent:
        if sibling.tag == node.tag:
            position += 1
        if sibling is node:
            return float(position)
    return NAN


@_eager("count", 1)
def _f_count(c: _Dyn, nodes: Value) -> Value:
    return float(len(_nodeset(nodes, "count")))


@_eager("count-non-empty", 1)
def _f_count_non_empty(c: _Dyn, nodes: Value) -> Value:
    return float(sum(1 for n in _nodeset(nodes, "count-non-empty") if _node_string(n) != ""))


@_eager("local-name", 0, 1)
def _f_local_name(c: _Dyn, *args: Value) -> Value:
    nodes = _nodeset(args[0], "local-name") if args else [c.node]
    if not nodes:
        return ""
    node = nodes[0]
    return _local(node.name if isinstance(node, _Pseudo) else node.tag)


@_eager("name", 0, 1)
def _f_name(c: _Dyn, *args: Value) -> Value:
    return _f_local_name(c, *args)


@_eager("string", 0, 1)
def _f_string(c: _Dyn, *args: Value) -> Value:
    return _context_string(c, args)


@_eager("concat", 0, None)
def _f_concat(c: _Dyn, *args: Value) -> Value:
    if len(args) == 1 and type(args[0]) is list:
        return "".join(_node_string(n) for n in args[0])
    return "".join(_string(a) for a in args)


@_eager("join", 1, None)
def _f_join(c: _Dyn, separator: Value, *values: Value) -> Value:
    return _string(separator).join(_flatten_strings(values))


@_eager("starts-with", 2)
def _f_starts_with(c: _Dyn, text: Value, prefix: Value) -> Value:
    return _string(text).startswith(_string(prefix))


@_eager("ends-with", 2)
def _f_ends_with(c: _Dyn, text: Value, suffix: Value) -> Value:
    return _string(text).endswith(_string(suffix))


@_eager("contains", 2)
def _f_contains(c: _Dyn, text: Value, part: Value) -> Value:
    return _string(part) in _string(text)


@_eager("substring-before", 2)
def _f_substring_before(c: _Dyn, text: Value, part: Value) -> Value:
    haystack, needle = _string(text), _string(part)
    index = haystack.find(needle)
    return haystack[:index] if index >= 0 else ""


@_eager("substring-after", 2)
def _f_substring_after(c: _Dyn, text: Value, part: Value) -> Value:
    haystack, needle = _string(text), _string(part)
    index = haystack.find(needle)
    return haystack[index + len(needle) :] if index >= 0 else ""


@_eager("substring", 2, 3)
def _f_substring(c: _Dyn, text: Value, start: Value, *length: Value) -> Value:
    # XPath 1.0: 1-based, rounded positions; characters p with round(start) <= p < round(start)+round(len)
    value = _string(text)
    first = _xpath_round(_number(start))
    last = first + _xpath_round(_number(length[0])) if length else math.inf
    if first != first or last != last:
        return ""
    return "".join(ch for p, ch in enumerate(value, 1) if first <= p < last)


@_eager("substr", 2, 3)
def _f_substr(c: _Dyn, text: Value, start: Value, *end: Value) -> Value:
    # ODK: 0-based start, exclusive end.
    value = _string(text)
    first = _int_arg(start)
    if first is None:
        return ""
    first = max(first, 0)
    if end:
        last = _int_arg(end[0])
        if last is None:
            return ""
        return value[first:last] if last > first else ""
    return value[first:]


@_eager("string-length", 0, 1)
def _f_string_length(c: _Dyn, *args: Value) -> Value:
    return float(len(_context_string(c, args)))


@_eager("normalize-space", 0, 1)
def _f_normalize_space(c: _Dyn, *args: Value) -> Value:
    return " ".join(_context_string(c, args).split())


@_eager("translate", 3)
def _f_translate(c: _Dyn, text: Value, source: Value, target: Value) -> Value:
    src, dst = _string(source), _string(target)
    table: dict[int, int | None] = {}
    for i, ch in enumerate(src):
        if ord(ch) not in table:
            table[ord(ch)] = ord(dst[i]) if i < len(dst) else None
    return _string(text).translate(table)


@_eager("boolean", 1)
def _f_boolean(c: _Dyn, value: Value) -> Value:
    return _boolean(value)


@_eager("not", 1)
def _f_not(c: _Dyn, value: Value) -> Value:
    return not _boolean(value)


@_eager("true", 0)
def _f_true(c: _Dyn) -> Value:
    return True


@_eager("false", 0)
def _f_false(c: _Dyn) -> Value:
    return False


@_eager("boolean-from-string", 1)
def _f_boolean_from_string(c: _Dyn, value: Value) -> Value:
    return _string(value).strip().lower() in ("true", "1")


@_eager("number", 0, 1)
def _f_number(c: _Dyn, *args: Value) -> Value:
    return _number(args[0]) if args else _string_number(_node_string(c.node))


@_eager("sum", 1)
def _f_sum(c: _Dyn, nodes: Value) -> Value:
    return float(math.fsum(_flatten_numbers([_nodeset(nodes, "sum")])))


def _xpath_round(number: float) -> float:
    if number != number or math.isinf(number):
        return number
    return float(math.floor(number + 0.5))


@_eager("round", 1, 2)
def _f_round(c: _Dyn, value: Value, *digits: Value) -> Value:
    number = _number(value)
    if not digits:
        return _xpath_round(number)
    places = _int_arg(digits[0])
    if places is None or number != number or math.isinf(number):
        return NAN if places is None else number
    try:
        quantum = Decimal(1).scaleb(-places)
        return float(Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return number


@_eager("floor", 1)
def _f_floor(c: _Dyn, value: Value) -> Value:
    number = _number(value)
    return number if number != number or math.isinf(number) else float(math.floor(number))


@_eager("ceiling", 1)
def _f_ceiling(c: _Dyn, value: Value) -> Value:
    number = _number(value)
    return number if number != number or math.isinf(number) else float(math.ceil(number))


@_eager("int", 1)
def _f_int(c: _Dyn, value: Value) -> Value:
    number = _number(value)
    return number if number != number or math.isinf(number) else float(math.trunc(number))


# Maths -------------------------------------------------------------------------------------------


def _math1(name: str, fn: Callable[[float], float]) -> None:
    def impl(c: _Dyn, value: Value) -> Value:
        try:
            return float(fn(_number(value)))
        except (ValueError, OverflowError):
            return NAN

    _eager(name, 1)(impl)


_MATH1: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "exp10": lambda x: 10.0**x,
    "log": math.log,
    "log10": math.log10,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
}
for _name, _fn in _MATH1.items():
    _math1(_name, _fn)


@_eager("atan2", 2)
def _f_atan2(c: _Dyn, y: Value, x: Value) -> Value:
    return math.atan2(_number(y), _number(x))


@_eager("pi", 0)
def _f_pi(c: _Dyn) -> Value:
    return math.pi


@_eager("pow", 2)
def _f_pow(c: _Dyn, base: Value, exponent: Value) -> Value:
    try:
        result = math.pow(_number(base), _number(exponent))
    except (ValueError, OverflowError, ZeroDivisionError):
        return NAN
    return result


def _extreme(values: Sequence[Value], pick: Callable[[list[float]], float]) -> float:
    numbers = _flatten_numbers(values)
    if not numbers or any(n != n for n in numbers):
        return NAN
    return pick(numbers)


@_eager("min", 1, None)
def _f_min(c: _Dyn, *values: Value) -> Value:
    return _extreme(values, min)


@_eager("max", 1, None)
def _f_max(c: _Dyn, *values: Value) -> Value:
    return _extreme(values, max)


@_eager("random", 0)
def _f_random(c: _Dyn) -> Value:
    return random.random()  # noqa: S311 - ODK's random() is not for secrets


# ODK: selects, choices, conditionals ---------------------------------------------------------------


@_eager("selected", 2)
def _f_selected(c: _Dyn, answer: Value, value: Value) -> Value:
    return _string(value).strip() in _string(answer).split()


@_eager("count-selected", 1)
def _f_count_selected(c: _Dyn, answer: Value) -> Value:
    return float(len(_string(answer).split()))


@_eager("selected-at", 2)
def _f_selected_at(c: _Dyn, answer: Value, index: Value) -> Value:
    choices = _string(answer).split()
    position = _int_arg(index)
    if position is None or not 0 <= position < len(choices):
        return ""
    return choices[position]


@_eager("choice-name", 2)
def _f_choice_name(c: _Dyn, value: Value, path: Value) -> Value:
    choice = _string(value)
    callback = c.env.ctx.choice_label
    if not choice or callback is None:
        return choice
    return callback(choice, _string(path).strip())


@_lazy("if", 3, 3)
def _f_if(c: _Dyn, args: tuple[Fn, ...]) -> Value:
    return args[1](c) if _boolean(args[0](c)) else args[2](c)


@_lazy("coalesce", 2, None)
def _f_coalesce(c: _Dyn, args: tuple[Fn, ...]) -> Value:
    for arg in args:
        text = _string(arg(c))
        if text != "":
            return text
    return ""


@_eager("once", 1)
def _f_once(c: _Dyn, value: Value) -> Value:
    existing = _node_string(c.node)
    return existing if existing != "" else _string(value)


@_eager("regex", 2)
def _f_regex(c: _Dyn, value: Value, pattern: Value) -> Value:
    try:
        return re.search(_string(pattern), _string(value)) is not None
    except re.error as error:
        raise _EvalError(f"invalid regular expression {_string(pattern)!r}: {error}") from error


def _checklist_range(count: float, low: Value, high: Value) -> bool:
    minimum, maximum = _number(low), _number(high)
    return (minimum == -1 or count >= minimum) and (maximum == -1 or count <= maximum)


@_eager("checklist", 2, None)
def _f_checklist(c: _Dyn, low: Value, high: Value, *values: Value) -> Value:
    count = 0.0
    for value in values:
        if type(value) is list:
            count += sum(1 for n in value if _node_string(n) != "")
        elif _boolean(value):
            count += 1
    return _checklist_range(count, low, high)


@_eager("weighted-checklist", 2, None)
def _f_weighted_checklist(c: _Dyn, low: Value, high: Value, *pairs: Value) -> Value:
    if len(pairs) % 2:
        raise _EvalError("weighted-checklist() needs value/weight pairs")
    total = 0.0
    for value, weight in zip(pairs[::2], pairs[1::2], strict=True):
        if _boolean(value):
            total += _number(weight)
    return _checklist_range(total, low, high)


# ODK: repeats and instances -----------------------------------------------------------------------


@_eager("current", 0)
def _f_current(c: _Dyn) -> Value:
    return [c.env.current]


@_eager("instance", 1)
def _f_instance(c: _Dyn, instance_id: Value) -> Value:
    doc = c.env.instance_doc(_string(instance_id))
    if doc is None:
        raise _EvalError(f"no instance with id {_string(instance_id)!r}")
    return [doc]


def _is_inside(env: _Env, node: Node, ancestor: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = env.parent(current)
    return False


@_eager("indexed-repeat", 3, None)
def _f_indexed_repeat(c: _Dyn, target: Value, *pairs: Value) -> Value:
    if len(pairs) % 2:
        raise _EvalError("indexed-repeat() needs repeat/index pairs")
    env = c.env
    scope: Node | None = None
    for repeat, index in zip(pairs[::2], pairs[1::2], strict=True):
        instances = _nodeset(repeat, "indexed-repeat")
        if scope is not None:
            instances = [n for n in instances if _is_inside(env, n, scope)]
        position = _int_arg(index)
        if position is None or not 1 <= position <= len(instances):
            return []
        scope = instances[position - 1]
    for node in _nodeset(target, "indexed-repeat"):
        if scope is not None and _is_inside(env, node, scope):
            return [node]
    return []


@_eager("randomize", 1, 2)
def _f_randomize(c: _Dyn, nodes: Value, *seed: Value) -> Value:
    shuffled = list(_nodeset(nodes, "randomize"))
    generator = random.Random(_number(seed[0])) if seed else random.Random()  # noqa: S311
    generator.shuffle(shuffled)
    return shuffled


# ODK: dates and times -----------------------------------------------------------------------------


@_eager("today", 0)
def _f_today(c: _Dyn) -> Value:
    return c.env.today()


@_eager("now", 0)
def _f_now(c: _Dyn) -> Value:
    return c.env.now()


@_eager("date", 1)
def _f_date(c: _Dyn, value: Value) -> Value:
    if type(value) is float or type(value) is bool:
        day = _from_days(_number(value), whole=True)
        return NAN if day is None else day
    result = _temporal(value)
    return NAN if result is None else result


@_eager("date-time", 1)
def _f_date_time(c: _Dyn, value: Value) -> Value:
    if type(value) is float or type(value) is bool:
        number = _number(value)
        try:
            return _EPOCH_UTC + dt.timedelta(days=number)
        except (OverflowError, ValueError):
            return NAN
    result = _temporal(value)
    return NAN if result is None else result


@_eager("decimal-date-time", 1)
def _f_decimal_date_time(c: _Dyn, value: Value) -> Value:
    if type(value) is float:
        return value
    result = _temporal(value)
    return NAN if result is None else _temporal_days(result)


@_eager("decimal-time", 1)
def _f_decimal_time(c: _Dyn, value: Value) -> Value:
    if isinstance(value, dt.datetime):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    fraction = _parse_time_fraction(_string(value))
    return NAN if fraction is None else fraction


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _format_temporal(value: Value, pattern: str) -> str:
    moment = _temporal(value)
    if moment is None:
        return ""
    hour = moment.hour if isinstance(moment, dt.datetime) else 0
    minute = moment.minute if isinstance(moment, dt.datetime) else 0
    second = moment.second if isinstance(moment, dt.datetime) else 0
    millis = moment.microsecond // 1000 if isinstance(moment, dt.datetime) else 0
    codes = {
        "Y": f"{moment.year:04d}",
        "y": f"{moment.year % 100:02d}",
        "m": f"{moment.month:02d}",
        "n": str(moment.month),
        "b": _MONTHS[moment.month - 1],
        "d": f"{moment.day:02d}",
        "e": str(moment.day),
        "a": _DAYS[moment.weekday()],
        "H": f"{hour:02d}",
        "h": str(hour),
        "M": f"{minute:02d}",
        "S": f"{second:02d}",
        "3": f"{millis:03d}",
    }
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%" and i + 1 < len(pattern):
            code = pattern[i + 1]
            out.append(codes.get(code, "%" + code if code != "%" else "%"))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@_eager("format-date", 2)
def _f_format_date(c: _Dyn, value: Value, pattern: Value) -> Value:
    return _format_temporal(value, _string(pattern))


@_eager("format-date-time", 2)
def _f_format_date_time(c: _Dyn, value: Value, pattern: Value) -> Value:
    return _format_temporal(value, _string(pattern))


# ODK: identifiers and encodings -------------------------------------------------------------------

_ALPHANUMERIC = string_module.ascii_letters + string_module.digits
_MAX_UUID_LENGTH = 1024


@_eager("uuid", 0, 1)
def _f_uuid(c: _Dyn, *length: Value) -> Value:
    if not length:
        return str(uuid.uuid4())
    size = _int_arg(length[0])
    if size is None or not 0 <= size <= _MAX_UUID_LENGTH:
        raise _EvalError(f"uuid() length must be between 0 and {_MAX_UUID_LENGTH}")
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(size))


_DIGESTS = {"md5": "md5", "sha-1": "sha1", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512"}


@_eager("digest", 2, 3)
def _f_digest(c: _Dyn, data: Value, algorithm: Value, *encoding: Value) -> Value:
    name = _DIGESTS.get(_string(algorithm).strip().lower())
    if name is None:
        raise _EvalError(f"digest(): unknown algorithm {_string(algorithm)!r}")
    raw = hashlib.new(name, _string(data).encode("utf-8")).digest()
    if encoding and _string(encoding[0]).strip().lower() == "hex":
        return raw.hex()
    return base64.b64encode(raw).decode("ascii")


@_eager("base64-decode", 1)
def _f_base64_decode(c: _Dyn, data: Value) -> Value:
    try:
        return base64.b64decode(_string(data), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


# --------------------------------------------------------------------------------------------------
# Public API.


class Expression:
    """A compiled expression: evaluate it as many times as needed, with different contexts."""

    __slots__ = ("_fn", "_tree", "source")

    def __init__(self, source: str, tree: Any) -> None:
        self.source = source
        self._tree = tree
        self._fn = _compile(tree)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, ctx: EvalContext) -> Value:
        """The raw XPath value: list of nodes, str, float, bool, or a date/datetime."""
        env = _Env(ctx)
        try:
            return self._fn(_Dyn(env, ctx.node, 1, 1))
        except _EvalError as error:
            raise ExpressionError(self.source, str(error)) from error
        except RecursionError as error:  # pathological nesting
            raise ExpressionError(self.source, "expression too deeply nested") from error

    def boolean(self, ctx: EvalContext) -> bool:
        return _boolean(self.evaluate(ctx))

    def string(self, ctx: EvalContext) -> str:
        try:
            return _string(self.evaluate(ctx))
        except _EvalError as error:
            raise ExpressionError(self.source, str(error)) from error

    def number(self, ctx: EvalContext) -> float:
        try:
            return _number(self.evaluate(ctx))
        except _EvalError as error:
            raise ExpressionError(self.source, str(error)) from error

    def nodes(self, ctx: EvalContext) -> list[Element]:
        """The node-set an itemset nodeset selects; anything else is an error."""
        value = self.evaluate(ctx)
        if type(value) is not list:
            raise ExpressionError(self.source, "the expression does not select nodes")
        return [n for n in value if isinstance(n, Element) and n.tag != "#document"]


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parse and compile once; raises ExpressionError for bad syntax or an unknown function."""
    if not isinstance(source, str):
        raise ExpressionError(repr(source), "an expression must be a string")
    try:
        tree = _Parser(source).parse()
    except RecursionError as error:
        raise ExpressionError(source, "expression too deeply nested") from error
    return Expression(source, tree)


# references() ------------------------------------------------------------------------------------

_CONTEXT_READERS = frozenset(
    {"string", "string-length", "normalize-space", "number", "once", "local-name", "name"}
)


def references(source: str, context: str | None = None) -> set[str]:
    """Absolute instance paths an expression reads, for dependency tracking (best effort).

    Absolute paths are always found. Relative ones (``../q``, ``current()/../q``, ``.``) are resolved
    only when ``context`` (the absolute path of the bound node, e.g. ``/data/members/age``) is given.
    Predicates are dropped (``/data/rep[2]/q`` reads ``/data/rep/q``); paths into secondary instances
    are static data and are left out, but what their predicates read from the main instance is not.
    """
    found: set[str] = set()
    context_parts = _split_path(context) if context else None
    _collect(compile_expression(source)._tree, context_parts, context_parts, found)
    return found


def _split_path(path: str) -> list[str]:
    return [part for part in path.strip().split("/") if part]


def _join(parts: list[str]) -> str:
    return "/" + "/".join(parts)


def _collect(tree: Any, context: list[str] | None, current: list[str] | None, found: set[str]) -> None:
    if isinstance(tree, _Binary):
        _collect(tree.left, context, current, found)
        _collect(tree.right, context, current, found)
    elif isinstance(tree, _Negate):
        _collect(tree.operand, context, current, found)
    elif isinstance(tree, _Call):
        if not tree.args and tree.name in _CONTEXT_READERS and context is not None:
            found.add(_join(context))
        if tree.name == "once" and context is not None:
            found.add(_join(context))
        for arg in tree.args:
            _collect(arg, context, current, found)
    elif isinstance(tree, _Filter):
        _collect(tree.primary, context, current, found)
        for predicate in tree.predicates:
            _collect(predicate, None, current, found)
    elif isinstance(tree, _Path):
        base: list[str] | None
        if tree.start == "root":
            base = []
        elif tree.start == "context":
            base = list(context) if context is not None else None
        elif isinstance(tree.start, _Call) and tree.start.name == "current" and current is not None:
            base = list(current)
        else:
            _collect(tree.start, context, current, found)
            base = None
        for step in tree.steps:
            if base is not None:
                if step.axis == "parent":
                    base = base[:-1]
                elif step.axis == "self":
                    pass
                elif step.axis == "child" and step.test not in ("*", "node()", "text()"):
                    base = [*base, step.test]
                else:
                    if base:
                        found.add(_join(base))
                    base = None
            for predicate in step.predicates:
                _collect(predicate, list(base) if base is not None else None, current, found)
        if base:
            found.add(_join(base))
