"""String functions of the expression language, on pyarrow's utf8 kernels.

Arguments of other types are read as strings the way Druid's ``asString`` does (Java formatting of
numbers). Positions and lengths count Unicode code points, except ``strlen``, which counts UTF-16 code
units as Java (and Druid's documentation) does; the two differ only for characters outside the Basic
Multilingual Plane. Regular expressions run on RE2 through pyarrow when the pattern is valid there (RE2
agrees with Java for the common syntax) and on Python's ``re`` once per distinct value otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.errors import InvalidInput
from grove.query.expression.nodes import (
    EvalContext,
    Expr,
    FunctionSpec,
    Literal,
    literal_arg,
    returns,
    strict,
    string_literal_arg,
)
from grove.query.expression.values import (
    ExprType,
    Value,
    broadcast,
    java_double_str,
    map_unique,
    null_value,
    parse_numbers,
    to_long,
    to_string,
    type_of,
    unsupported_type,
)

STRING = ExprType.STRING
LONG = ExprType.LONG


def _text(name: str, v: Value) -> Value:
    t = type_of(v)
    if t is not None and t.is_array:
        raise unsupported_type(name, t)
    return to_string(v)


def _scalar_int(v: Value) -> int | None:
    """The value of a scalar long argument (null reads as 0, like Druid's asInt); None for arrays."""
    if not isinstance(v, pa.Scalar):
        return None
    return to_long(v).as_py() or 0


def _python_str(v: Any) -> str | None:
    """A Python value as Druid's asString renders it."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float):
        return java_double_str(v)
    return str(v)


def _to_bool_long(b: Value) -> Value:
    return pc.cast(pc.fill_null(b, False), pa.int64())


# ---------------------------------------------------------------------------------------------------------
# concat and format


def _concat(ctx: EvalContext, values: list[Value]) -> Value:
    if not values:
        return null_value(STRING)
    texts = [_text("concat", v) for v in values]
    if len(texts) == 1:
        return texts[0]
    return pc.binary_join_element_wise(*texts, "")


_FORMAT_SPEC = re.compile(r"%(\d+\$)?([-#+ 0,(<]*)(\d+)?(\.\d+)?([a-zA-Z%])")


class _BadFormat(Exception):
    """Java's IllegalFormatException: the pattern does not fit the arguments."""


def java_format(pattern: str, args: Sequence[Any]) -> str:
    """``StringUtils.nonStrictFormat``: Java's ``String.format``; on a bad format, the pattern and args.

    Supports the conversions ``s S d x X o f e E g G b B n %`` with width, precision and the ``-+ 0,(#``
    flags.
    """
    if not args:
        return pattern
    try:
        return _format(pattern, args)
    except _BadFormat:
        return pattern + "".join("; " + ("null" if a is None else str(_python_str(a))) for a in args)


def _format(pattern: str, args: Sequence[Any]) -> str:
    out = []
    position = 0
    next_arg = 0
    for m in _FORMAT_SPEC.finditer(pattern):
        if "%" in pattern[position : m.start()]:
            raise _BadFormat
        out.append(pattern[position : m.start()])
        position = m.end()
        index_text, flags, width, precision, conversion = m.groups()
        if conversion == "%":
            out.append("%")
            continue
        if conversion == "n":
            out.append("\n")
            continue
        if index_text:
            index = int(index_text[:-1]) - 1
        else:
            index, next_arg = next_arg, next_arg + 1
        if not 0 <= index < len(args):
            raise _BadFormat
        out.append(_format_one(args[index], flags, width, precision, conversion))
    if "%" in pattern[position:]:
        raise _BadFormat
    out.append(pattern[position:])
    return "".join(out)


def _format_one(arg: Any, flags: str, width: str | None, precision: str | None, conversion: str) -> str:
    lower = conversion.lower()
    if lower == "b":
        text = "false" if arg is None else "true"
    elif arg is None:
        text = "null"
    elif lower == "s":
        text = str(_python_str(arg))
        if precision:
            text = text[: int(precision[1:])]
    elif lower in "dxo":
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise _BadFormat
        if lower == "d":
            spec = ("+" if "+" in flags else " " if " " in flags else "") + ("," if "," in flags else "")
            text = format(arg, spec + "d")
            if "(" in flags and arg < 0:
                text = "(" + text.lstrip("-") + ")"
        else:
            text = format(arg & 0xFFFFFFFFFFFFFFFF, lower)
            if "#" in flags:
                text = ("0x" if lower == "x" else "0") + text
    elif lower in "feg":
        if not isinstance(arg, float):
            raise _BadFormat
        digits = 6 if precision is None else int(precision[1:])
        spec = ("+" if "+" in flags else " " if " " in flags else "") + ("," if "," in flags else "")
        # Java's %g keeps trailing zeros, which Python's alternate form does too.
        text = format(arg, f"{spec}#.{max(digits, 1)}g" if lower == "g" else f"{spec}.{digits}{lower}")
        text = text.replace("inf", "Infinity").replace("nan", "NaN")
    else:
        raise _BadFormat
    if conversion.isupper():
        text = text.upper()
    if width:
        size = int(width)
        if "-" in flags:
            text = text.ljust(size)
        elif "0" in flags and lower in "dxofeg" and text[:1] in "+- ":
            text = text[0] + text[1:].rjust(size - 1, "0")
        else:
            text = text.rjust(size, "0" if "0" in flags and lower in "dxofeg" else " ")
    return text


def _format_fn(ctx: EvalContext, values: list[Value]) -> Value:
    for v in values:
        t = type_of(v)
        if t is not None and t.is_array:
            raise unsupported_type("format", t)
    fast = _format_vectorised(values)
    if fast is not None:
        return fast

    def fn(pattern: Any, *args: Any) -> str | None:
        return None if pattern is None else java_format(str(_python_str(pattern)), args)

    return map_unique(fn, values, STRING, ctx.num_rows)


def _format_vectorised(values: list[Value]) -> Value | None:
    """Plain ``%s``/``%d`` patterns as string concatenation; None when the pattern needs more."""
    pattern, args = values[0], values[1:]
    if (
        not isinstance(pattern, pa.Scalar)
        or not pattern.is_valid
        or type_of(pattern) is not STRING
        or not args
    ):
        return None
    text = pattern.as_py()
    parts: list[Value] = []
    position = 0
    used = 0
    for m in _FORMAT_SPEC.finditer(text):
        index_text, flags, width, precision, conversion = m.groups()
        literal = text[position : m.start()]
        if "%" in literal or index_text or flags or width or precision or conversion not in "sdn%":
            return None
        parts.append(pa.scalar(literal))
        position = m.end()
        if conversion in "n%":
            parts.append(pa.scalar("\n" if conversion == "n" else "%"))
            continue
        if used >= len(args):
            return None
        arg = args[used]
        used += 1
        if conversion == "d" and type_of(arg) not in (None, LONG):
            return None
        parts.append(pc.fill_null(to_string(arg), "null"))
    if "%" in text[position:]:
        return None
    parts.append(pa.scalar(text[position:]))
    return pc.binary_join_element_wise(*parts, "")


# ---------------------------------------------------------------------------------------------------------
# Case, length, positions


def _unary_text(name: str, kernel: Callable[[Value], Value]) -> FunctionSpec:
    return FunctionSpec(name, 1, 1, returns(STRING), strict(lambda ctx, v: kernel(_text(name, v[0]))))


def _string_typed(name: str, v: Value) -> Value:
    """Functions Druid types strictly (``reverse``, ``left``, ``right``, ``repeat``) need a string."""
    t = type_of(v)
    if t not in (None, STRING):
        raise InvalidInput(f"Function [{name}] needs a STRING argument, not [{t.value}]")
    return to_string(v)


def _long_typed(name: str, v: Value) -> Value:
    t = type_of(v)
    if t not in (None, LONG):
        raise InvalidInput(f"Function [{name}] needs a LONG argument, not [{t.value}]")
    return v


def _utf8_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, offsets) of a string array, offsets aligned to its rows."""
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return data, offsets.astype(np.int64)


def _prefix_counts(flags: np.ndarray, offsets: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many flagged bytes lie between each row's start and ``ends`` (absolute byte positions)."""
    running = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return running[ends] - running[offsets[:-1]]


def _strlen(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("strlen", values[0])
    if isinstance(s, pa.Scalar):
        text = s.as_py()
        return pa.scalar(None if text is None else len(text.encode("utf-16-le")) // 2, pa.int64())
    data, offsets = _utf8_buffers(s)
    # A 4-byte UTF-8 sequence is one code point but two UTF-16 code units.
    astral = _prefix_counts(data >= 0xF0, offsets, offsets[1:])
    lengths = pc.add(pc.cast(pc.utf8_length(s), pa.int64()), pa.array(astral))
    return lengths


def _char_positions(strings: pa.Array, byte_positions: pa.Array) -> pa.Array:
    """Byte offsets (or -1) within each string as code point offsets."""
    data, offsets = _utf8_buffers(strings)
    found = pc.fill_null(byte_positions, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    ends = offsets[:-1] + np.maximum(found, 0)
    continuation = (data & 0xC0) == 0x80
    chars = np.where(found >= 0, found - _prefix_counts(continuation, offsets, ends), -1)
    return pa.array(chars, pa.int64(), mask=pc.is_null(byte_positions).to_numpy(zero_copy_only=False))


def _strpos(ctx: EvalContext, values: list[Value]) -> Value:
    haystack, needle = _text("strpos", values[0]), _text("strpos", values[1])
    start: Value = values[2] if len(values) > 2 else pa.scalar(0, pa.int64())
    begin = _scalar_int(start)
    if isinstance(needle, pa.Scalar) and begin is not None and not isinstance(haystack, pa.Scalar):
        if not needle.is_valid:
            return null_value(LONG)
        begin = max(begin, 0)
        tail = pc.utf8_slice_codeunits(haystack, begin) if begin else haystack
        found = _char_positions(tail, pc.find_substring(tail, needle.as_py()))
        result = pc.if_else(pc.greater_equal(found, 0), pc.add(found, begin), -1)
        if needle.as_py() == "":
            result = pc.min_element_wise(result, pc.cast(pc.utf8_length(haystack), pa.int64()))
        return result

    def fn(h: str | None, n: str | None, b: int | None) -> int | None:
        if h is None or n is None:
            return None
        return h.find(n, max(b or 0, 0)) if (b or 0) <= len(h) else (len(h) if n == "" else -1)

    return map_unique(fn, [haystack, needle, to_long(start)], LONG, ctx.num_rows)


def _substring_one(s: str | None, index: int | None, length: int | None) -> str | None:
    index, length = index or 0, length or 0
    if s is None:
        return None
    if index < 0:
        raise InvalidInput("Function [substring] needs a non-negative index")
    if index >= len(s):
        return None
    return s[index : index + length] if length >= 0 else s[index:]


def _substring(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("substring", values[0])
    index, length = _scalar_int(values[1]), _scalar_int(values[2])
    if index is None or length is None or isinstance(s, pa.Scalar):
        return map_unique(_substring_one, [s, to_long(values[1]), to_long(values[2])], STRING, ctx.num_rows)
    if index < 0:
        raise InvalidInput("Function [substring] needs a non-negative index")
    sliced = (
        pc.utf8_slice_codeunits(s, index, index + length)
        if length >= 0
        else pc.utf8_slice_codeunits(s, index)
    )
    # Druid's substring is null (not empty) when the index is at or past the end of the string.
    return pc.if_else(pc.greater(pc.utf8_length(s), index), sliced, null_value(STRING))


def _left_right(name: str) -> FunctionSpec:
    def one(s: str | None, n: int | None) -> str | None:
        n = n or 0
        if n < 0:
            raise InvalidInput(f"Function [{name}] needs a non-negative length")
        if s is None:
            return None
        return s[:n] if name == "left" else (s[len(s) - n :] if n < len(s) else s)

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        s = _string_typed(name, values[0])
        count = _long_typed(name, values[1])
        n = _scalar_int(count)
        if n is None or isinstance(s, pa.Scalar):
            return map_unique(one, [s, to_long(count)], STRING, ctx.num_rows)
        if n < 0:
            raise InvalidInput(f"Function [{name}] needs a non-negative length")
        if name == "left":
            return pc.utf8_slice_codeunits(s, 0, n)
        return pc.utf8_slice_codeunits(s, -n) if n > 0 else pc.utf8_slice_codeunits(s, 0, 0)

    return FunctionSpec(name, 2, 2, returns(STRING), strict(evaluate))


# ---------------------------------------------------------------------------------------------------------
# Replace, trim, pad, reverse, repeat


def _replace(ctx: EvalContext, values: list[Value]) -> Value:
    s, target, replacement = (_text("replace", v) for v in values)
    if isinstance(target, pa.Scalar) and isinstance(replacement, pa.Scalar) and not isinstance(s, pa.Scalar):
        pattern = target.as_py()
        if not pattern:
            return s
        return pc.replace_substring(s, pattern, replacement.as_py() or "")

    def fn(text: str | None, old: str | None, new: str | None) -> str | None:
        if text is None:
            return None
        return text.replace(old, new or "") if old else text

    return map_unique(fn, [s, target, replacement], STRING, ctx.num_rows)


def _trim(name: str) -> FunctionSpec:
    def strip(text: str, chars: str) -> str:
        if name == "trim":
            return text.strip(chars)
        return text.lstrip(chars) if name == "ltrim" else text.rstrip(chars)

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        s = _text(name, values[0])
        chars = _text(name, values[1]) if len(values) > 1 else pa.scalar(" ")
        if isinstance(chars, pa.Scalar) and not isinstance(s, pa.Scalar):
            if not chars.is_valid or chars.as_py() == "":
                return s
            kernel = {"trim": pc.utf8_trim, "ltrim": pc.utf8_ltrim, "rtrim": pc.utf8_rtrim}[name]
            return kernel(s, characters=chars.as_py())
        return map_unique(
            lambda text, c: text if text is None or not c else strip(text, c),
            [s, chars],
            STRING,
            ctx.num_rows,
        )

    return FunctionSpec(name, 1, 2, returns(STRING), strict(evaluate))


def _pad_one(base: str | None, length: int | None, pad: str | None, left: bool) -> str | None:
    length = length or 0
    if base is None or pad is None or length <= 0:
        return None
    if len(base) >= length or not pad:
        return base[:length]
    fill = (pad * (length // len(pad) + 1))[: length - len(base)]
    return fill + base if left else base + fill


def _pad(name: str) -> FunctionSpec:
    left = name == "lpad"

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        s, pad = _text(name, values[0]), _text(name, values[2])
        length = _scalar_int(values[1])
        if length is None or isinstance(s, pa.Scalar) or not isinstance(pad, pa.Scalar):
            return map_unique(
                lambda b, n, p: _pad_one(b, n, p, left), [s, to_long(values[1]), pad], STRING, ctx.num_rows
            )
        fill_text = pad.as_py()
        if fill_text is None or length <= 0:
            return null_value(STRING)
        truncated = pc.utf8_slice_codeunits(s, 0, length)
        if not fill_text:
            return truncated
        if len(fill_text) == 1:
            kernel = pc.utf8_lpad if left else pc.utf8_rpad
            return kernel(truncated, width=length, padding=fill_text)
        # Each distinct shortfall gets its fill string once; rows pick theirs with take.
        short = np.clip(
            length - pc.fill_null(pc.utf8_length(s), length).to_numpy(zero_copy_only=False), 0, None
        )
        distinct, which = np.unique(short, return_inverse=True)
        repeated = fill_text * (length // len(fill_text) + 1)
        fills = pc.take(pa.array([repeated[:k] for k in distinct.tolist()]), pa.array(which.reshape(-1)))
        parts = (fills, truncated) if left else (truncated, fills)
        return pc.binary_join_element_wise(*parts, "")

    return FunctionSpec(name, 3, 3, returns(STRING), strict(evaluate))


def _repeat(ctx: EvalContext, values: list[Value]) -> Value:
    s = _string_typed("repeat", values[0])
    count = _long_typed("repeat", values[1])
    n = pc.cast(count, pa.int64()) if type_of(count) is None else count
    repeated = pc.binary_repeat(s, pc.max_element_wise(n, 0))
    # Druid gives null (SQL-compatible mode) for fewer than one repetition.
    return pc.if_else(pc.fill_null(pc.less(n, 1), False), null_value(STRING), repeated)


# ---------------------------------------------------------------------------------------------------------
# Matching


def _contains(name: str, ignore_case: bool) -> FunctionSpec:
    def validate(args: Sequence[Expr], path: str) -> None:
        string_literal_arg(args, 1, name, path, "search string")

    def evaluate(ctx: EvalContext, values: list[Value]) -> Value:
        s = _text(name, values[0])
        search = values[1].as_py() or ""
        return _to_bool_long(pc.match_substring(s, search, ignore_case=ignore_case))

    return FunctionSpec(name, 2, 2, returns(LONG), strict(evaluate), validate)


def like_regex(pattern: str, escape: str | None) -> str:
    """An SQL LIKE pattern (``%``, ``_``, optional escape character) as an anchored regular expression."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if escape is not None and ch == escape:
            nxt = next(chars, None)
            if nxt is None:
                raise InvalidInput("Function [like] pattern ends with its escape character")
            out.append(re.escape(nxt))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "(?s)^" + "".join(out) + "$"


def _validate_like(args: Sequence[Expr], path: str) -> None:
    pattern = string_literal_arg(args, 1, "like", path, "pattern")
    escape = string_literal_arg(args, 2, "like", path, "escape") if len(args) > 2 else None
    if escape is not None and len(escape) != 1:
        raise InvalidInput(f"Function [like] needs a single escape character in {path}", path)
    like_regex(pattern or "", escape)


def _like(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("like", values[0])
    pattern = values[1].as_py()
    if pattern is None:
        return null_value(LONG)
    escape = values[2].as_py() if len(values) > 2 else None
    return pc.cast(pc.match_substring_regex(s, like_regex(pattern, escape)), pa.int64())


@lru_cache(maxsize=1024)
def _re2_ok(pattern: str) -> bool:
    """Whether RE2 (pyarrow's engine) compiles the pattern; pyarrow compiles only when there is a row."""
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except pa.ArrowInvalid:
        return False
    return True


def _compile(name: str, pattern: str) -> re.Pattern[str] | None:
    """The pattern compiled by Python's re (None if only RE2 accepts it); InvalidInput if neither does."""
    try:
        return re.compile(pattern)
    except re.error:
        if _re2_ok(pattern):
            return None
        raise InvalidInput(f"Function [{name}] has an invalid regular expression") from None


def _named_groups(pattern: str) -> str:
    """The pattern with every capturing group named g1, g2… (and the whole match g0), for extract_regex."""
    out = ["(?P<g0>"]
    group = 0
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                out.append("[]")
                i += 2
                continue
        elif ch == "(":
            named = re.match(r"\(\?P?<([A-Za-z_]\w*)>", pattern[i:])
            if named or not pattern.startswith("(?", i):
                group += 1
                out.append(f"(?P<g{group}>")
                i += named.end() if named else 1
                continue
        out.append(ch)
        i += 1
    return "".join(out) + ")"


def _validate_regex(name: str) -> Callable[[Sequence[Expr], str], None]:
    """Patterns must be string literals that compile (regexp_replace may also take both dynamically)."""

    def validate(args: Sequence[Expr], path: str) -> None:
        if name == "regexp_replace" and not all(isinstance(a, Literal) for a in args[1:]):
            return
        pattern = string_literal_arg(args, 1, name, path, "pattern") or ""
        try:
            compiled = _compile(name, pattern)
        except InvalidInput as e:
            raise InvalidInput(f"{e.message} in {path}", path) from None
        if name == "regexp_replace":
            string_literal_arg(args, 2, name, path, "replacement")
        if name == "regexp_extract" and len(args) > 2:
            index = literal_arg(args, 2, name, path, "group index")
            if not isinstance(index, int) or index < 0:
                raise InvalidInput(f"Function [{name}] needs a non-negative group index in {path}", path)
            groups = compiled.groups if compiled is not None else _named_groups(pattern).count("(?P<g") - 1
            if index > groups:
                raise InvalidInput(f"Function [{name}] has no group {index} in its pattern in {path}", path)

    return validate


def _regexp_like(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("regexp_like", values[0])
    pattern = values[1].as_py() or ""
    if _re2_ok(pattern):
        return _to_bool_long(pc.match_substring_regex(s, pattern))
    compiled = _compile("regexp_like", pattern)
    if compiled is None:
        raise InvalidInput("Function [regexp_like] has a pattern neither regular expression engine runs")
    return map_unique(
        lambda t: int(t is not None and compiled.search(t) is not None), [s], LONG, ctx.num_rows
    )


def _regexp_extract(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("regexp_extract", values[0])
    pattern = values[1].as_py() or ""
    index = values[2].as_py() if len(values) > 2 else 0
    named = _named_groups(pattern)
    if _re2_ok(named):
        extracted = pc.struct_field(
            pc.extract_regex(broadcast(s, 1) if isinstance(s, pa.Scalar) else s, named), f"g{index}"
        )
        return extracted[0] if isinstance(s, pa.Scalar) else extracted
    compiled = _compile("regexp_extract", pattern)
    if compiled is None:
        raise InvalidInput("Function [regexp_extract] has a pattern neither regular expression engine runs")

    def fn(text: str | None) -> str | None:
        m = None if text is None else compiled.search(text)
        return None if m is None else m.group(index)

    return map_unique(fn, [s], STRING, ctx.num_rows)


def _java_replacement_re2(replacement: str) -> str | None:
    """A Java replaceAll replacement (``$1``, ``\\$``) as an RE2 rewrite string; None if RE2 can't say it."""
    out = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$":
            m = re.match(r"\$(\d)", replacement[i:])
            if m is None:
                return None
            out.append("\\" + m.group(1))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _java_replace_python(pattern: str, replacement: str) -> Callable[[str], str]:
    compiled = _compile("regexp_replace", pattern)
    if compiled is None:
        raise InvalidInput("Function [regexp_replace] cannot run this pattern on this row set")

    def expand(m: re.Match[str]) -> str:
        out = []
        i = 0
        while i < len(replacement):
            ch = replacement[i]
            if ch == "\\" and i + 1 < len(replacement):
                out.append(replacement[i + 1])
                i += 2
                continue
            if ch == "$":
                g = re.match(r"\$(?:\{(\w+)\}|(\d+))", replacement[i:])
                if g is None:
                    raise InvalidInput("Function [regexp_replace] has an illegal group reference")
                out.append(m.group(g.group(1) or int(g.group(2))) or "")
                i += g.end()
                continue
            out.append(ch)
            i += 1
        return "".join(out)

    return lambda text: compiled.sub(expand, text)


def _regexp_replace(ctx: EvalContext, values: list[Value]) -> Value:
    s, pattern, replacement = (_text("regexp_replace", v) for v in values)
    if isinstance(pattern, pa.Scalar) and isinstance(replacement, pa.Scalar):
        if not pattern.is_valid or not replacement.is_valid:
            return null_value(STRING)
        rewrite = _java_replacement_re2(replacement.as_py())
        if rewrite is not None and _re2_ok(pattern.as_py()) and not isinstance(s, pa.Scalar):
            return pc.replace_substring_regex(s, pattern.as_py(), rewrite)
        fn = _java_replace_python(pattern.as_py(), replacement.as_py())
        return map_unique(lambda t: None if t is None else fn(t), [s], STRING, ctx.num_rows)

    def dynamic(text: str | None, p: str | None, r: str | None) -> str | None:
        if text is None or p is None or r is None:
            return None
        return _java_replace_python(p, r)(text)

    return map_unique(dynamic, [s, pattern, replacement], STRING, ctx.num_rows)


def _parse_long(ctx: EvalContext, values: list[Value]) -> Value:
    s = _text("parse_long", values[0])
    radix = _scalar_int(values[1]) if len(values) > 1 else 10
    if radix == 10 and not isinstance(s, pa.Scalar):
        plain = pc.replace_substring_regex(s, r"^\+([0-9])", r"\1")
        return parse_numbers(
            pc.if_else(pc.match_substring_regex(s, r"^[+-]?[0-9]+$"), plain, null_value(STRING))
        )[0]

    def fn(text: str | None, base: int | None) -> int | None:
        base = base or 0
        if text is None or not 2 <= base <= 36:
            return None
        if base == 16 and text[:2] in ("0x", "0X"):
            text = text[2:]
        if not re.fullmatch(r"[+-]?[0-9A-Za-z]+", text):
            return None
        try:
            value = int(text, base)
        except ValueError:
            return None
        return value if -(2**63) <= value < 2**63 else None

    return map_unique(fn, [s, to_long(values[1]) if len(values) > 1 else pa.scalar(10)], LONG, ctx.num_rows)


STRING_FUNCTIONS = (
    FunctionSpec("concat", 0, None, returns(STRING), strict(_concat)),
    FunctionSpec("format", 1, None, returns(STRING), strict(_format_fn)),
    _unary_text("lower", pc.utf8_lower),
    _unary_text("upper", pc.utf8_upper),
    FunctionSpec(
        "reverse",
        1,
        1,
        returns(STRING),
        strict(lambda ctx, v: pc.utf8_reverse(_string_typed("reverse", v[0]))),
    ),
    FunctionSpec("strlen", 1, 1, returns(LONG), strict(_strlen)),
    FunctionSpec("strpos", 2, 3, returns(LONG), strict(_strpos)),
    FunctionSpec("substring", 3, 3, returns(STRING), strict(_substring)),
    _left_right("left"),
    _left_right("right"),
    FunctionSpec("replace", 3, 3, returns(STRING), strict(_replace)),
    _trim("trim"),
    _trim("ltrim"),
    _trim("rtrim"),
    _pad("lpad"),
    _pad("rpad"),
    FunctionSpec("repeat", 2, 2, returns(STRING), strict(_repeat)),
    _contains("contains_string", False),
    _contains("icontains_string", True),
    FunctionSpec("like", 2, 3, returns(LONG), strict(_like), _validate_like),
    FunctionSpec("regexp_like", 2, 2, returns(LONG), strict(_regexp_like), _validate_regex("regexp_like")),
    FunctionSpec(
        "regexp_extract", 2, 3, returns(STRING), strict(_regexp_extract), _validate_regex("regexp_extract")
    ),
    FunctionSpec(
        "regexp_replace", 3, 3, returns(STRING), strict(_regexp_replace), _validate_regex("regexp_replace")
    ),
    FunctionSpec("parse_long", 1, 2, returns(LONG), strict(_parse_long)),
)
