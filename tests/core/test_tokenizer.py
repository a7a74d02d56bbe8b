import pytest

from cfusion.core.tokenizer import MASK_ID, PAD_ID, CodeTokenizer, RequestTokenizer, choose_max_len
from cfusion.errors import CheckpointError

CORPUS = [
    "find . -name '*.PDF' -delete",
    "ls -la /var/log | grep Makefile",
    "tar -czf backup.tar.gz ~/Documents",
    "delete every PDF file in the Downloads folder",
] * 5


def test_code_tokenizer_is_lossless_and_keeps_case(tmp_path):
    tok = CodeTokenizer.train(CORPUS, 300)
    for text in ["find /var/log -name '*.PDF'", "cp Makefile MAKEFILE.bak", "echo 'héllo wörld' | wc -c"]:
        assert tok.decode(tok.encode(text)) == text
    tok.save(tmp_path)
    again = CodeTokenizer.load(tmp_path)
    assert again.encode("ls *.PDF") == tok.encode("ls *.PDF") and again.vocab_size == tok.vocab_size


def test_special_tokens_have_fixed_ids():
    tok = CodeTokenizer.train(CORPUS, 300)
    assert tok.encode("<pad>") == [PAD_ID] and tok.encode("ls <mask> -l").count(MASK_ID) == 1
    assert tok.decode([PAD_ID, *tok.encode("ls"), PAD_ID]) == "ls"


def test_missing_or_corrupt_tokenizer_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no code tokenizer"):
        CodeTokenizer.load(tmp_path)
    (tmp_path / "code_tokenizer.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt code tokenizer"):
        CodeTokenizer.load(tmp_path)


def test_choose_max_len_covers_99_percent():
    lengths = list(range(1, 1001))  # 1..1000 tokens
    n = choose_max_len(lengths)
    assert n % 8 == 0
    covered = sum(L + 1 <= n for L in lengths) / len(lengths)  # +1: room for the closing pad
    assert covered >= 0.99 and sum(L + 1 <= n - 8 for L in lengths) / len(lengths) < 0.99


def test_request_tokenizer_does_not_pad_and_truncates_keeping_sep():
    tok = RequestTokenizer(max_len=6)
    short, long = tok.encode_batch(["list files", "one two three four five six seven eight"])
    assert short[0] == 101 and short[-1] == 102 and len(short) == 4  # [CLS] list files [SEP], no padding to 128
    assert len(long) == 6 and long[-1] == 102
    assert tok.encode_batch(["LIST Files"]) == tok.encode_batch(["list files"])  # uncased: why literals need a stream
