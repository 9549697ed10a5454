// The types of a generated dataset's records (manifest.json's model and cases), shared by the
// layout (nnunet.ts) and the dataset card (card.ts). DOM-free.

import type { ClipMode } from '../ddim';

/** The file format of images and labels. */
export type ImageFormat = 'png' | 'nifti';

/**
 * The model a dataset was generated with: its name and the SHA-256 of each file (from its manifest):
 * each graph under its role, each weights file once under `<role>Weights` of the first role naming
 * it (maskWeights, imageWeights), since a graph's SHA-256 does not cover the weights it keeps outside.
 */
export interface DatasetModel {
  name: string;
  resolution: [number, number];
  /** Imaging modality, nnU-Net's channel name ("ultrasound" unless the manifest says otherwise). */
  modality: string;
  files: Record<string, { file: string; sha256: string }>;
}

/** How one case was made, and what came out (one entry of manifest.json's `cases`). */
export interface CaseRecord {
  case: string;
  seed: number;
  /** The sampler mode that made it (SamplerMode's kind). */
  mode: 'pair' | 'maskToImage' | 'imageToMask';
  steps: number;
  eta: number;
  /** Which chains clipped their estimate (the sampler option clip); records made before it have none. */
  clip?: ClipMode;
  /** The settings of B(·): θ = weights[0]·max + weights[1]·min of the kernel×kernel-pooled x̂₀. */
  binarize: { kernel: number; weights: [number, number] };
  /** Fraction of the label's pixels that are lesion. */
  maskAreaFraction: number;
  /** True when the label has no lesion pixel. */
  empty: boolean;
  appVersion: string;
  /** Mask → image from a file (the CLI's --masks): its name and SHA-256. */
  source?: { file: string; sha256: string };
  /** A model with attributes (contracts.md §6b): what the case asked for, every attribute's value or "any". */
  attributes?: Record<string, string>;
  /** A model with attributes: the classifier-free guidance w of the run. */
  guidance?: number;
  /**
   * Made with the CLI's --reject-empty: the seeds tried before this one for the same case, whose
   * masks came out empty and were not kept (often none). Absent: made without it.
   */
  rejectedSeeds?: number[];
  /** Paths of this case's files in the dataset. */
  files: string[];
}
