/**
 * Preloaded into the proxy (`node --import dist/bench/proxy/alloc-profile-preload.js`)
 * by profile.ts: V8's sampling heap profiler with objects collected by GC
 * included (so it counts what is allocated, not what survives). SIGUSR2
 * starts a fresh sampling period; SIGUSR1 is the inspector's, so SIGPWR
 * writes the profile to $TRELLIS_ALLOC_PROFILE.
 * TRELLIS_ALLOC_SURVIVORS=1 samples only objects that survive young-generation GCs.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.TRELLIS_ALLOC_PROFILE;
// TRELLIS_ALLOC_SURVIVORS=1 leaves out what scavenges free: only what lives long enough to be promoted.
const survivorsOnly = process.env.TRELLIS_ALLOC_SURVIVORS === '1';
if (out) {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  const start = () => post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly });
  process.on('SIGUSR2', () => {
    void post('HeapProfiler.stopSampling').then(start);
  });
  process.on('SIGPWR', () => {
    void post('HeapProfiler.stopSampling').then((r) => {
      writeFileSync(out, JSON.stringify((r as { profile: unknown }).profile));
      return start();
    });
  });
  void post('HeapProfiler.enable').then(start);
}
