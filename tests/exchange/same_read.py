"""The check two ways of reading a file share: the same FileRead, field by field, frames compared by pandas."""

from __future__ import annotations

import pandas as pd

from analyzer.exchange.normalise import FileRead


def assert_same_read(actual: FileRead, expected: FileRead) -> None:
    assert actual.records == expected.records
    assert [(d.line, d.message) for d in actual.damage] == [(d.line, d.message) for d in expected.damage]
    assert list(actual.batches) == list(expected.batches)
    for name, batch in expected.batches.items():
        other = actual.batches[name]
        assert (other.count, other.type_names, other.lossy) == (batch.count, batch.type_names, batch.lossy)
        assert other.problems == batch.problems
        pd.testing.assert_frame_equal(other.frame(), batch.frame())
