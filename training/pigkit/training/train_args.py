"""Train PIG's model_x ("mask") and then model_y ("image") on a folder of pairs.

    python3 -m pigkit.train --model mask  --data DIR --out runs/NAME --preset small --resolution 64 --iters 20000
    python3 -m pigkit.train --model image --data DIR --out runs/NAME ...   # uses runs/NAME/mask's EMA weights, frozen
    torchrun --nproc_per_node=8 -m pigkit.train ...                        # multi-GPU (DistributedDataParallel)

Writes into OUT/<model>/: ckpt.pt (latest; replaced atomically, so a killed run never leaves a
half-written file under that name), log.csv, loss.png, config.json. `--resume` continues from ckpt.pt
exactly where it was written: the same weights, optimizer, data order and random numbers follow as in
a run that was never interrupted.
"""

from __future__ import annotations

import argparse

import torch

from pigkit.data.attributes import DEFAULT_DROP
from pigkit.data.pairs import add_patient_subset_arguments
from pigkit.model.unet import PRESETS

# torch 1.13's CPU autocast feeds GroupNorm bfloat16 activations with float32 weights and fails
BF16_UNSUPPORTED = int(torch.__version__.split(".")[0]) < 2


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pigkit.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--model",
        choices=["mask", "image", "uncond"],
        required=True,
        help="mask = model_x, image = model_y; uncond = an image DDPM alone (the evaluation's baseline)",
    )
    p.add_argument("--data", required=True, help="folder with Images/ and Masks/")
    p.add_argument("--out", required=True, help="run folder (shared by both models of a pair)")
    p.add_argument("--preset", default="small", choices=sorted(PRESETS), help="U-Net preset")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--folds", default="1,2,3", help="training folds of the fold CSV ('' = all pairs)")
    p.add_argument("--fold-csv", default=None, help="default: DATA/5-fold-cv.csv")
    add_patient_subset_arguments(
        p,
        "--patients",
        "train on a seeded random FRACTION of the training folds' patients only (a low-data setting; "
        "pigkit.downstream --train-patients takes the same subset)",
    )
    p.add_argument("--batch", type=int, default=16, help="per process")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--iters", type=int, default=10000, help="total optimizer steps")
    p.add_argument("--plateau", action="store_true", help="ReduceLROnPlateau(factor 1/4, patience 4) on epoch loss, as the paper")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="MODEL_DIR",
        help="start a fresh run from an exported model folder's weights (manifest.json + ONNX, e.g. "
        "public/models/busbra64): fine-tune or train a shipped pair further; its iteration, image "
        "and time counts carry on; optimizer moments start afresh",
    )
    p.add_argument("--mask-ckpt", default=None, help="model_x checkpoint for --model image (default OUT/mask/ckpt.pt)")
    p.add_argument(
        "--no-binarize-condition",
        dest="binarize_condition",
        action="store_false",
        help="condition model_y on raw x̂₀ instead of B(x̂₀) (the sampler always uses B)",
    )
    p.add_argument("--siamese", action="store_true", help="Siamese-Diffusion noise-consistent training of model_y")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = all cores)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (with a checkpoint) after this wall time; resume later")
    objective_arguments(p)
    args = p.parse_args(argv)
    if args.siamese and args.model != "image":
        p.error("--siamese is an option of --model image")
    if args.bf16 and BF16_UNSUPPORTED:
        p.error(f"--bf16 needs PyTorch ≥ 2.0 (this is {torch.__version__}, whose CPU autocast fails in GroupNorm)")
    if args.warmup < 0:
        p.error("--warmup must be ≥ 0")
    if args.min_snr < 0 or (args.min_snr and args.siamese):
        p.error("--min-snr must be > 0 (0 = off), and is not an option of --siamese")
    if not 0 <= args.attr_drop <= 1:
        p.error("--attr-drop must be in [0, 1]")
    if args.init_from and (args.autoencoder or args.attributes):
        p.error("--init-from reads an exported pixel-space pair without attributes; train latent or attributed models afresh")
    if args.init_from and args.model == "uncond":
        p.error("--init-from reads an exported pair; the unconditional baseline (--model uncond) is never exported")
    return args


def objective_arguments(p: argparse.ArgumentParser) -> None:
    """What the objective and the speed options change: warm-up, Min-SNR, flips, latents, attributes, formats."""
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        metavar="ITERS",
        help="raise the learning rate linearly from lr/ITERS to lr over the first ITERS iterations after "
        "the optimizer starts afresh (a new run or --init-from; not a --resume, whose Adam moments "
        "are restored): fresh moments at full lr jolt a trained model",
    )
    p.add_argument(
        "--min-snr",
        type=float,
        default=0,
        metavar="GAMMA",
        help="Min-SNR-γ loss weighting (Hang et al. 2023; 5 in the paper), 0 = METHOD.md's plain mean; "
        "the model still predicts ε (not with --siamese)",
    )
    p.add_argument("--flip", action="store_true", help="horizontal flips of each pair (mask and image together), p = 0.5")
    p.add_argument(
        "--autoencoder",
        default=None,
        metavar="CKPT",
        help="latent PIG: train on z = s·μ_E(y) of this autoencoder checkpoint (pigkit.train_autoencoder), the "
        "masks on its latent grid; --resolution is the slices' size (with --flip, every slice's mirror image "
        "is encoded and added to the data instead of flipping at random)",
    )
    p.add_argument(
        "--attributes",
        default=None,
        metavar="CSV",
        help="condition both U-Nets on the attributes of this case table (BUS-BRA's bus_data.csv: pathology, "
        "BI-RADS, scanner), each dropped to 'none' with probability --attr-drop",
    )
    p.add_argument("--attr-drop", type=float, default=DEFAULT_DROP, help="probability of 'none' per attribute and sample")
    p.add_argument(
        "--channels-last",
        action="store_true",
        help="channels-last memory format for the U-Nets: 1.3–1.9× the images/s of float32 training on "
        'this CPU (training/README.md "Speed")',
    )
    p.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 autocast for the forward passes (weights, Adam and the loss stay float32): "
        '1.2–2.5× the images/s of float32 on a CPU with AVX-512 BF16 (training/README.md "Speed")',
    )
