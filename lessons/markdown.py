"""Instructions in Markdown, rendered safely: a small subset, nothing else.

markdown-it-py's "zero" preset with only paragraphs, line breaks, **bold**, *em*, `code`,
lists and links enabled; raw HTML is escaped (html=False), and a link is kept only when it
points to http(s) (no javascript:, data:, relative or protocol-less URLs)."""

from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

RULES = ["emphasis", "backticks", "list", "link", "newline"]


def safe_link(url):
    return url.strip().lower().startswith(("http://", "https://"))


def _parser():
    md = MarkdownIt("zero", {"html": False, "breaks": True}).enable(RULES)
    md.validateLink = safe_link
    return md


_md = _parser()


def render(text):
    """HTML of `text` (safe to put in a template)."""
    html = _md.render(text or "")
    # links leave the lab in a new tab, without handing it the page
    html = html.replace("<a href=", '<a rel="nofollow noopener" target="_blank" href=')
    return mark_safe(html)
