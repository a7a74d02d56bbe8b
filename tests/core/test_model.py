import math

import pytest
import torch

from cfusion.core.config import ModelConfig, preset
from cfusion.core.diffusion import Schedule
from cfusion.core.model import CodeFusion, pack
from cfusion.kernels import argmax_head_ref, cross_attention_ref


def tiny(**kw) -> CodeFusion:
    torch.manual_seed(0)
    return CodeFusion(preset("tiny", **kw))


def batch(cfg: ModelConfig, B=3, S=7, n=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n or cfg.max_len
    return {
        "code_ids": torch.randint(0, cfg.vocab_size, (B, n), generator=g),
        "lit_ids": torch.randint(2, cfg.vocab_size, (B, S), generator=g),
        "lit_len": torch.tensor([S, 3, 1][:B]),
        "t": torch.randint(0, cfg.diffusion_steps, (B,), generator=g),
        "noise": torch.randn(B, n, cfg.d_latent, generator=g),
        "mem_noise": torch.randn(B, 16, cfg.d_model, generator=g),
    }


def test_presets_are_valid_and_base_has_the_papers_depth():
    for name in ("tiny", "small", "base"):
        preset(name)
    base = preset("base")
    assert (base.n_denoiser_layers, base.n_decoder_layers, base.d_model) == (10, 6, 512)


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("encoder", "gpt", "encoder"),
        ("d_model", 63, "d_model"),
        ("dropout", 1.5, "dropout"),
        ("max_code_len", {"bash": 0}, "max_code_len"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field, value, needle):
    with pytest.raises(ValueError, match=needle):
        preset("tiny", **{field: value})


def test_config_json_round_trip():
    cfg = preset("tiny")
    import json

    assert ModelConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ValueError, match="unknown ModelConfig field"):
        ModelConfig.from_dict({"d_modle": 3})


def test_forward_shapes_and_loss_terms():
    m = tiny()
    out = m(batch(m.cfg), Schedule(m.cfg.diffusion_steps))
    assert set(out) == {"loss", "diff", "dec", "ce", "tok_acc"}
    assert torch.isclose(out["loss"], out["diff"] + out["dec"] + out["ce"])
    assert out["ce"].item() == pytest.approx(math.log(m.cfg.vocab_size), rel=0.3)  # untrained: near uniform


def test_code_embedding_rows_have_a_fixed_norm():
    m = tiny()
    x0 = m.code_embed(torch.arange(10)[None])
    torch.testing.assert_close(x0.norm(dim=-1), torch.full((1, 10), math.sqrt(m.cfg.d_latent)))


def test_padded_request_tokens_do_not_change_the_output():
    """Keys past a request's length are masked: changing them changes nothing."""
    m = tiny().eval()
    b = batch(m.cfg)
    sch = Schedule(m.cfg.diffusion_steps)
    ref = m(b, sch)["loss"]
    b2 = dict(b, lit_ids=b["lit_ids"].clone())
    b2["lit_ids"][1, 3:] = 5  # row 1 has length 3
    b2["lit_ids"][2, 1:] = 7  # row 2 has length 1
    torch.testing.assert_close(m(b2, sch)["loss"], ref)
    b2["lit_ids"][1, 0] = 9  # a valid token does change it
    assert not torch.allclose(m(b2, sch)["loss"], ref)


def test_noise_memory_task_ignores_the_request():
    m = tiny().eval()
    b = batch(m.cfg)
    sch = Schedule(m.cfg.diffusion_steps)
    a = m({**b, "noise_memory": True}, sch)["loss"]
    c = m({**b, "noise_memory": True, "lit_ids": torch.zeros_like(b["lit_ids"])}, sch)["loss"]
    torch.testing.assert_close(a, c)


def test_pack_keeps_valid_prefixes_contiguous():
    a = torch.arange(2 * 4).float().view(2, 4, 1)
    b = 100 + torch.arange(2 * 3).float().view(2, 3, 1)
    out, lens = pack(a, torch.tensor([2, 4]), b, torch.tensor([3, 1]))
    assert lens.tolist() == [5, 5]
    assert out[0, :5, 0].tolist() == [0, 1, 100, 101, 102]
    assert out[1, :5, 0].tolist() == [4, 5, 6, 7, 103]


def test_cross_attention_ref_equals_an_explicit_masked_softmax():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, s, 5, generator=g) for s in (7, 11, 11))
    lens = torch.tensor([11, 4, 1])
    out = cross_attention_ref(q, k, v, lens)
    for b in range(3):
        L = lens[b]
        w = torch.softmax(q[b] @ k[b, :, :L].transpose(-1, -2) / math.sqrt(5), dim=-1)
        torch.testing.assert_close(out[b], w @ v[b, :, :L])


def test_argmax_head_ref_ties_go_to_the_lowest_index_and_scores_are_log_probs():
    w = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # rows 0 and 1 tie for h = (1, 0)
    ids, score = argmax_head_ref(torch.tensor([[1.0, 0.0], [0.0, 2.0]]), w, None)
    assert ids.tolist() == [0, 2]
    logits = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    torch.testing.assert_close(score, logits.max(-1).values - logits.logsumexp(-1))


def test_sample_returns_k_rows_per_request():
    m = tiny().eval()
    b = batch(m.cfg)
    ids, scores = m.sample(b, 12, Schedule(m.cfg.diffusion_steps), 4, 0.0, torch.Generator().manual_seed(0), k=2)
    assert ids.shape == (6, 12) and scores.shape == (6, 12) and (scores <= 0).all()


def test_a_frozen_minilm_gets_no_gradient_and_is_not_saved():
    from cfusion.core.bundle import model_state

    m = tiny(encoder="minilm", n_literal_layers=1)
    assert not any(p.requires_grad for p in m.minilm.parameters())
    assert not any(k.startswith("minilm.") for k in model_state(m))
    m.train()
    assert not m.minilm.training  # no dropout in a frozen encoder


def test_a_clamped_step_moves_toward_the_tokens_the_head_reads():
    m = tiny().eval()
    b = batch(m.cfg, B=2)
    ctx = m.prepare(b, 1)
    g = torch.Generator().manual_seed(0)
    x0_hat = torch.randn(2, 9, m.cfg.d_latent, generator=g)
    logits = m.logits(m.decoder(x0_hat, ctx["kv_d"], ctx["mem_len"]))
    want = ctx["table"][logits.argmax(-1)]
    assert torch.equal(m.read_back(x0_hat, ctx), want)
    # one DDIM step from x_t = x0_hat with c0 = 1, c1 = 0 lands on those embeddings exactly
    x, coefs = x0_hat.clone(), torch.tensor([[1.0, 0.0, 0.0]])
    step = torch.zeros(2, dtype=torch.long)
    x0 = m.denoise_step(x, ctx, torch.full((2,), 5), step, coefs, clamp=True)
    want = ctx["table"][m.logits(m.decoder(x0, ctx["kv_d"], ctx["mem_len"])).argmax(-1)]
    assert torch.allclose(x, want) and not torch.allclose(want, x0)


def test_clamped_and_plain_sampling_differ_but_share_shapes():
    m = tiny().eval()
    b = batch(m.cfg)
    sch = Schedule(m.cfg.diffusion_steps)
    a = m.sample(b, 12, sch, 6, 0.0, torch.Generator().manual_seed(0), k=2, clamp=True)
    c = m.sample(b, 12, sch, 6, 0.0, torch.Generator().manual_seed(0), k=2, clamp=False)
    assert a[0].shape == c[0].shape and not torch.equal(a[1], c[1])
