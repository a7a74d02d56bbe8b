"""The dev splits: fixed by their seed, disjoint from what they are carved from, and independent of input order."""

import random

import pytest

from cfusion.data.codefusion import import_codefusion
from cfusion.data.pairs import Pair
from cfusion.data.splits import dev_split, heldout_pages, page, split_pages


def pairs(n: int) -> list[Pair]:
    return [Pair(f"request {i}", f"echo {i}", "bash", str(i)) for i in range(n)]


def test_dev_split_is_seeded_disjoint_and_order_free():
    data = pairs(500)
    rest, dev = dev_split(data, n=50, seed=3)
    assert len(dev) == 50 and len(rest) == 450 and not {p.id for p in rest} & {p.id for p in dev}
    assert [p.id for p in dev] == sorted((p.id for p in dev), key=int)  # input order kept
    shuffled = data[:]
    random.Random(0).shuffle(shuffled)
    assert {p.id for p in dev_split(shuffled, n=50, seed=3)[1]} == {p.id for p in dev}
    assert {p.id for p in dev_split(data, n=50, seed=4)[1]} != {p.id for p in dev}
    # a pair added beside the others does not move the rest in or out (membership is by hash, up to the cut)
    grown = dev_split(data + pairs(510)[500:], n=50, seed=3)[1]
    assert len({p.id for p in grown} & {p.id for p in dev}) >= 40
    with pytest.raises(ValueError, match="distinct"):
        dev_split(data + data[:1], n=10)


def test_bash_dev_split_of_the_codefusion_train_split(shared_data):
    train = import_codefusion(shared_data / "codefusion" / "BashBenchmarks.json", "train")
    rest, dev = dev_split(train)
    assert (len(rest), len(dev)) == (9085, 1000)
    assert dev[0].id == "2" and dev[-1].id == "10071"  # fixed forever: tuning results refer to this split


def test_pages_and_heldout_pages():
    assert page(Pair("x", "tar -xf a.tar", "bash", "tldr/common/tar:3")) == "tar"
    assert page(Pair("x", "tar -xf a.tar", "bash", "cheat/tar:12")) == "tar"
    assert page(Pair("x", "ls", "bash", "417")) is None
    names = [f"tool{i}" for i in range(2000)]
    held = heldout_pages(names, share=0.1, seed=1)
    assert 150 < len(held) < 250 and held == heldout_pages(reversed(names), share=0.1, seed=1)
    assert heldout_pages(names[:100], share=0.1, seed=1) == held & set(names[:100])
    docs = [Pair("d", "c", "bash", f"tldr/common/{n}:0") for n in names[:300]] + [Pair("n", "ls", "bash", "7")]
    rest, out = split_pages(docs, held)
    assert {page(p) for p in out} == held & set(names[:300]) and rest[-1].id == "7"
    assert len(rest) + len(out) == len(docs)
