import pytest

from cfusion import langs
from cfusion.langs import Rules
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.generator import answers
from cfusion.pipeline.rank import RankWeights, consensus_weights, rank


def cand(code, score, votes=1, valid=True):
    return Candidate(code, score, votes, valid)


def test_the_consensus_template_beats_a_confident_outlier():
    cands = [
        cand("ls -la", -0.1),
        cand("find . -name '*.txt'", -0.3),
        cand("find /tmp -name a", -0.4),
        cand("find . -name b -print", -0.5),
    ]
    ranked = [c.code for c in rank(cands, "bash")]
    # Three samples agree on `find -name`; the best-scoring of the two closest to all of them comes first, and the
    # rest keep their score order.
    assert ranked == ["find . -name '*.txt'", "ls -la", "find /tmp -name a", "find . -name b -print"]


def test_votes_weigh_in_the_consensus():
    cands = [cand("du -sh .", -0.1), cand("ls -l", -0.2, votes=3), cand("wc -l", -0.3)]
    assert rank(cands, "bash")[0].code == "ls -l"


def test_an_invalid_candidate_never_comes_first_when_a_valid_one_exists():
    cands = [
        cand("find . -name", -0.5, votes=1, valid=True),
        cand("find . -name 'x' (", -0.1, votes=3, valid=False),
        cand("find . -name 'y' (", -0.2, votes=3, valid=False),
    ]
    ranked = rank(cands, "bash")
    assert ranked[0].valid and [c.valid for c in ranked] == [True, False, False]


def test_the_samples_share_is_split_by_their_votes():
    w = RankWeights()
    five = [cand("ls -la", -0.1, votes=3), cand("ls -l", -0.2, votes=2)]
    ten = [cand("ls -la", -0.1, votes=6), cand("ls -l", -0.2, votes=4)]
    assert consensus_weights(five, w) == pytest.approx(consensus_weights(ten, w))
    assert consensus_weights(five, w) == pytest.approx([0.6 * w.sample, 0.4 * w.sample])


def test_agreeing_samples_overrule_a_close_reranker_call():
    def recalled(code, rerank):
        return Candidate(code, None, 0, True, similarity=0.7, known="k", rerank=rerank)

    close = [recalled("du -sh /tmp", 0.0), recalled("ls -la /tmp", 0.3)]
    assert rank(close, "bash")[0].code == "ls -la /tmp"  # the reranker leans to `ls`
    # five samples of `du -sh .` carry SAMPLE_WEIGHT between them; five votes of weight 1 (before) did not tip it
    voted = [cand("du -sh .", -0.1, votes=5), *close]
    assert rank(voted, "bash")[0].code == "du -sh /tmp"


def test_other_languages_keep_validity_then_score():
    cands = [cand("x = 1", -0.1), cand("print(a)", -0.2, votes=3), cand("print(a", -0.05, valid=False)]
    assert [c.code for c in rank(cands, "python")] == ["x = 1", "print(a)", "print(a"]


def known(code, similarity, valid=True, votes=0, score=None):
    return Candidate(code, score, votes, valid, similarity, f"a request for {code}")


def test_recalled_pairs_weigh_by_similarity_in_the_consensus():
    cands = [
        cand("ls -la", -0.1, votes=2),
        known("find . -name '*.txt' -print", 0.80),
        known("find /tmp -name '*.log'", 0.78),
        known("du -sh", 0.60),
    ]
    ranked = rank(cands, "bash")
    # Two close known requests agree on `find -name`: 3 x 0.8 + 3 x 0.78 outweighs two samples of `ls -la`. The rest
    # are recalled ones by similarity, then sampled ones.
    assert [c.code for c in ranked] == ["find . -name '*.txt' -print", "find /tmp -name '*.log'", "du -sh", "ls -la"]
    assert [c.source for c in ranked] == ["memory", "memory", "memory", "model"]


def test_a_sample_between_recalled_templates_votes_but_does_not_answer_first():
    # `tail data.csv | head -` agrees with both recalled commands and with the samples like it, so the consensus
    # would pick it; a sample answers first only when no recalled command is valid.
    cands = [
        cand("tail data.csv | head -", -0.01, votes=2),
        cand("tail -f data. | head", -0.02, votes=2),
        known("head data.csv", 0.72),
        known("tail data.csv", 0.63),
    ]
    ranked = rank(cands, "bash")
    assert ranked[0].code == "head data.csv" and ranked[0].source == "memory"
    invalid = [cands[0], cands[1], known("head data.csv (", 0.72, valid=False), known("tail data.csv (", 0.63, False)]
    assert rank(invalid, "bash")[0].source == "model"


def test_a_near_identical_known_request_answers_as_it_stands():
    cands = [cand("ls -la", -0.1, votes=5), known("ls -l | wc -l", 0.96), known("ls", 0.5)]
    assert rank(cands, "bash")[0].code == "ls -l | wc -l"
    cands[1].similarity = 0.94  # below SAME_REQUEST: the consensus, where five votes for `ls -la` pull toward `ls`
    assert rank(cands, "bash")[0].code == "ls"


def test_a_known_request_of_the_same_shape_answers_with_the_request_s_literals():
    def recalled(code, sim, known):
        return Candidate(code, None, 0, True, similarity=sim, known=known)

    cands = [
        cand("cat data.csv | head -1", -0.1, votes=5),
        recalled("cat file | head -1", 0.75, "Print the first line of 'file'"),
        recalled("head -n 10 file.txt", 0.69, "Show the first 10 lines of file.txt"),
    ]
    top = answers(cands, "show the first 20 lines of data.csv", "bash", 1)[0]
    assert top.code == "head -n 20 data.csv" and top.adapted_from == "head -n 10 file.txt"
    other = answers(cands, "show the first line of data.csv", "bash", 1)[0]  # no known request of its shape
    assert other.code == "cat data.csv | head -1"


def test_a_candidate_both_sampled_and_recalled_says_so():
    c = known("ls -la", 0.7, votes=2, score=-0.2)
    out = c.to_json()
    assert out["source"] == "both" and out["votes"] == 2 and out["similarity"] == 0.7 and out["known"]
    assert cand("ls", -0.1).to_json()["source"] == "model" and "similarity" not in cand("ls", -0.1).to_json()


def test_the_reranker_weighs_in_the_consensus():
    def recalled(code, sim, rerank=None):
        return Candidate(code, None, 0, True, similarity=sim, known="k", rerank=rerank)

    plain = [recalled("du -sh /tmp", 0.80), recalled("ls -la /tmp", 0.78)]
    assert rank(plain, "bash")[0].code == "du -sh /tmp"  # similarity decides
    reranked = [recalled("du -sh /tmp", 0.80, rerank=-2.0), recalled("ls -la /tmp", 0.78, rerank=1.0)]
    assert rank(reranked, "bash")[0].code == "ls -la /tmp"  # the reranker overrules a close call
    voted = [cand("du -sh /tmp", -0.1, votes=5), *reranked]  # a sampled candidate has no reranker score
    assert voted[0].rerank is None and rank(voted, "bash")[0].code == "ls -la /tmp"
    sure = [recalled("du -sh /tmp", 0.96, rerank=-2.0), recalled("ls -la /tmp", 0.78, rerank=1.0)]
    assert rank(sure, "bash")[0].code == "du -sh /tmp"  # a known request stands (>= 0.95)


def test_an_extra_pair_answers_only_where_the_main_pairs_score_far_below_it():
    w = RankWeights(extra_penalty=0.5)

    def recalled(code, rerank, extra=False):
        return Candidate(code, None, 0, True, similarity=0.7, known="k", rerank=rerank, extra=extra)

    close = [recalled("du -sh /tmp", 0.0), recalled("ls -la /tmp", w.extra_penalty / 2, extra=True)]
    assert rank(close, "bash", w)[0].code == "du -sh /tmp"  # would win as a main pair
    assert rank(close, "bash", RankWeights(extra_penalty=0.0))[0].code == "ls -la /tmp"  # no penalty: it does
    plain = [recalled("du -sh /tmp", 0.0), recalled("ls -la /tmp", w.extra_penalty / 2)]
    assert rank(plain, "bash", w)[0].code == "ls -la /tmp"
    far = [recalled("du -sh /tmp", 0.0), recalled("ls -la /tmp", w.extra_penalty + 2.0, extra=True)]
    assert rank(far, "bash", w)[0].code == "ls -la /tmp"
    assert far[1].to_json()["extra"] is True and "extra" not in far[0].to_json()


def test_a_rare_word_shared_with_the_request_tips_the_consensus():
    def recalled(code, sim, shared=0.0):
        return Candidate(code, None, 0, True, similarity=sim, known="k", shared=shared)

    plain = [recalled("find . -type d", 0.80), recalled("find . -name 'm?' -exec ./fixmbox {} +", 0.70)]
    assert rank(plain, "bash")[0].code == "find . -type d"  # similarity decides
    named = [recalled("find . -type d", 0.80), recalled("find . -name 'm?' -exec ./fixmbox {} +", 0.70, shared=7.0)]
    assert rank(named, "bash")[0].code == "find . -name 'm?' -exec ./fixmbox {} +"
    assert named[1].to_json()["shared"] == 7.0 and "shared" not in named[0].to_json()


def test_a_command_the_request_literals_fit_into_tips_a_close_call():
    def recalled(code, sim):
        return Candidate(code, None, 0, True, similarity=sim, known="k")

    def pool():
        return [recalled("ps -o pid= --ppid $PPID | xargs kill -9", 0.80), recalled("kill -9 1234", 0.75)]

    assert rank(pool(), "bash")[0].code.startswith("ps")
    asked = []

    def fits(code, adapted):
        asked.append(code)
        return float(code == "kill -9 1234")

    ranked = rank(pool(), "bash", rules=Rules(fits=fits))
    assert ranked[0].code == "kill -9 1234" and ranked[0].fits == 1.0 and ranked[0].to_json()["fits"] == 1.0
    assert sorted(asked) == sorted(c.code for c in pool())  # both within FITS_WEIGHT of the top
    # five samples of `kill -9` lift the top far above `du`, which agrees with nothing: it is never adapted
    far = pool() + [recalled("du -sh /tmp", 0.30), cand("kill -9 1", -0.1, votes=5)]
    asked.clear()
    assert rank(far, "bash", rules=Rules(fits=fits))[0].code == "kill -9 1234" and asked and "du -sh /tmp" not in asked


def test_a_penalised_top_lets_a_command_further_down_answer():
    """fits may be negative (a demanded effect lacking), so the top can fall: every command that could then reach it
    with a full bonus is asked, not only those within FITS_WEIGHT of the first top."""

    def recalled(code, sim):
        return Candidate(code, None, 0, True, similarity=sim, known="k")

    def pool():  # four `ls -la` agree far above `rm -r`, by more than FITS_WEIGHT but less than twice it
        return [
            recalled("ls -l /tmp", 0.9),
            *[recalled("ls -la /tmp", 0.8) for _ in range(4)],
            recalled("rm -r x", 0.85),
        ]

    assert rank(pool(), "bash")[0].code == "ls -la /tmp"
    asked = []

    def fits(code, adapted):  # what `answers` gives for `remove x`: the listings lack the deletion asked for
        asked.append(code)
        return 1.0 if code.startswith("rm") else -1.0

    assert rank(pool(), "bash", rules=Rules(fits=fits))[0].code == "rm -r x" and "rm -r x" in asked


def test_the_bonus_grows_with_the_share_of_the_request_literals_a_command_holds():
    def recalled(code, sim):
        return Candidate(code, None, 0, True, similarity=sim, known="k")

    # `source /etc/myapp` holds one of `copy config.yaml to /etc/myapp`'s two literals, `cp a.txt /etc/myapp` both
    pool = [recalled("source /etc/myapp", 0.80), recalled("cp a.txt /etc/myapp", 0.75)]
    share = {"source /etc/myapp": 0.5, "cp a.txt /etc/myapp": 1.0}
    assert rank(list(pool), "bash")[0].code == "source /etc/myapp"
    ranked = rank(list(pool), "bash", rules=Rules(fits=lambda code, adapted: share[code]))
    assert ranked[0].code == "cp a.txt /etc/myapp" and ranked[1].fits == 0.5
    # through `answers`, which asks adapt: both commands take the request's literals, one holds them all
    pool = [recalled("source /etc/app", 0.80), recalled("cp x.txt /tmp", 0.75)]
    pool[0].known, pool[1].known = "load /etc/app", "copy the file x.txt into /tmp"
    top = answers(pool, "copy config.yaml to /etc/myapp", "bash", 2)
    assert [c.code for c in top] == ["cp config.yaml /etc/myapp", "source /etc/myapp"]


@pytest.mark.parametrize(
    "code, want",
    [
        ("find . -name '*.jpg'", True),
        ('echo "It’s fine"', True),  # inside a quoted string a typographic quote is text
        ("find . -name “*.jpg”", False),  # parses, but the pattern holds the quotes and matches nothing
        ("sed -i ‘s/a/b/g’ f", False),
        ("find –L –xtype l", False),  # a dash set by a web page is no option
        ("find . -name", True),  # parses: what it lacks is for the consensus to weigh
        ("find . -name '*.jpg", False),  # does not parse
        ("$ ls -l", False),  # a prompt copied with the command
        ("mysqldump -u<username> -p db > db.sql", False),  # a placeholder the shell reads as a redirection
        ('git commit -m "<message>"', True),  # quoted, it is text
        ("sort <in.txt >out.txt", True),
    ],
)
def test_a_bash_command_runs_as_written_without_web_quotes_prompts_or_placeholders(code, want):
    assert langs.get("bash").usable(code) is want


def test_a_command_copied_from_a_web_page_answers_first_only_where_none_other_runs():
    def pool():
        out = [Candidate("find . -name “*.jpg”", None, 0, True, similarity=0.9, known="k")]
        return out + [Candidate("find . -name '*.png'", None, 0, True, similarity=0.6, known="k")]

    assert rank(pool(), "bash")[0].code == "find . -name “*.jpg”"  # the consensus alone picks it
    fixed = pool()
    for c in fixed:
        c.valid = langs.get("bash").usable(c.code)  # as the generator sets it
    assert [c.code for c in rank(fixed, "bash")] == ["find . -name '*.png'", "find . -name “*.jpg”"]
