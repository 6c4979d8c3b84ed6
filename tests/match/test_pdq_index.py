import numpy as np
import pytest

from haris.match.pdq_index import PDQIndex, Plan, brute_force_search, choose_plan, codes_from_hex


def near(rng, codes, n, max_flips):
    """n queries, each a random row with up to max_flips random bits flipped."""
    rows = rng.integers(0, len(codes), n)
    out = codes[rows].copy()
    for q in out:
        bits = np.unpackbits(q)
        flip = rng.choice(256, int(rng.integers(0, max_flips + 1)), replace=False)
        bits[flip] ^= 1
        q[:] = np.packbits(bits)
    return out


def as_set(qid, ids, dist):
    return set(zip(qid.tolist(), ids.tolist(), dist.tolist()))


@pytest.mark.parametrize("t", [0, 10, 31, 40])
@pytest.mark.parametrize("m", [12, 13, 16, 20])
def test_every_plan_covers_the_distance_by_pigeonhole(m, t):
    plan = Plan.for_distance(m, t)
    assert sum(plan.widths) == 256
    # A row at distance t+1 or more would need every searched chunk to differ by more than its radius.
    assert sum(r + 1 for r in plan.radii if r >= -1) > t


@pytest.mark.parametrize("n, t", [(3000, 31), (40_000, 31), (40_000, 12), (40_000, 45)])
def test_search_equals_brute_force(n, t):
    rng = np.random.default_rng(n + t)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    # Near-duplicates at every distance up to t (and a little beyond), plus random queries.
    queries = np.concatenate([near(rng, codes, 300, t + 4), rng.integers(0, 256, (100, 32), dtype=np.uint8)])
    ids = np.arange(n, dtype=np.int64) * 7 + 3
    index = PDQIndex.build(codes, ids, max_distance=t)
    qid, got_ids, dist = index.search(queries)
    g_q, g_rows, g_d = brute_force_search(codes, queries, t)
    assert as_set(qid, got_ids, dist) == as_set(g_q, ids[g_rows], g_d)
    assert len(g_q) >= 200      # the test really exercises matches (most near-duplicates are within t)


def test_multi_index_is_used_for_large_banks_and_flat_for_small():
    assert choose_plan(1000, 31) is None
    plan = choose_plan(1_000_000, 31)
    assert plan is not None and 12 <= len(plan.widths) <= 16
    # Cheaper than FAISS's 16 x 16-bit tables probed at radius 1 on random hashes.
    assert plan.expected_candidates(1_000_000) < 16 * 17 * 1_000_000 / 65536


def test_lower_distance_at_query_time_and_higher_refused():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (30_000, 32), dtype=np.uint8)
    index = PDQIndex.build(codes, max_distance=31)
    queries = near(rng, codes, 200, 31)
    qid, ids, dist = index.search(queries, max_distance=8)
    assert as_set(qid, ids, dist) == as_set(*brute_force_search(codes, queries, 8))
    with pytest.raises(ValueError, match="built for distance"):
        index.search(queries, max_distance=40)


def test_add_remove_compact_save_load(tmp_path):
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 256, (30_000, 32), dtype=np.uint8)
    index = PDQIndex.build(codes[:25_000], np.arange(25_000))
    index.add(codes[25_000:], np.arange(25_000, 30_000))          # goes to the delta segment
    index.remove([3, 25_003])
    queries = codes[[1, 3, 25_001, 25_003]]
    found = index.search_hex([q.tobytes().hex() for q in queries])
    assert found[0][0] == (1, 0) and found[2][0] == (25_001, 0)
    assert found[1] == [] and found[3] == []
    assert len(index) == 29_998

    index.meta = {"version": 4}
    index.save(tmp_path / "ix")
    loaded = PDQIndex.load(tmp_path / "ix")
    assert loaded.meta == {"version": 4} and len(loaded) == 29_998
    assert loaded.search_hex([q.tobytes().hex() for q in queries]) == found
    loaded.compact()
    assert loaded.kind == "mih" and len(loaded) == 29_998
    assert loaded.search_hex([q.tobytes().hex() for q in queries]) == found
    mapped = PDQIndex.load(tmp_path / "ix", mmap=True)
    assert mapped.search_hex([q.tobytes().hex() for q in queries]) == found


def test_big_delta_is_merged_into_the_main_index():
    rng = np.random.default_rng(8)
    index = PDQIndex(31)
    index.add(rng.integers(0, 256, (25_000, 32), dtype=np.uint8), np.arange(25_000))
    assert index.kind == "mih" and len(index._delta_ids) == 0


def test_threads_give_the_same_answer():
    rng = np.random.default_rng(9)
    codes = rng.integers(0, 256, (30_000, 32), dtype=np.uint8)
    queries = near(rng, codes, 600, 31)
    one = PDQIndex.build(codes, threads=1).search(queries)
    two = PDQIndex.build(codes, threads=2).search(queries)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))


def test_codes_from_hex_rejects_bad_hashes():
    assert codes_from_hex(["00" * 32]).shape == (1, 32)
    with pytest.raises(ValueError, match="hash 1"):
        codes_from_hex(["00" * 32, "zz" * 32])
    with pytest.raises(ValueError):
        codes_from_hex(["00" * 31])


def test_expected_candidates_formula():
    plan = Plan.for_distance(16, 31)
    assert plan.probes == 16 * (1 + 16)
    assert plan.expected_candidates(65536) == pytest.approx(16 * 17)
