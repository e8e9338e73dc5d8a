"""Agent text in server-rendered pages: Markdown, never the text's own HTML, sanitised."""

from __future__ import annotations

from studio.runs.rendering import render_markdown


def test_markdown_renders_and_html_in_the_text_stays_text() -> None:
    html = render_markdown('**Berlin** <script>alert("x")</script> <img src=x onerror=alert(1)>')
    assert "<strong>Berlin</strong>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_javascript_links_lose_their_target_and_code_keeps_its_characters() -> None:
    html = render_markdown("[click](javascript:alert(1)) and `a < b`\n\n```\nx = 1 < 2\n```")
    assert "javascript:" not in html
    assert "<code>a &lt; b</code>" in html
    assert "<pre><code>x = 1 &lt; 2" in html
