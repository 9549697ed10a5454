import csv


from pigkit.train import main, parse_args, read_checkpoint, train


def args_for(folder, out, model="mask", iters=3, **extra):
    argv = ["--model", model, "--data", str(folder), "--out", str(out), "--preset", "tiny", "--resolution", "16",
            "--batch", "2", "--iters", str(iters), "--log-every", "1", "--ckpt-every", "2", "--threads", "1"]
    for k, v in extra.items():
        argv += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return parse_args(argv)


def test_train_both_models_resume_and_logs(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=3))
    ck = read_checkpoint(out / "mask" / "ckpt.pt")
    assert ck["iter"] == 3 and ck["images_seen"] == 6
    # a half-written checkpoint from a killed process must never be picked up
    (out / "mask" / "ckpt.pt.partial").write_bytes(b"garbage")
    train(args_for(pair_folder, out, iters=5, resume=True))
    assert read_checkpoint(out / "mask" / "ckpt.pt")["iter"] == 5
    rows = list(csv.DictReader((out / "mask" / "log.csv").open()))
    assert [int(r["iter"]) for r in rows] == [1, 2, 3, 4, 5]
    assert (out / "mask" / "loss.png").stat().st_size > 1000
    train(args_for(pair_folder, out, model="image", iters=2))
    train(args_for(pair_folder, out / "siam", model="image", iters=2, siamese=True, mask_ckpt=out / "mask" / "ckpt.pt"))
    assert read_checkpoint(out / "siam" / "image" / "ckpt.pt")["config"]["siamese"] is True


def test_bad_data_gives_a_message_not_a_trace(tmp_path, capsys):
    (tmp_path / "Images").mkdir()
    (tmp_path / "Masks").mkdir()
    code = main(["--model", "mask", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--folds", ""])
    assert code == 2 and "no images found" in capsys.readouterr().err


def test_image_model_needs_the_mask_model(pair_folder, tmp_path, capsys):
    code = main(["--model", "image", "--data", str(pair_folder), "--out", str(tmp_path / "o"), "--preset", "tiny",
                 "--resolution", "16", "--iters", "1", "--threads", "1"])
    assert code == 2 and "checkpoint not found" in capsys.readouterr().err
