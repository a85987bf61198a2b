"""The graph walk's visited states: a compact table of 64-bit fingerprints with a sleep set
beside each, answering as the dict it replaces, at a fraction of its bytes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import explore
from explorer._engine import model_graph
from explorer._engine.fingerprint_set import FingerprintSet

from .test_bench_spin import bench

# Every 64-bit value but -2**63, where the table keeps 0 (those two collide, as two states
# with one fingerprint do); small ones share their first slots.
FINGERPRINTS = st.one_of(st.integers(-(2 ** 63) + 1, 2 ** 63 - 1), st.sampled_from([0, 1, -1, 2 ** 63 - 1]),
                         st.integers(0, 40))


@pytest.mark.parametrize("threads", [3, 8, 16, 33, 64, 65])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_fingerprint_set_answers_every_lookup_as_a_dict_would_through_its_growth(threads, data):
    table, model = FingerprintSet(threads=threads, capacity=16), {}
    masks = st.integers(0, 2 ** threads - 1)
    for fingerprint, mask in data.draw(st.lists(st.tuples(FINGERPRINTS, masks), max_size=300)):
        table[fingerprint] = mask
        model[fingerprint] = mask
        probe = data.draw(FINGERPRINTS)
        assert table.get(probe) == model.get(probe)
    assert len(table) == len(model)
    assert all(table.get(fingerprint) == mask for fingerprint, mask in model.items())
    assert sorted(table) == sorted(model)


def test_the_graph_walk_stores_a_state_in_a_fraction_of_what_exact_keys_take_once_it_has_many(monkeypatch):
    # seven philosophers sharing a meals counter, as benchmarks/bench_spin.py has them; the
    # walk moves its states to the compact table after its first thousand, mid-walk
    monkeypatch.setattr(model_graph, "COMPACT_AT", 1000)
    scenario = bench.scenario(bench.Row("philosophers-7", "philosophers", 7))
    compact = explore(scenario, strategy="stateful")
    exact = explore(scenario, strategy="stateful", exact_states=True)
    assert compact.states == exact.states > 15_000
    assert set(compact.final_states) == set(exact.final_states)
    # 8 bytes of fingerprint and 1 of sleep set per slot, at most two thirds full, plus the
    # walk's tables of parts, local states and summaries that every state shares (here 56
    # bytes in all, 525 with exact keys, 109 with a dict of fingerprints)
    assert compact.bytes_per_state < exact.bytes_per_state / 4
