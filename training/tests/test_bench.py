"""The benchmark helpers: an untrained pair that the exporter's loader reads, and the reference
sampler's timing record."""

import json

import torch

from pigkit.benchmark.bench import bench_peak, bench_sampler
from pigkit.benchmark.untrained import save_untrained
from pigkit.exporter.export import checkpoint_facts
from pigkit.training.checkpoint import load_model_checkpoint


def test_untrained_pair_loads_as_a_run_and_is_reproducible(tmp_path):
    save_untrained("tiny", 16, tmp_path / "a", seed=3)
    save_untrained("tiny", 16, tmp_path / "b", seed=3)
    for role in ("mask", "image"):
        facts = checkpoint_facts(tmp_path / "a", role)
        assert facts["iters"] == 0 and facts["config"]["preset"] == "tiny" and facts["config"]["untrained"]
        a = load_model_checkpoint(tmp_path / "a" / role / "ckpt.pt")
        b = load_model_checkpoint(tmp_path / "b" / role / "ckpt.pt")
        assert a.resolution == 16
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    mx = load_model_checkpoint(tmp_path / "a" / "mask" / "ckpt.pt")
    my = load_model_checkpoint(tmp_path / "a" / "image" / "ckpt.pt")
    assert not torch.equal(next(mx.parameters()), next(my.parameters()))  # two draws, not one model twice


def test_sampler_bench_record(tmp_path):
    save_untrained("tiny", 16, tmp_path)
    r = bench_sampler(tmp_path, steps=2, forwards=2, pairs=1)
    assert r["backend"] == "pytorch" and r["resolution"] == 16 and r["steps"] == 2
    for key in ("load_cold_ms", "load_cached_ms", "forward_ms", "pair_ms", "step_ms", "peak_rss_mb"):
        assert r[key] > 0, key
    assert abs(r["step_ms"] * 2 - r["pair_ms"]) < 0.1


def test_training_bench_records_its_options():
    from pigkit.benchmark.bench import bench
    from pigkit.training.train_args import BF16_UNSUPPORTED

    r = bench("tiny", 16, 2, "cpu", iters=1, warmup=1, channels_last=True, bf16=not BF16_UNSUPPORTED)
    assert r["channels_last"] is True and r["bf16"] is (not BF16_UNSUPPORTED) and r["compile"] is False
    assert r["train_images_per_s"] > 0 and r["forward_ms"] > 0


def test_peak_rate_is_the_matrix_product_s_flops_over_its_best_time(monkeypatch):
    # a clock that advances 0.5 s per reading: every product "takes" 0.5 s, so 2·n³ FLOPs / 0.5 s
    ticks = iter(range(1000))
    monkeypatch.setattr("pigkit.benchmark.bench.time.perf_counter", lambda: 0.5 * next(ticks))
    r = bench_peak(size=1000, reps=3)
    assert r["size"] == 1000 and r["threads"] == torch.get_num_threads()
    assert r["peak_gflops"] == 4.0  # 2·1000³ FLOPs in 0.5 s


def test_untrained_latent_pair_exports_as_format_2_without_training_data(tmp_path, capsys):
    from pigkit.exporter.export_latent import main as export_latent

    table = tmp_path / "bus_data.csv"
    table.write_text("ID,Pathology,BIRADS,Device\nbus_0000-l,benign,3,A\nbus_0001-l,malignant,5,B\n")
    run = save_untrained("tiny", 32, tmp_path / "run", seed=1, latent=True, attributes=table)
    facts = checkpoint_facts(run, "image")["config"]
    latent = facts["latent"]
    assert latent["image_resolution"] == 32 and list(latent["config"]["channels"]) == [16, 32, 64]
    assert latent["config"]["latent_channels"] == 4 and 0 < latent["scale"] < 1e3
    assert facts["resolution"] == 8 and facts["overrides"]["in_channels"] == 5 and facts["overrides"]["out_channels"] == 4
    assert checkpoint_facts(run, "mask")["config"]["overrides"]["in_channels"] == 5
    assert export_latent(["--run", str(run), "--out", str(tmp_path / "model"), "--name", "bench", "--steps", "2"]) == 2
    assert "records no training data: pass --data DIR (or --synthetic-preview)" in capsys.readouterr().err
    argv = ["--run", str(run), "--out", str(tmp_path / "model"), "--name", "bench", "--steps", "2", "--synthetic-preview"]
    assert export_latent(argv) == 0
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["format"] == 2 and manifest["resolution"] == [32, 32]
    assert manifest["latent"]["grid"] == [8, 8] and manifest["latent"]["channels"] == 4 and manifest["latent"]["factor"] == 4
    assert len(manifest["latent"]["preview"]["weights"]) == 4
    assert [a["name"] for a in manifest["attributes"]] == ["pathology", "birads", "scanner"]
    assert set(manifest["models"]) == {"mask", "image", "encoder", "decoder"}


def test_untrained_latent_pair_takes_a_given_autoencoder(tmp_path):
    save_untrained("tiny", 32, tmp_path / "a", latent=True)
    ae = tmp_path / "a" / "autoencoder" / "ckpt.pt"
    save_untrained("tiny", 32, tmp_path / "b", latent=True, autoencoder=ae)
    a, b = (checkpoint_facts(tmp_path / r, "mask")["config"]["latent"] for r in "ab")
    assert b["autoencoder"] == str(ae) and a["autoencoder_sha256"] == b["autoencoder_sha256"] and a["scale"] == b["scale"]
    assert not (tmp_path / "b" / "autoencoder").exists()  # the given one is used, not a new one written
