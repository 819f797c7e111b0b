// Compatibility check of the tus endpoint with the standard tus-js-client 4
// (Node 20): upload, interrupt, resume from a new client, compare SHA-256.
// Run: npm install tus-js-client@4 && node scripts/tus-js-client-check.mjs BASE TOKEN MATERIAL_ID FILE
import fs from 'node:fs';
import crypto from 'node:crypto';
import * as tus from 'tus-js-client';

const [base, token, materialId, file] = process.argv.slice(2);
const data = fs.readFileSync(file);
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

function upload(startAbortAt) {
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(data, {
      endpoint: `${base}/api/v1/uploads`,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { target: 'material', material_id: materialId, filename: 'long.wav', filetype: 'audio/wav' },
      chunkSize: 5 * 1024 * 1024,
      retryDelays: [100, 300, 1000],
      storeFingerprintForResuming: false,
      onProgress: (sent) => {
        if (startAbortAt && sent >= startAbortAt) { startAbortAt = 0; u.abort().then(() => resolve({ aborted: u.url })); }
      },
      onSuccess: () => resolve({ done: u.url }),
      onError: reject,
    });
    u.start();
  });
}

const first = await upload(7 * 1024 * 1024);
console.log('interrupted at', first);
const resumed = await new Promise((resolve, reject) => {
  const u = new tus.Upload(data, {
    uploadUrl: first.aborted ?? first.done,
    headers: { Authorization: `Bearer ${token}` },
    chunkSize: 5 * 1024 * 1024,
    onSuccess: () => resolve(u.url),
    onError: reject,
  });
  u.start();
});
console.log('resumed and finished', resumed);
const res = await fetch(`${base}/api/v1/materials/${materialId}/media`, { headers: { Authorization: `Bearer ${token}` } });
const body = Buffer.from(await res.arrayBuffer());
console.log('download', res.status, body.length, sha(body) === sha(data) ? 'SHA-256 MATCH' : 'SHA-256 MISMATCH');
