"""Int8 products on the CPU: each layer stays within its quantisation error of the fp32 layer on odd shapes, every
linear layer of a model is replaced, and the shipped model answers well-known requests as it does in fp32."""

import pytest
import torch
from torch import nn

from cfusion.core.bundle import CpuSettings, installed_model, load_model
from cfusion.core.int8 import Int8Linear, fast, quantize_linears, supported
from cfusion.errors import CheckpointError
from cfusion.pipeline.generator import Generator, load_recall

pytestmark = pytest.mark.skipif(not supported(), reason="this torch build has no int8 matrix product on the CPU")


@pytest.mark.parametrize("shape", [(1, 13, 5), (7, 13, 33), (3, 47, 123, 64)])
@pytest.mark.parametrize("bias", [True, False])
def test_int8_linear_is_within_its_rounding_error(shape, bias):
    torch.manual_seed(sum(shape))
    *lead, d_in, d_out = shape
    linear = nn.Linear(d_in, d_out, bias=bias)
    x = torch.randn(*lead, d_in) * torch.rand(*lead, 1) * 5  # rows of different ranges
    want = linear(x)
    got = Int8Linear(linear)(x)
    assert got.shape == want.shape and got.dtype == torch.float32
    # Each product term is off by at most half a step of x's row scale times |w|, and the converse: bound the sum.
    sx = x.abs().amax(-1, keepdim=True) / 127
    sw = linear.weight.abs().amax(1) / 127
    w = linear.weight.detach()
    bound = 0.5 * (sx * w.abs().sum(1) + x.abs().sum(-1, keepdim=True) * sw) + 0.25 * sx * sw * d_in
    assert ((got - want).abs() <= bound + 1e-5).all()
    assert (got - want).abs().max() > 0  # it does round: this is not the fp32 layer in disguise


def test_a_zero_row_stays_zero():
    linear = nn.Linear(8, 4, bias=False)
    assert Int8Linear(linear)(torch.zeros(2, 8)).abs().max() == 0


def test_quantize_linears_replaces_every_linear_layer():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8)), nn.Linear(8, 2))
    assert quantize_linears(net) == 3
    assert not any(type(m) is nn.Linear for m in net.modules())
    assert net(torch.randn(5, 4)).shape == (5, 2)


@pytest.fixture(scope="module")
def shipped():
    def make(int8: bool) -> Generator:
        model, tok, folder = load_model(installed_model("bash"))
        memory, reranker, sketch = load_recall(folder, model.minilm)
        return Generator(model, tok, memory=memory, reranker=reranker, sketch=sketch, int8=int8)

    return make(False), make(True)


@pytest.mark.skipif(
    not fast(), reason="this CPU has no int8 dot products: gen keeps float32 here (and int8 would take minutes)"
)
def test_the_shipped_model_in_int8_answers_as_in_fp32(shipped):
    fp32, int8 = shipped
    assert int8.int8 and not fp32.int8
    assert not any(type(m) is nn.Linear for m in int8.model.modules())
    requests = ["delete empty directories under /tmp", "show disk usage of the home directory", "print the hostname"]
    a = fp32.generate(requests, "bash", k=5)
    b = int8.generate(requests, "bash", k=5)
    assert [x[0].code for x in a] == [x[0].code for x in b]
    # The model alone, without recall to lean on, still writes the same utilities.
    a = fp32.generate(requests, "bash", k=5, recall=0)
    b = int8.generate(requests, "bash", k=5, recall=0)
    assert [x[0].code.split()[0] for x in a] == [x[0].code.split()[0] for x in b]


def test_int8_is_used_only_where_the_cpu_multiplies_int8_in_hardware():
    # Without VNNI or AMX (AVX2 alone), torch._int_mm is ~50x slower than a float32 product: 19 s an answer.
    assert not fast(set()) and not fast({"avx2", "avx512f", "avx512bw"})
    assert fast({"avx2", "avx512_vnni"}) and fast({"avx_vnni"}) and fast({"amx_int8"})


def test_the_cli_keeps_float32_on_a_cpu_without_int8_instructions(monkeypatch):
    from cfusion.cli import common
    from cfusion.core import int8

    folder = installed_model("bash")
    assert CpuSettings.load(folder).int8  # the folder asks for int8 ...
    monkeypatch.setattr(torch, "set_grad_enabled", lambda mode: None)  # loading turns gradients off process-wide
    monkeypatch.setattr(int8, "cpu_flags", lambda: {"avx2", "fma"})
    g, _, cpu = common._load(folder, "cpu", "torch", False)
    assert not g.int8 and any(type(m) is nn.Linear for m in g.model.modules())  # ... this CPU does not get it
    assert cpu.steps_for(g.int8) == 2  # and runs the steps chosen for float32
    monkeypatch.setattr(int8, "cpu_flags", lambda: {"avx2", "avx512_vnni"})
    g, _, cpu = common._load(folder, "cpu", "torch", False)
    assert g.int8 and not any(type(m) is nn.Linear for m in g.model.modules())
    assert cpu.steps_for(g.int8) == CpuSettings.load(folder).steps == 2


def test_cpu_settings_come_from_the_model_folder(tmp_path):
    assert CpuSettings.load(tmp_path) == CpuSettings()  # none: the GPU's steps, float32
    (tmp_path / "cpu.json").write_text('{"steps": 3, "int8": true, "tuned_on": "dev"}')
    assert CpuSettings.load(tmp_path) == CpuSettings(3, True, tuned_on="dev")
    assert CpuSettings.load(tmp_path).steps_for(False) == 3  # no fp32_steps: the same steps either way
    (tmp_path / "cpu.json").write_text('{"steps": 3, "int8": true, "fp32_steps": 2}')
    assert [CpuSettings.load(tmp_path).steps_for(x) for x in (True, False)] == [3, 2]
    for bad in ('{"steps": 0}', '{"int8": "yes"}', '{"stpes": 3}', "[1", '{"fp32_steps": 0}', '{"fp32_steps": true}'):
        (tmp_path / "cpu.json").write_text(bad)
        with pytest.raises(CheckpointError, match=r"(bad CPU settings|invalid JSON) in .*cpu\.json"):
            CpuSettings.load(tmp_path)
