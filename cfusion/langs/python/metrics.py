"""Python's benchmark metrics: corpus BLEU and CodeBLEU of the top-1 predictions, several references each."""

from __future__ import annotations

from cfusion.langs.base import check_refs


def bleu(preds: list[str], refs: list[list[str]]) -> float:
    """Corpus BLEU (0-100) by sacrebleu with its default '13a' tokenizer, which splits code punctuation from words.

    refs[i] holds the references of preds[i]; their number may vary per prediction.
    """
    import sacrebleu  # only BLEU needs it

    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} predictions but {len(refs)} reference lists")
    if not preds:
        return 0.0
    for r in refs:
        check_refs(r)
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(max(map(len, refs)))]
    return float(sacrebleu.corpus_bleu(preds, streams).score)


def codebleu(preds: list[str], refs: list[list[str]], lang: str = "python") -> float:
    """CodeBLEU (0-100, equal weights) by the codebleu package; refs[i] holds the references of preds[i].

    As in the reference implementation, a snippet shorter than n whitespace tokens still adds 1 to the n-gram
    precision's denominator, so even identical one-liners can score below 100.
    """
    from codebleu import calc_codebleu  # only CodeBLEU needs it

    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} predictions but {len(refs)} reference lists")
    if not preds:
        return 0.0
    return 100 * float(calc_codebleu(refs, preds, lang=lang)["codebleu"])
