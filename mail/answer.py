"""Read a manager's emailed answer: the Message-IDs it replies to and the first word typed.

Replies quote the request below (Gmail: ``On ... wrote:`` and ``>`` lines;
Outlook: a ``From:``/``Sent:`` block or ``-----Original Message-----``), and
the request itself says "reply APPROVE or DECLINE", so only the first
non-blank line the writer typed counts, and never a quoted one.
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import html
import re

from mail.reply.mime import leaves, part_text
from store.replydata import NOT_CALENDAR, ReadMessage

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_TAG = re.compile(r"<[^>]*>")
_DROP = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"<\s*(br|/p|/div|p|div|tr|/tr|li|blockquote)\b[^>]*>", re.IGNORECASE)


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every ``<id>`` in a header value, in order."""
    return tuple(_MESSAGE_ID.findall(value or ""))


def _html_text(markup: str) -> str:
    markup = _DROP.sub(" ", markup)
    # A quoted block is the request, not the answer: cut the page where it starts.
    cut = re.search(r"<blockquote|id=\"?(divRplyFwdMsg|appendonsend)|class=\"?gmail_quote", markup)
    if cut:
        markup = markup[: cut.start()]
    return html.unescape(_TAG.sub("", _BLOCK.sub("\n", markup)))


def first_word(text: str) -> str | None:
    """The first word of the first non-blank line the writer typed; None if a quote is first."""
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip().lstrip("\ufeff\u200b")
        if not stripped:
            continue
        lowered = stripped.lower()
        if (
            stripped.startswith((">", "_____", "-----"))
            or (lowered.startswith("on ") and lowered.endswith("wrote:"))
            or lowered.startswith(("from:", "sent:"))
        ):
            return None
        return stripped.split()[0][:40]
    return None


def body_text(msg: email.message.Message) -> str:
    """The text the writer typed: the first text/plain leaf, else the first HTML one as text."""
    found_html = None
    for count, part in enumerate(leaves(msg)):
        if count > 20:
            break
        ctype = part.get_content_type()
        if ctype == "text/plain":
            return part_text(part)
        if ctype == "text/html" and found_html is None:
            found_html = part_text(part)
    return _html_text(found_html) if found_html is not None else ""


def with_answer(message: ReadMessage, raw: bytes) -> ReadMessage:
    """Add the references and first word to a message that carried no calendar reply."""
    if message.problem != NOT_CALENDAR or message.items:
        return message
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        references = message_ids(msg.get("In-Reply-To")) + message_ids(msg.get("References"))
        word = first_word(body_text(msg))
    except Exception:  # noqa: BLE001 - an unreadable body is simply no answer
        return message
    return dataclasses.replace(
        message, references=tuple(dict.fromkeys(references)), first_word=word
    )
