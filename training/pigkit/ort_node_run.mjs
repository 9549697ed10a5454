// Runs one ONNX model on onnxruntime-node for the kit's export parity check, where the Python
// onnxruntime package is not installed (Debian has none). Usage: node ort_node_run.mjs model.onnx dir
// dir holds inputs.json ([{name, shape}]) and <name>.bin (little-endian float32); writes
// <output>.bin for every output and outputs.json ([{name, shape}]).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const [modelPath, dir] = process.argv.slice(2);
const session = await ort.InferenceSession.create(modelPath);
const feeds = {};
for (const { name, shape } of JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'))) {
  const buf = readFileSync(join(dir, `${name}.bin`));
  feeds[name] = new ort.Tensor('float32', new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), shape);
}
const results = await session.run(feeds);
const outputs = [];
for (const [name, tensor] of Object.entries(results)) {
  writeFileSync(join(dir, `${name}.bin`), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  outputs.push({ name, shape: tensor.dims });
}
writeFileSync(join(dir, 'outputs.json'), JSON.stringify(outputs));
