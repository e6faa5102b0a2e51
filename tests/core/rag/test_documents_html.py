"""HTML reads as a browser lays it out: inline tags stay inside their sentence, blocks start new lines."""

from __future__ import annotations

import pytest

from core.rag.documents import load_bytes

PAGE = (b"<html><head><title>Rides</title><style>p{}</style></head><body><h1>Timetable</h1>"
        b"<p>The <b>Spring Ride</b> leaves <a href='#'>at\n   nine</a>.<br>Bring <i>water</i>.</p><!-- a comment -->"
        b"<ul><li>Seat one</li><li>Seat two</li></ul><pre>line 1\n  line 2</pre></body></html>")


@pytest.mark.parametrize("expected", [
    "The Spring Ride leaves at nine.\nBring water.",  # inline tags inside the sentence, <br> a line break
    "Timetable\n\nThe Spring Ride",  # a heading, then a paragraph
    "Seat one\nSeat two",  # list items on their own lines
    "line 1\n  line 2",  # <pre> keeps its layout
])
def test_inline_tags_do_not_split_sentences(expected):
    assert expected in load_bytes("rides.html", PAGE).text


def test_comments_scripts_and_styles_are_not_text():
    text = load_bytes("rides.html", PAGE).text
    assert "a comment" not in text and "p{}" not in text
