"""Report pages fetch nothing from the network (htmlreport.make_offline), whatever embedded data they carry."""

from __future__ import annotations

import base64
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kompas_helpers import htmlreport


def _reference(page: str) -> str:
    """The patterns run over the whole page, embedded data included (make_offline sets the data aside)."""
    for pattern in (
        htmlreport._EXTERNAL_SCRIPT,
        htmlreport._EXTERNAL_LINK,
        htmlreport._EXTERNAL_ATTRIBUTE,
        htmlreport._EXTERNAL_CSS,
    ):
        page = pattern.sub("", page)
    return page


PNG = "data:image/png;base64," + base64.b64encode(bytes(range(256)) * 3).decode("ascii")
PIECES = [
    f'<img src="{PNG}" alt="Figur">',
    f"<div style=\"background: url('{PNG}')\">",
    PNG,
    '<script src="https://cdn.example.org/x.js"></script>',
    '<script src="//cdn.example.org/y.js" data-x="' + PNG + '"></script>',
    '<link rel="stylesheet" href="https://fonts.example.org/a.css">',
    '<link rel="icon" href="' + PNG + '">',
    '<img src="https://example.org/a.png">',
    ' srcset="//example.org/b.png 2x"',
    "@import url(https://example.org/c.css);",
    "background: url( 'https://example.org/d.png' )",
    "url(" + PNG + ")",
    '<a href="https://www.lbf.dk">LBF</a>',
    "<p>Tal for 2025</p>",
    "\n",
    " ",
    '"',
    "'",
    ">",
    ";",
    ")",
    "src=",
    "_",
    "ø",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_setting_embedded_data_aside_removes_exactly_what_the_patterns_remove(pieces):
    page = "".join(pieces)
    assert htmlreport.make_offline(page) == _reference(page)


def test_a_report_page_keeps_its_figures_and_loses_its_external_resources():
    page = (
        f'<html><head><link rel="stylesheet" href="https://x.org/a.css"></head><body><img src="{PNG}" alt="Figur">'
        f'<script src="https://x.org/b.js"></script><img alt="Kort" src="{PNG}"></body></html>'
    )
    offline = htmlreport.make_offline(page)
    assert offline.count(PNG) == 2
    assert htmlreport.external_resources(offline) == []
    assert "\x00" not in offline


def test_a_page_with_nul_characters_is_made_offline_all_the_same():
    page = f'\x000\x00<img src="{PNG}"><script src="https://x.org/b.js"></script>'
    assert htmlreport.make_offline(page) == _reference(page) == f'\x000\x00<img src="{PNG}">'


def test_embedded_data_is_set_aside_whole():
    found = htmlreport._DATA_URI.findall(f'<img src="{PNG}" alt="x">')
    assert found == [PNG]
    assert re.fullmatch(htmlreport._DATA_URI, PNG)
