from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from execsim.data import schema


def test_numpy_dtype_and_arrow_schema_have_the_same_fields_and_types() -> None:
    assert schema.FIELD_NAMES == tuple(schema.ARROW_SCHEMA.names)
    for name in schema.FIELD_NAMES:
        np_type = schema.EVENT_DTYPE[name]
        assert schema.ARROW_SCHEMA.field(name).type.to_pandas_dtype() == np_type.type


def test_events_round_trip_through_arrow() -> None:
    ev = schema.empty_events(3)
    ev["ts_event"] = [1, 2, 3]
    ev["kind"] = [schema.K_ADD, schema.K_TRADE, schema.K_SET_LEVEL]
    ev["side"] = [1, -1, 0]
    ev["price"] = [100, 101, -5]
    ev["qty"] = [1, 2**40, 0]
    ev["flags"] = [schema.F_LAST, schema.F_SNAPSHOT | schema.F_LAST, 0]
    back = schema.events_from_arrow(schema.events_to_arrow(ev))
    assert back.dtype == schema.EVENT_DTYPE
    assert np.array_equal(back, ev)


def test_wrong_inputs_are_rejected_with_the_reason() -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        schema.events_to_arrow(np.zeros(2))
    with pytest.raises(ValueError, match="missing column"):
        schema.events_from_arrow(pa.table({"ts_event": [1]}))


def test_flags_are_distinct_bits() -> None:
    flags = [
        schema.F_LAST,
        schema.F_SNAPSHOT,
        schema.F_HIDDEN,
        schema.F_CROSS,
        schema.F_REVEAL,
        schema.F_SYNTHETIC,
    ]
    assert all(f & (f - 1) == 0 for f in flags)
    assert len(set(flags)) == len(flags)
