"""The comparison the vector tests rely on can fail."""

from decimal import Decimal

import pytest

from support import canonical, loads


@pytest.mark.parametrize("got,want,equal", [
    ({"a": 1}, '{"a": 1}', True),
    ({"a": 1}, '{"a": 1.0}', True),
    ({"a": Decimal("0.95")}, '{"a": 0.950}', True),
    ({"a": 1}, '{"a": true}', False),
    ({"a": True}, '{"a": 1}', False),
    ({"a": 1}, '{"a": "1"}', False),
    ({"a": 1}, '{"a": 2}', False),
    ({"a": 1}, '{"a": 1, "b": null}', False),
    ([1, 2], "[2, 1]", False),
    ({"a": 1, "trace": [1]}, '{"a": 1}', True),
    ({"error": {"code": "X", "message": "m"}}, '{"error": {"code": "X", "message": "n"}}', True),
    ({"error": {"code": "X", "message": "m"}}, '{"error": {"code": "Y", "message": "m"}}', False),
])
def test_canonical(got, want, equal) -> None:
    assert (canonical(got) == canonical(loads(want))) is equal
