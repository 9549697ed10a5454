// The studio worker: comlink exposes a Studio over onnxruntime-web (engine/web.ts).
// Frames and results are transferred (Comlink.transfer), errors cross as StudioError values.

import * as Comlink from 'comlink';
import { loadWebModel } from '../engine/web';
import type { StudioWorkerApi } from './api';
import { Studio } from './studio';

const studio: StudioWorkerApi = new Studio((request, onProgress) => loadWebModel(request, onProgress), Comlink.transfer);

Comlink.expose(studio);
