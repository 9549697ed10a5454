"""The methods' citations: the BibTeX of PIG and Siamese-Diffusion, and the model card's Citation
section (the data card's BibTeX first)."""

from __future__ import annotations

# PIG and Siamese-Diffusion as their papers give them (authors and titles from the arXiv versions,
# 2507.14833 and 2505.06068; venues from ../../shared/METHOD.md). Proceedings pages and DOIs are left
# out: MICCAI 2025's SpringerLink DOI was not yet listed and CVPR 2025's pages were not verified.
METHOD_BIBTEX = {
    "PIG": (
        "@inproceedings{zhang2025pig,\n"
        "  author        = {Zhang, Haoxuan and Cui, Wenju and Cao, Yuzhu and Tan, Tao and Liu, Jie"
        " and Peng, Yunsong and Zheng, Jian},\n"
        "  title         = {Paired Image Generation with Diffusion-Guided Diffusion Models},\n"
        "  booktitle     = {Medical Image Computing and Computer Assisted Intervention -- MICCAI 2025},\n"
        "  year          = {2025},\n"
        "  eprint        = {2507.14833},\n"
        "  archivePrefix = {arXiv},\n"
        "  note          = {Reference implementation: zhanghx1320/PIG}\n"
        "}"
    ),
    "Siamese-Diffusion": (
        "@inproceedings{qiu2025siamese,\n"
        "  author        = {Qiu, Kunpeng and Gao, Zhiqiang and Zhou, Zhiying and Sun, Mingjie and Guo, Yongxin},\n"
        "  title         = {Noise-Consistent Siamese-Diffusion for Medical Image Synthesis and Segmentation},\n"
        "  booktitle     = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},\n"
        "  year          = {2025},\n"
        "  eprint        = {2505.06068},\n"
        "  archivePrefix = {arXiv},\n"
        "  note          = {Reference implementation: Qiukunpeng/Siamese-Diffusion}\n"
        "}"
    ),
}


def citation_section(data_card: dict | None) -> list[str]:
    """The model card's Citation: the data card's BibTeX (or that it gives none), then the methods'."""
    out = ["## Citation", "", "Cite the training data and the methods:", ""]
    if data_card is not None and data_card.get("bibtex"):
        out += ["```bibtex", data_card["bibtex"], "```", ""]
    elif data_card is not None:
        out += [f"The data card gives no BibTeX for {data_card['name']}.", ""]
    out += [
        "```bibtex",
        METHOD_BIBTEX["PIG"],
        "",
        METHOD_BIBTEX["Siamese-Diffusion"],
        "```",
        "",
        "Proceedings pages and DOIs of the two methods are left out: they were not verified. The code that trained "
        "and runs this model is MIT-licensed (`LICENSE` at the repository root; `CITATION.cff` there cites it).",
        "",
    ]
    return out
