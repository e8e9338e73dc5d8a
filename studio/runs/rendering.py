"""Agent text as sanitised Markdown for server-rendered pages (the admin's review console).

Raw HTML in a message is never passed through: the Markdown parser is told to treat it as
text, so `<script>` shows as `<script>`. What Markdown itself makes (paragraphs, lists,
code, tables, links) is then cleaned by nh3 against an allow-list, which also drops
`javascript:` links, as a second line of defence.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


class _NoRawHtml(markdown.Extension):
    """Treat HTML in the source as text instead of passing it into the page."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def render_markdown(text: str) -> SafeString:
    """HTML for an agent's text: Markdown, with no HTML of its own, sanitised."""
    html = markdown.markdown(text, extensions=[_NoRawHtml(), "fenced_code", "tables"])
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)
