import { ensureDevPtau } from "/work/main/src/zkml/ptau.ts";
const t = Date.now();
const r = await ensureDevPtau(13, { cacheDir: "/tmp/ptau-measure", onProgress: (e) => { if (e.done) console.log(e.step, ((Date.now()-t)/1000).toFixed(1)); } });
console.log(r, (Date.now() - t) / 1000);
process.exit(0);
