"""The model card's body, one function a section: the model, its intended use, its limitations, the
training data and the training recipe (the evaluation's is in card_figures, the citations' in
citations), each from the manifest and the data card only."""

from __future__ import annotations

from pigkit.exporter.card_figures import in_words
from pigkit.exporter.card_files import SAMPLE_FILE, file_table
from pigkit.exporter.data_card import LICENSE_FILE, RECIPE_KEYS

INTENDED_USE = [
    "## Intended use",
    "",
    "Research data generation: synthetic lesion-mask / image pairs for studying segmentation training and "
    "data augmentation, and for teaching and demonstrating paired diffusion.",
    "",
    "**Not for clinical use.** Not for diagnosis, screening, treatment decisions or any other decision about "
    "a patient; it is not a medical device. Generated images show no real patient, and their masks are the "
    "masks the images were generated from, not delineations by an expert.",
    "",
]


def description_section(manifest: dict, folder: str, modality: str, sample: str | None) -> list[str]:
    """What the two U-Nets do, the sampler's defaults, samples.png, the files, how to run it."""
    card, (h, w), sampler = manifest.get("card", {}), manifest["resolution"], manifest["sampler"]
    out = [
        "## Model description",
        "",
        f'Two DDPM U-Nets (preset `{card.get("preset", "unknown")}`) trained as in PIG, "Paired Image Generation '
        'with Diffusion-Guided Diffusion Models" (MICCAI 2025): `model_x` predicts the noise of the lesion-mask chain '
        "from `[x_t, y_t]`, `model_y` the noise of the image chain from `[y_t, c]`, where `c = B(x̂₀)` is the "
        f"binarised mask estimate of the same step. Sampled together with DDIM they give a {h}×{w} lesion mask "
        f"and the {modality} image made for it. The same pair also runs mask → image (`model_y` alone on a "
        "given mask) and image → mask (`model_x` alone: a segmentation of a given image).",
        "",
        f"Sampler defaults (`manifest.json`): {sampler['steps']} DDIM steps, η = {sampler['eta']}, clip "
        f"`{sampler.get('clip', 'none')}`; a linear β schedule over T = {manifest['schedule']['T']}.",
        "",
    ]
    if sample:
        out += [f"![{sample}]({SAMPLE_FILE})", "", f"*{sample}.*", ""]
    out += file_table(manifest)
    out += [
        "",
        "Run it in the studio (`?model=" + folder + "`), with the CLI (`npm run generate -- --model "
        f"public/models/{folder} --count 8 --out out`) or from Python:",
        "",
        "```python",
        "from pigkit.pipeline import PigPipeline",
        f'pipe = PigPipeline.from_pretrained("public/models/{folder}")',
        "out = pipe(seed=0)  # out.mask (0/1), out.image (ŷ₀), out.image_uint8",
        "```",
        "",
    ]
    return out


def limitations_section(manifest: dict) -> list[str]:
    """Resolution, training length (in epochs where the pairs are known), the data's reach, parity."""
    card, (h, w) = manifest.get("card", {}), manifest["resolution"]
    steps, seen = card.get("stepsTrained", {}), card.get("imagesSeen", {})
    pairs = next((r.get("trainPairs") for r in card.get("recipe", {}).values() if r.get("trainPairs")), None)
    epochs = (
        ""
        if not (pairs and seen)
        else " (about "
        + ", ".join(f"{k} {seen[k] / pairs:.0f}" for k in seen)
        + f" epochs over {pairs} pairs; PIG's paper trains 128 epochs at 512²)"
    )
    return [
        "## Limitations",
        "",
        f"- {h}×{w} only. Trained for {in_words(steps) or 'an unrecorded number of'} iterations "
        f"({in_words(seen)} images seen){epochs}.",
        "- It can only reproduce what its training data show: their population, scanners, lesion types and "
        "artefacts (see Training data); nothing is known about data unlike them.",
        "- A generated mask is consistent with its image by construction, not by verification: see the pair "
        "consistency figure under Evaluation, where there is one.",
        "- The same seed, steps, η and clip give the same pair in the studio (WASM), the CLI and `pigkit.pipeline` "
        "on the CPU, bit for bit; other backends (WebGPU, CUDA) round differently and may differ slightly.",
        "",
    ]


def training_data_section(card: dict, data_card: dict | None, has_license_file: bool) -> list[str]:
    """The data card's title, description, use, source and license; or that the data are undescribed."""
    out = ["## Training data", ""]
    if data_card is None:
        return out + [
            f"**Undescribed.** This model was exported without a data card, so what it was trained on, under "
            f"which license and with which citation is not recorded here. The manifest says: {card.get('data', 'nothing')}.",
            "",
        ]
    lic = data_card["license"]
    out += [
        f"**{data_card.get('title') or data_card['name']}**",
        "",
        data_card["description"],
        "",
        f"Used here: {card.get('data', 'not recorded')}.",
        "",
    ]
    if data_card.get("url"):
        out += [f"Source: <{data_card['url']}>", ""]
    return out + [
        f"License: {lic['name']}"
        + (f" (`{lic['id']}`)" if lic.get("id") else "")
        + (f"; its text: [{LICENSE_FILE}]({LICENSE_FILE})." if has_license_file else "."),
        "",
    ]


def recipe_section(card: dict) -> list[str]:
    """PIG's objectives, then a table of each model's settings (the manifest card's recipe)."""
    steps, seen, rec = card.get("stepsTrained", {}), card.get("imagesSeen", {}), card.get("recipe", {})
    out = [
        "## Training recipe",
        "",
        "PIG's objectives (PIG Studio's docs/method.md): `model_x` on `‖ε₁ − model_x(x_t, y_t, t)‖²`, then `model_y` "
        "with `model_x` frozen, on the sigmoid-weighted `‖ε₂ − model_y(y_t, x̂₀, t)‖²`"
        + (" with Siamese-Diffusion's noise-consistent training" if card.get("siamese") else "")
        + "; EMA weights exported.",
        "",
        "| | mask (`model_x`) | image (`model_y`) |",
        "|---|---|---|",
    ]
    rows = {"iterations": steps, "images seen": seen, "wall time, s": card.get("wallTimeSeconds", {})}
    for key, label in RECIPE_KEYS.values():
        if any(key in r for r in rec.values()):
            rows[label] = {role: r.get(key) for role, r in rec.items()}
    shared = {"preset": "preset"} if rec else {"preset": "preset", "batch": "batch", "trainedOn": "trained on"}
    rows.update({label: {"mask": card[key], "image": card[key]} for key, label in shared.items() if key in card})
    for label, per_role in rows.items():
        if per_role:
            out.append(f"| {label} | {in_words(per_role.get('mask'))} | {in_words(per_role.get('image'))} |")
    return out + [""]
