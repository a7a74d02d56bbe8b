"""The value tagger's tags: from char spans to token tags and back, on MiniLM's real token offsets."""

import torch

from cfusion.core.tagger import B, I, O, ValueTagger, labels, spans
from cfusion.core.tokenizer import RequestTokenizer


def offsets(text: str) -> list[tuple[int, int]]:
    return RequestTokenizer(128).encode_offsets([text])[1][0]


def test_spans_round_trip_through_token_tags():
    text = "Color cells equal to On Hold or FB, not Zürich-Nord"
    gold = [(text.index(v), text.index(v) + len(v)) for v in ("On Hold", "FB", "Zürich-Nord")]
    off = offsets(text)
    tags = labels(off, gold)
    assert tags[0] == O and tags[-1] == O  # [CLS] and [SEP]
    assert tags.count(B) == 3 and I in tags
    assert spans(text, off, tags) == gold


def test_adjacent_values_stay_apart_and_a_tagged_piece_tags_its_word():
    text = "match Alpha Beta"
    off = offsets(text)
    a, b = (text.index("Alpha"), text.index("Alpha") + 5), (text.index("Beta"), len(text))
    assert spans(text, off, labels(off, [a, b])) == [a, b]
    assert spans(text, off, labels(off, [(a[0], b[1])])) == [(a[0], b[1])]
    pieces = offsets("cells with Zmianaxyz")  # several word pieces
    tags = [O] * len(pieces)
    tags[-2] = B  # one piece inside the word
    assert spans("cells with Zmianaxyz", pieces, tags) == [(11, 20)]


def test_offsets_follow_ids_when_a_request_is_cut():
    tok = RequestTokenizer(8)
    text = "one two three four five six seven eight nine"
    (ids,), (offsets,) = tok.encode_offsets([text])
    assert ids == tok.encode_batch([text])[0] and len(offsets) == 8
    assert offsets[-1] == (0, 0)  # [SEP] kept last


def test_the_cut_trades_recall_for_precision():
    tagger = ValueTagger(4)
    with torch.no_grad():
        tagger.net[2].weight.zero_()
        tagger.net[2].bias.copy_(torch.tensor([0.0, 0.4, 0.0]))  # P(O) = 0.31, P(B) = 0.46
    states = torch.zeros(1, 3, 4)
    assert tagger.tags(states, 0.5).tolist() == [[B, B, B]]
    assert tagger.tags(states, 0.8).tolist() == [[O, O, O]]
    assert int(tagger.trained) == 0
