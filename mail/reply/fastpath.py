"""A small MIME reader for the plain, well-formed replies most clients send."""

from __future__ import annotations

import base64
import re

from mail.reply.limits import CALENDAR_TYPES
from mail.reply.mime import decode_bytes

# --------------------------------------------------------------------------- MIME fast path
#
# The stdlib parser costs more than everything else the poller does to a reply. For the
# plain, well-formed message every client sends (ASCII, simple parameters, base64/7bit
# parts), this small reader finds the same calendar texts and header values; whenever
# anything is unusual it gives up (returns None) and the stdlib path reads the message,
# so what it does return is exactly what the stdlib path would (tests compare the two).

_HEADER_LINE = re.compile(r"[\x21-\x39\x3b-\x7e]+:")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~=/?{}\[\]-]+"
_SIMPLE_PARAMS = re.compile(
    r"\s*(?:;\s*[A-Za-z0-9_.-]+\s*=\s*(?:\"[^\"\\\r\n]*\"|" + _TOKEN + r")\s*)*;?\s*"
)
_PARAM = re.compile(r";\s*([A-Za-z0-9_.-]+)\s*=\s*(\"[^\"\\\r\n]*\"|" + _TOKEN + r")")
_FAST_CTES = frozenset({"", "7bit", "8bit", "binary", "base64"})
_MAX_FAST_PARTS = 12
"""Parts of a top-level multipart read here (fewer deeper down: at most ~70 leaves in all)."""


class FastHead:
    """Header values as the stdlib's compat32 policy returns them (first one wins)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str | None:
        return self.values.get(name.lower())


def _fast_head(lines: list[bytes]) -> tuple[FastHead, list[bytes]] | None:
    """Headers and body lines; None unless every header line is plain and a blank line ends them."""
    values: dict[str, str] = {}
    name = ""
    value: list[str] = []
    for at, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            if name and name not in values:
                values[name] = "".join(value).rstrip("\r\n")
            return FastHead(values), lines[at + 1 :]
        text = line.decode("ascii")
        if text[0] in " \t":
            if not name:
                return None
            value.append(text)
            continue
        match = _HEADER_LINE.match(text)
        if match is None or text.startswith("From "):
            return None
        if name and name not in values:
            values[name] = "".join(value).rstrip("\r\n")
        name = text[: match.end() - 1].lower()
        value = [text[match.end() :].lstrip(" \t")]
    return None


def _fast_params(value: str | None) -> tuple[str, dict[str, str]] | None:
    """(lower-case type, first value of each parameter, unquoted); None when not simple."""
    if value is None:
        return "", {}
    kind, sep, rest = value.partition(";")
    if sep and _SIMPLE_PARAMS.fullmatch(sep + rest) is None:
        return None
    params: dict[str, str] = {}
    for pname, pvalue in _PARAM.findall(sep + rest):
        if len(pvalue) > 1 and pvalue[0] == '"' and pvalue[-1] == '"':
            pvalue = pvalue[1:-1]
        params.setdefault(pname.lower(), pvalue)
    return kind.strip().lower(), params


def _fast_leaves(
    head: FastHead, body: list[bytes], found: list[tuple[bool, str, str]], depth: int
) -> bool:
    """Add the calendar texts of one part to `found`; False when the part is not plain."""
    parsed = _fast_params(head.get("content-type"))
    if parsed is None or depth > 2:
        return False
    kind, params = parsed
    if not kind:
        kind = "text/plain"
    if (
        kind.count("/") != 1
        or kind.startswith("message/")
        or kind
        in (
            "multipart/report",
            "multipart/digest",
        )
    ):
        return False
    if kind.startswith("multipart/"):
        boundary = params.get("boundary", "").rstrip()
        if not boundary:
            return False
        return _fast_multipart(boundary, body, found, depth)
    if kind not in CALENDAR_TYPES:
        disposition = _fast_params(head.get("content-disposition"))
        if disposition is None or "name" in params or "filename" in disposition[1]:
            return False
        return True
    cte = (head.get("content-transfer-encoding") or "").lower()
    if cte not in _FAST_CTES:
        return False
    payload = b"".join(body)
    if cte == "base64":
        joined = b"".join(payload.splitlines())
        if len(joined) % 4:
            return False
        try:
            payload = base64.b64decode(joined, validate=True)
        except ValueError:
            return False
    method = params.get("method", "").strip().strip('"').strip().upper()
    found.append((bool(method), decode_bytes(payload, params.get("charset", "").lower()), method))
    return True


def _fast_multipart(
    boundary: str, lines: list[bytes], found: list[tuple[bool, str, str]], depth: int
) -> bool:
    if depth > 1:
        return False
    separator = ("--" + boundary).encode("ascii")
    parts: list[list[bytes]] = []
    current: list[bytes] | None = None
    closed = False
    for line in lines:
        if line.startswith(separator):
            tail = line[len(separator) :].rstrip(b"\r\n")
            if not tail.strip(b" \t") or tail.rstrip(b" \t") == b"--":
                if current is not None and not current:
                    return False  # two boundary lines in a row
                if current is not None:
                    parts.append(current)
                if tail.rstrip(b" \t") == b"--":
                    closed = current is not None
                    break
                current = []
                continue
        if current is not None:
            current.append(line)
    if not closed or len(parts) > _MAX_FAST_PARTS // (depth + 1):
        return False
    for part in parts:
        split = _fast_head(part)
        if split is None:
            return False
        head, body = split
        if body:
            # The line break before a boundary belongs to the boundary (RFC 2046).
            last = body[-1]
            body[-1] = last[:-2] if last.endswith(b"\r\n") else last[:-1]
        if not _fast_leaves(head, body, found, depth + 1):
            return False
    return True


def fast_read(raw: bytes) -> tuple[FastHead, list[tuple[bool, str, str]]] | None:
    """The headers and calendar candidates of a plain message, or None to use the stdlib."""
    if not raw.isascii() or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    split = _fast_head(raw.splitlines(keepends=True))
    if split is None:
        return None
    head, body = split
    found: list[tuple[bool, str, str]] = []
    try:
        if not _fast_leaves(head, body, found, 0):
            return None
    except Exception:  # noqa: BLE001 - anything unexpected goes the stdlib way
        return None
    return head, found
