// One ONNX model on onnxruntime-node, for the kit where the Python onnxruntime package is not
// installed (Debian has none): pigkit/inference/runtime.py starts it and talks to it over stdin/stdout.
// Usage: node ort_node_run.mjs model.onnx [threads]
// The session has the CLI's options (src/engine/node.ts cpuOptions: CPU, all graph optimizations, no
// spinning, `threads` intra-op threads), so its outputs are the CLI's to the bit.
// Messages both ways: a 4-byte little-endian length, a JSON header of that length, then the tensors'
// little-endian float32 bytes in the header's order. First message out: {ready, inputNames, outputNames}
// or {error}. Then per request {inputs: [{name, shape}]}: {outputs: [{name, shape}]} or {error}.
// Stdin closed: the process ends.
import * as ort from 'onnxruntime-node';

const [modelPath, threads] = process.argv.slice(2);

function send(header, tensors = []) {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  process.stdout.write(Buffer.concat([length, json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]));
}

const message = (e) => (e instanceof Error ? e.message : String(e));
let session;
try {
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  if (threads) options.intraOpNumThreads = Number(threads);
  session = await ort.InferenceSession.create(modelPath, options);
} catch (e) {
  send({ error: message(e) });
  process.exit(1);
}
send({ ready: true, inputNames: session.inputNames, outputNames: session.outputNames });

let pending = Buffer.alloc(0);
let busy = Promise.resolve();
const count = (shape) => shape.reduce((a, b) => a * b, 1);

async function handle(header, body) {
  try {
    const feeds = {};
    let offset = 0;
    for (const { name, shape } of header.inputs) {
      const n = count(shape);
      const copy = new Float32Array(n);
      copy.set(new Float32Array(body.buffer.slice(body.byteOffset + offset, body.byteOffset + offset + 4 * n)));
      feeds[name] = new ort.Tensor('float32', copy, shape);
      offset += 4 * n;
    }
    const results = await session.run(feeds);
    const names = Object.keys(results);
    send({ outputs: names.map((name) => ({ name, shape: results[name].dims })) }, names.map((name) => results[name].data));
  } catch (e) {
    send({ error: message(e) });
  }
}

process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  for (;;) {
    if (pending.length < 4) return;
    const jsonLength = pending.readUInt32LE(0);
    if (pending.length < 4 + jsonLength) return;
    const header = JSON.parse(pending.subarray(4, 4 + jsonLength).toString('utf8'));
    const bodyLength = header.inputs.reduce((sum, i) => sum + 4 * count(i.shape), 0);
    if (pending.length < 4 + jsonLength + bodyLength) return;
    const body = Buffer.from(pending.subarray(4 + jsonLength, 4 + jsonLength + bodyLength));
    pending = pending.subarray(4 + jsonLength + bodyLength);
    busy = busy.then(() => handle(header, body));
  }
});
process.stdin.on('end', () => void busy.then(() => process.exit(0)));
