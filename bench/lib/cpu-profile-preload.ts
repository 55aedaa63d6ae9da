/**
 * Preloaded into the control plane (`NODE_OPTIONS=--import …/cpu-profile-preload.js`;
 * Node refuses --cpu-prof there) by bench:churn: V8's CPU profiler for one
 * phase of the process only. SIGUSR2 starts it; SIGPWR (SIGUSR1 is the
 * inspector's) stops it and writes the profile to $TRELLIS_CPU_PROFILE.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.TRELLIS_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  process.on('SIGUSR2', () => void post('Profiler.enable').then(() => post('Profiler.start')));
  process.on('SIGPWR', () => {
    void post('Profiler.stop').then((r) => writeFileSync(out, JSON.stringify((r as { profile: unknown }).profile)));
  });
}
