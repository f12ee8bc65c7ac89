"""The instructions' Markdown subset, and what it refuses (XSS)."""

import re

import pytest

from lessons.markdown import render


def test_the_subset():
    html = render("**b** *e* `c`\n\n- one\n- two\n\n1. x\n\n[site](https://example.org/a)")
    for part in ("<strong>b</strong>", "<em>e</em>", "<code>c</code>", "<ul>", "<ol>",
                 'href="https://example.org/a"', 'rel="nofollow noopener"'):
        assert part in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        '[x](https://a.org/"onmouseover="alert(1))',
        "![x](https://a.org/i.png)",
        "`<b>` **<i>x</i>**",
    ],
)
def test_no_markup_or_script_gets_through(text):
    html = str(render(text))
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    tags = re.findall(r"<([a-z]+)", html)
    assert set(tags) <= {"p", "a", "code", "strong", "em"}, tags
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith("https://"), href  # never javascript:, data:, vbscript:
    assert 'onmouseover="' not in html
