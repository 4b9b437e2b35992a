"""Composing an email: MIME with text and HTML alternatives and attachments, links rewritten to
tracked links, an open pixel, and the one-click unsubscribe headers (RFC 8058)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import formataddr

# SMTP line endings; headers fold only past SMTP's own 998-character limit, so a long tracked
# unsubscribe url stays one plain header instead of being cut into encoded words.
POLICY = policy.SMTP.clone(max_line_length=998)
_HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# Line breaks and other control characters: a header value keeps none (a merge tag may bring a
# contact's "Ada\r\nBcc: ..." into the subject; the email library would refuse it outright).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(value: str) -> str:
    """``value`` as a header may hold it: every run of control characters becomes a space."""
    return _CONTROL.sub(" ", value).strip()


def rewrite_links(html: str, tracked: Callable[[str], str]) -> str:
    """Every http(s) ``href`` in ``html`` replaced by ``tracked(url)``."""
    return _HREF.sub(lambda m: f"{m.group(1)}{m.group(2)}{tracked(m.group(3))}{m.group(2)}", html)


def add_pixel(html: str, pixel_url: str) -> str:
    """An invisible 1x1 image that records the open, before ``</body>`` (or at the end)."""
    pixel = f'<img src="{pixel_url}" width="1" height="1" alt="" style="display:none">'
    if _BODY_END.search(html):
        return _BODY_END.sub(lambda m: pixel + m.group(0), html, count=1)
    return html + pixel


def compose(
    *,
    sender: tuple[str | None, str],
    to: str,
    reply_to: str | None,
    subject: str,
    html: str,
    text: str,
    attachments: list[tuple[str, bytes]],
    headers: dict[str, str],
) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    name, address = sender
    message["From"] = formataddr((one_line(name or ""), address))
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = one_line(subject)
    for header, value in headers.items():
        message[header] = one_line(value)
    message.set_content(text or " ")
    if html:
        message.add_alternative(html, subtype="html")
    for filename, data in attachments:
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message
