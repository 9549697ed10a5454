"""pigkit.pipeline follows diffusers' call conventions (generator=, num_images_per_prompt=, output_type=,
return_dict=, callback_on_step_end=, .to()/.device, torch_dtype=) and each element of a batch is the
pair a one-pair call with its seed gives (tests/test_pipeline.py: that pair is the CLI's, to the bit)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_export import needs_ort

from pigkit.data import image_units
from pigkit.pipeline import PigPipeline, PigPipelineOutput
from pigkit.runtime import CPU, python_ort

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"
TINY_LATENT = REPO / "public" / "models" / "tiny-latent"
STEPS = 3  # few steps: each test checks the conventions, test_pipeline.py the full runs

pytestmark = needs_ort


@pytest.fixture(scope="module")
def pipe():
    with PigPipeline.from_pretrained(TINY, providers=[CPU], threads=1) as p:
        yield p


def run(pipe, **kw):
    return pipe(num_inference_steps=STEPS, output_type="np", **kw)


def same_pair(a: PigPipelineOutput, i: int, b: PigPipelineOutput) -> bool:
    """Element i of `a` is `b`'s only pair, to the bit."""
    return (
        np.array_equal(a.labels[i], b.mask) and np.array_equal(a.pixels[i], b.image_uint8) and np.array_equal(a.raw[i], b.image)
    )


def test_a_batch_is_its_seeds_one_by_one(pipe):
    """seed=K with num_images_per_prompt=N: seeds K … K+N−1 (the CLI's --seed K --count N), each the
    pair of a one-pair call; a list of seeds gives one each, in its order."""
    out = run(pipe, seed=7, num_images_per_prompt=3)
    assert out.seeds == [7, 8, 9] and out.labels.shape == (3, 32, 32) and out.raw.shape == (3, 32, 32)
    singles = {s: run(pipe, seed=s) for s in (7, 8, 9)}
    assert all(same_pair(out, i, singles[s]) for i, s in enumerate((7, 8, 9)))
    assert not np.array_equal(out.raw[0], out.raw[1])  # different seeds, different pairs
    listed = run(pipe, seed=[9, 7])
    assert listed.seeds == [9, 7] and same_pair(listed, 0, singles[9]) and same_pair(listed, 1, singles[7])
    with pytest.raises(ValueError, match="this output holds 3 pairs; out.mask is one pair's: use out.labels"):
        out.mask  # noqa: B018


def test_numpy_integer_seeds(pipe):
    ref = run(pipe, seed=5)
    for seed in (np.int64(5), np.uint32(5), np.int32(5), torch.tensor(5)):
        assert same_pair(run(pipe, seed=seed), 0, ref), type(seed)
    assert run(pipe, seed=np.array([5, 6], dtype=np.uint32)).seeds == [5, 6]
    for bad in (5.0, True, "5", -1, 2**32, np.float64(5)):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\], got"):
            run(pipe, seed=bad)


def test_generator_draws_the_seeds(pipe):
    """generator=g: each pair's seed is torch.randint(0, 2**32, generator=g): the same manual_seed the
    same pairs, a used generator new ones; a list: one generator per pair."""
    expected = torch.randint(0, 2**32, (2,), generator=torch.Generator().manual_seed(0)).tolist()
    assert expected == [2546248239, 3626093760]  # the CPU generator's draws (torch 1.13 and 2.x alike)
    g = torch.Generator().manual_seed(0)
    out = run(pipe, generator=g, num_images_per_prompt=2)
    assert out.seeds == expected and same_pair(out, 1, run(pipe, seed=expected[1]))
    assert run(pipe, generator=g).seeds != [expected[0]]  # the generator moved on, as in diffusers
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    assert run(pipe, generator=gens, num_images_per_prompt=2).seeds == [
        expected[0],
        torch.randint(0, 2**32, (1,), generator=torch.Generator().manual_seed(1)).item(),
    ]
    with pytest.raises(ValueError, match="1 generators for 2 pairs"):
        run(pipe, generator=[torch.Generator()], num_images_per_prompt=2)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or a list of them, got int"):
        run(pipe, generator=3)
    with pytest.raises(ValueError, match="give seed= or generator=, not both"):
        run(pipe, seed=1, generator=torch.Generator())


def test_without_a_seed_each_call_is_new_and_torch_manual_seed_repeats_it(pipe):
    """As diffusers with generator=None: torch's global generator; not the same pair every call."""
    torch.manual_seed(0)
    a, b = run(pipe), run(pipe)
    assert a.seeds == [2546248239] and b.seeds == [3626093760] and not np.array_equal(a.raw, b.raw)
    torch.manual_seed(0)
    assert same_pair(run(pipe), 0, a)


def test_output_types(pipe):
    """np: N×H×W×1 float32 in [0, 1]; pt: N×1×H×W; pil: 8-bit gray images, the PNGs' pixels (masks 0/255)."""
    out = run(pipe, seed=2, num_images_per_prompt=2)
    assert out.images.shape == out.masks.shape == (2, 32, 32, 1) and out.images.dtype == out.masks.dtype == np.float32
    assert 0 <= out.images.min() and out.images.max() <= 1 and set(np.unique(out.masks)) <= {0.0, 1.0}
    expected = (np.clip(out.raw.astype(np.float64), -1, 1) + 1) / 2
    assert np.array_equal(out.images[..., 0], expected.astype(np.float32))
    assert np.abs(out.images[..., 0] * 255 - out.pixels).max() <= 0.5 + 1e-4  # the PNG is this, rounded
    assert np.array_equal(out.masks[..., 0], out.labels)
    pt = pipe(num_inference_steps=STEPS, seed=2, num_images_per_prompt=2, output_type="pt")
    assert isinstance(pt.images, torch.Tensor) and pt.images.shape == pt.masks.shape == (2, 1, 32, 32)
    assert pt.images.dtype == torch.float32 and np.array_equal(pt.images.permute(0, 2, 3, 1).numpy(), out.images)
    assert np.array_equal(pt.masks[:, 0].numpy(), out.labels)
    pil = pipe(num_inference_steps=STEPS, seed=2, num_images_per_prompt=2)  # diffusers' default, "pil"
    assert len(pil.images) == len(pil.masks) == 2 and all(isinstance(i, Image.Image) and i.mode == "L" for i in pil.images)
    assert all(np.array_equal(np.asarray(pil.images[i]), out.pixels[i]) for i in range(2))
    assert all(np.array_equal(np.asarray(pil.masks[i]), out.labels[i] * 255) for i in range(2))
    with pytest.raises(ValueError, match="output_type must be one of pil, np, pt, got 'latent'"):
        pipe(seed=2, output_type="latent")


def test_return_dict_false_gives_images_and_masks(pipe):
    images, masks = run(pipe, seed=4, return_dict=False)
    out = run(pipe, seed=4)
    assert np.array_equal(images, out.images) and np.array_equal(masks, out.masks)
    with pytest.raises(TypeError, match="return_dict must be True or False"):
        run(pipe, seed=4, return_dict="no")


def test_callback_on_step_end_has_diffusers_signature(pipe):
    """(pipe, step, timestep, callback_kwargs) after each step, once for the whole batch; a dict back."""
    calls = []

    def on_step(p, step, timestep, kwargs):
        calls.append((p, step, timestep, {k: v.clone() for k, v in kwargs.items()}))
        return kwargs

    out = pipe(num_inference_steps=4, seed=1, num_images_per_prompt=2, output_type="np", callback_on_step_end=on_step)
    assert [(p is pipe, step, t) for p, step, t, _ in calls] == [(True, 0, 768), (True, 1, 512), (True, 2, 256), (True, 3, 0)]
    last = calls[-1][3]
    assert sorted(last) == ["c", "x0", "y0"] and all(
        v.shape == (2, 1, 32, 32) and v.dtype == torch.float32 for v in last.values()
    )
    assert np.array_equal(last["c"][:, 0].numpy() > 0, out.labels > 0) and np.array_equal(last["y0"][:, 0].numpy(), out.raw)
    asked = []
    run(
        pipe,
        seed=1,
        callback_on_step_end=lambda p, s, t, kw: asked.append(sorted(kw)) or kw,
        callback_on_step_end_tensor_inputs=["y0"],
    )
    assert asked == [["y0"]] * STEPS
    with pytest.raises(TypeError, match="callback_on_step_end must return a dict"):
        run(pipe, seed=1, callback_on_step_end=lambda p, s, t, kw: None)

    def brighten(p, s, t, kw):
        kw["y0"] += 1
        return kw

    with pytest.raises(ValueError, match="callback_on_step_end changed y0: the pipeline's chains are not changed"):
        run(pipe, seed=1, callback_on_step_end=brighten)
    with pytest.raises(ValueError, match="callback_on_step_end_tensor_inputs may name x0, y0, c; got"):
        run(pipe, seed=1, callback_on_step_end=lambda *a: a[3], callback_on_step_end_tensor_inputs=["latents"])
    with pytest.raises(ValueError, match="callback= shows one pair's steps; for 2 pairs use callback_on_step_end="):
        run(pipe, seed=1, num_images_per_prompt=2, callback=print)


def test_keyword_arguments_only(pipe):
    """pipe(3) meant 3 steps before; diffusers' first positional is the prompt: neither, say so."""
    with pytest.raises(
        TypeError, match=r"keyword arguments only, e.g. pipe\(seed=3, num_inference_steps=8\); got 1 positional \(3\)"
    ):
        pipe(3)


def test_batch_sizes_are_bounded(pipe):
    for n in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match=r"num_images_per_prompt must be an integer in \[1, 4096\], got"):
            run(pipe, seed=0, num_images_per_prompt=n)
    with pytest.raises(ValueError, match=r"num_images_per_prompt must be an integer in \[1, 4096\], got 4097"):
        run(pipe, seed=0, num_images_per_prompt=4097)
    with pytest.raises(ValueError, match=r"6000 pairs of 32×32 in one call; one call makes at most 4096 at this size"):
        run(pipe, seed=0, mode="mask2image", mask=np.ones((3, 32, 32)), num_images_per_prompt=2000)
    with pytest.raises(ValueError, match="seed 4294967295 with num_images_per_prompt=2 runs past the last seed"):
        run(pipe, seed=2**32 - 1, num_images_per_prompt=2)
    with pytest.raises(ValueError, match=r"3 seeds with num_images_per_prompt=2: give one seed per pair of a condition"):
        run(pipe, seed=[1, 2, 3], num_images_per_prompt=2)
    assert pipe(num_inference_steps=np.int64(2), seed=0, output_type="np").steps == 2


def test_masks_batch_per_condition(pipe):
    """mask2image with two masks and two pairs each: mask-major, seeds K, K+1 for each mask (the
    CLI's --masks DIR --seed K --count 2)."""
    yy, xx = np.mgrid[:32, :32]
    disc, box = (yy - 14) ** 2 + (xx - 18) ** 2 < 49, (abs(yy - 10) < 4) & (abs(xx - 10) < 6)
    out = run(pipe, seed=5, mode="mask2image", mask=[disc, box], num_images_per_prompt=2)
    assert out.seeds == [5, 6, 5, 6]
    assert all(np.array_equal(out.labels[i], m.astype(np.uint8)) for i, m in enumerate((disc, disc, box, box)))
    assert same_pair(out, 3, run(pipe, seed=6, mode="mask2image", mask=Image.fromarray(box.astype(np.uint8) * 255)))
    with pytest.raises(ValueError, match="the mask number 1 has no lesion pixel"):
        run(pipe, seed=5, mode="mask2image", mask=np.stack([disc, np.zeros_like(disc)]))


def test_device_and_to(pipe):
    assert pipe.device == torch.device("cpu") and pipe.dtype == torch.float32
    assert pipe.to("cpu") is pipe and pipe.to(torch.float32) is pipe and pipe.to(torch.device("cpu"), torch.float32) is pipe
    with pytest.raises(ValueError, match="device must be cpu or cuda"):
        pipe.to("mps")
    with pytest.raises(ValueError, match="torch_dtype torch.float16: the model folder's graphs are float32"):
        pipe.to(torch.float16)
    with pytest.raises(TypeError, match=r"to\(\) takes a device"):
        pipe.to(3)
    ort = python_ort()
    if ort is None or "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(
            RuntimeError,
            match=r"ONNX Runtime here has no CUDA provider \(.*\): install onnxruntime-gpu; the pipeline stays on cpu",
        ):
            pipe.to("cuda")
        assert pipe.device == torch.device("cpu") and same_pair(run(pipe, seed=3, num_images_per_prompt=1), 0, run(pipe, seed=3))


def test_from_pretrained_defaults_to_the_cpu_and_float32():
    with PigPipeline.from_pretrained(TINY, torch_dtype=torch.float32, threads=np.int64(1)) as p:
        assert p.device == torch.device("cpu") and "CUDA" not in p.backend
    with pytest.raises(ValueError, match="torch_dtype torch.float16: the model folder's graphs are float32"):
        PigPipeline.from_pretrained(TINY, torch_dtype=torch.float16)
    with pytest.raises(TypeError, match=r"providers must be a list, e.g. \['CPUExecutionProvider'\]"):
        PigPipeline.from_pretrained(TINY, providers=CPU)


def test_latent_batch_with_an_attribute_per_condition():
    """Format 2: a list of attribute requests is a batch of conditions, each pair its one-pair run's."""
    with PigPipeline.from_pretrained(TINY_LATENT, providers=[CPU], threads=1) as p:
        asks = [{"pathology": "malignant"}, {"pathology": "benign", "birads": 3}]
        out = p(num_inference_steps=2, seed=3, attributes=asks, guidance=2, output_type="np")
        assert out.seeds == [3, 3] and out.labels.shape == (2, 64, 64)
        for i, ask in enumerate(asks):
            assert same_pair(out, i, p(num_inference_steps=2, seed=3, attributes=ask, guidance=2, output_type="np"))
        with pytest.raises(ValueError, match="2 attribute requests for 3 mask2image inputs"):
            p(seed=3, mode="mask2image", mask=np.ones((3, 64, 64)), attributes=asks)
        with pytest.raises(TypeError, match="attributes must be a dict such as"):
            p(seed=3, attributes="malignant")


def test_images_batch_in_image2mask(pipe):
    """Two 8-bit images (one a PIL image) segmented in one call, each as its one-pair call."""
    a = run(pipe, seed=11).pixels[0]
    b = run(pipe, seed=12).pixels[0]
    out = run(pipe, seed=2, mode="image2mask", image=[a, Image.fromarray(b)])
    assert out.seeds == [2, 2] and np.array_equal(out.pixels, np.stack([a, b]))  # ŷ₀ is reported as the user's image
    assert same_pair(out, 1, run(pipe, seed=2, mode="image2mask", image=b))
    mixed = run(pipe, seed=2, mode="image2mask", image=[a, image_units(b)])  # 8-bit pixels beside model units
    assert np.array_equal(mixed.labels, out.labels) and np.array_equal(mixed.raw, out.raw)
    with pytest.raises(ValueError, match=r"the image is 2×32×31, the model needs 32×32 \(H×W\) or N×32×32"):
        run(pipe, seed=2, mode="image2mask", image=np.zeros((2, 32, 31), np.uint8))
