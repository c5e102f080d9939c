"""A Content-Security-Policy on formgrader's pages, as a Jupyter server extension.

Formgrader shows a student's notebook inside the instructor's authenticated Jupyter
session, where a script could call the server's API as the instructor. The notebook is
sanitised before it is rendered (:mod:`autograder.sanitize`); this extension makes sure
that a case the sanitiser missed still cannot run. Every page under ``/formgrader`` gets a
policy under which a script runs only if it is

* a file of formgrader's own static folder, or
* an inline script of nbgrader's own templates (each is matched against the templates'
  text, with the places where the template inserts a value standing for a plain value,
  and given the response's nonce), or
* one of the event-handler attributes written in nbgrader's templates (by hash).

Images come from the server itself or ``data:`` URLs, nothing is fetched from another
host, no frame or plug-in loads, and nbgrader's MathJax loader (a CDN script; the math is
MathML by then) gives way to a stand-in that tells formgrade.js the math is drawn.

Enabled by ``etc/jupyter/jupyter_server_config.d/dfnn-course.json``, which ``pip install``
of the course puts beside nbgrader's own configuration.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from functools import lru_cache
from pathlib import Path

from tornado.web import OutputTransform

from autograder.feedback.math_ml import MATHJAX

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
HANDLER = re.compile(r"""\son[a-z]+="([^"{}]*)\"""", re.I)
VALUE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# In place of MathJax: the math is MathML already; formgrade.js waits for MathJax's
# "End" signal before it focuses the first score box, so it gets one at once.
MATHJAX_STAND_IN = (
    "window.MathJax = {Hub: {Queue: function () {}, Config: function () {}, "
    "Startup: {signal: {Interest: function (f) { setTimeout(function () { f('End'); }, 0); "
    "}}}}};")


def _templates() -> list[str]:
    import nbgrader.server_extensions.formgrader as formgrader

    root = Path(formgrader.__file__).parent / "templates"
    return [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".tpl", ".j2")]


def _pattern(body: str) -> str:
    parts = VALUE.split(body.strip())
    return r"\s*" + r"[^\"'<>\\]*".join(
        r"\s+".join(map(re.escape, part.split())) for part in parts) + r"\s*"


@lru_cache(maxsize=1)
def known_scripts() -> re.Pattern:
    """One pattern matching exactly the inline scripts nbgrader's templates can write."""
    bodies = {body for text in _templates() for attrs, body in SCRIPT.findall(text)
              if "src=" not in attrs and body.strip()}
    return re.compile("|".join(f"(?:{_pattern(b)})" for b in sorted(bodies)), re.S)


@lru_cache(maxsize=1)
def handler_hashes() -> tuple[str, ...]:
    """CSP hashes of the event-handler attributes nbgrader's templates write."""
    found = {m for text in _templates() for m in HANDLER.findall(text)}
    return tuple(sorted("'sha256-" + base64.b64encode(
        hashlib.sha256(h.encode()).digest()).decode() + "'" for h in found))


def policy(origin: str, base_url: str, nonce: str) -> str:
    static = f"{origin}{base_url}formgrader/static/"
    scripts = " ".join([static, f"'nonce-{nonce}'", "'unsafe-hashes'", *handler_hashes(),
                        "'report-sample'"])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'")


def nonce_known_scripts(page: str, nonce: str) -> str:
    """Give ``nonce`` to the inline scripts of ``page`` that nbgrader's templates wrote."""
    known = known_scripts()

    def mark(m: re.Match) -> str:
        attrs, body = m.group(1), m.group(2)
        if "src=" in attrs or "nonce=" in attrs or not known.fullmatch(body):
            return m.group(0)
        return f'<script nonce="{nonce}"{attrs}>{body}</script>'

    return SCRIPT.sub(mark, page)


class FormgraderPolicy(OutputTransform):
    """Adds the policy to every HTML page under ``<base_url>formgrader``."""

    base_url = "/"

    def __init__(self, request):
        super().__init__(request)
        self.request = request
        self.active = request.path.startswith(f"{self.base_url}formgrader")

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if not self.active or not headers.get("Content-Type", "").startswith("text/html"):
            return status_code, headers, chunk
        nonce = secrets.token_urlsafe(18)
        origin = f"{self.request.protocol}://{self.request.host}"
        headers["Content-Security-Policy"] = policy(origin, self.base_url, nonce)
        if finishing and chunk:
            page = nonce_known_scripts(chunk.decode("utf-8", "replace"), nonce)
            stand_in = f'<script nonce="{nonce}">{MATHJAX_STAND_IN}</script>'
            chunk = MATHJAX.sub(lambda _: stand_in, page, count=1).encode("utf-8")
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    return [{"module": "autograder.formgrader_policy"}]


def _load_jupyter_server_extension(serverapp):
    base = serverapp.base_url if serverapp.base_url.endswith("/") else serverapp.base_url + "/"
    policy_class = type("FormgraderPolicy", (FormgraderPolicy,), {"base_url": base})
    serverapp.web_app.add_transform(policy_class)
    serverapp.log.info("Content-Security-Policy on %sformgrader pages", base)
