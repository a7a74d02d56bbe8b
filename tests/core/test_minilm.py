"""cfusion's plain-torch MiniLM equals transformers' BertModel on the same weights (the oracle, a test dependency)."""

import pytest
import torch

from cfusion.core.minilm import load_minilm
from cfusion.core.tokenizer import RequestTokenizer, minilm_path


def test_minilm_matches_transformers_bert_on_padded_batches():
    transformers = pytest.importorskip("transformers")
    ours = load_minilm().eval()
    ref = transformers.BertModel.from_pretrained(str(minilm_path()), add_pooling_layer=False).float().eval()
    texts = ["find all txt files under /tmp", "delete empty directories", "count lines in *.PDF files recursively now"]
    seqs = RequestTokenizer(64).encode_batch(texts)
    g = torch.Generator().manual_seed(0)
    seqs.append(torch.randint(1000, 30000, (37,), generator=g).tolist())  # odd length, random ids
    S = max(map(len, seqs))
    ids = torch.zeros(len(seqs), S, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    lens = torch.tensor([len(s) for s in seqs])
    mask = (torch.arange(S)[None] < lens[:, None]).long()
    with torch.no_grad():
        a = ours(ids, lens)
        b = ref(input_ids=ids, attention_mask=mask).last_hidden_state
    for i, n in enumerate(lens.tolist()):  # padded positions are not compared: nothing reads them
        torch.testing.assert_close(a[i, :n], b[i, :n], rtol=1e-4, atol=1e-4)


def test_minilm_dropout_only_in_training():
    m = load_minilm()
    ids, lens = torch.tensor([[101, 7592, 2088, 102]]), torch.tensor([4])
    with torch.no_grad():
        m.eval()
        torch.testing.assert_close(m(ids, lens), m(ids, lens))
        m.train()
        assert not torch.allclose(m(ids, lens), m(ids, lens))
