/**
 * ratings: a gRPC server (trellis.demo.Ratings/GetRatings) with the stars
 * each reviewer gave a product. reviews v2 and v3 call it.
 *
 * Environment:
 *   POD_IP, PORT      where to listen (0.0.0.0:9080 without them)
 *   POD_NAME          reported in each answer
 *   FAILURE_PERCENT   answer that share of calls with UNAVAILABLE (0) — to watch the mesh's retries hide them
 *   DELAY_MS          wait this long before each answer (0) — to watch the mesh's timeout cut it short
 */
import * as grpc from '@grpc/grpc-js';
import { intFromEnv, listenHost, listenPort, logger, onShutdown } from './lib.mjs';
import { ratingsService } from './ratings-api.mjs';

const log = logger('ratings');
const failurePercent = intFromEnv('FAILURE_PERCENT', 0, 0, 100);
const delayMs = intFromEnv('DELAY_MS', 0, 0, 60_000);
const pod = process.env.POD_NAME || 'ratings';

/** Stars by product id, then reviewer (the reviewers of reviews.mjs). */
const RATINGS = new Map([[0, { Ada: 5, Grace: 3 }]]);

const server = new grpc.Server();
server.addService(ratingsService, {
  GetRatings(call, done) {
    const id = call.request?.productId;
    if (!Number.isInteger(id)) {
      done({ code: grpc.status.INVALID_ARGUMENT, details: 'productId must be an integer' });
      return;
    }
    const answer = () => {
      if (failurePercent > 0 && Math.random() * 100 < failurePercent) {
        done({ code: grpc.status.UNAVAILABLE, details: `ratings failed on purpose (FAILURE_PERCENT=${failurePercent})` });
        return;
      }
      const ratings = RATINGS.get(id);
      if (ratings === undefined) done({ code: grpc.status.NOT_FOUND, details: `no ratings for product ${id}` });
      else done(null, { productId: id, ratings, pod });
    };
    if (delayMs === 0) {
      answer();
      return;
    }
    const timer = setTimeout(answer, delayMs);
    // A caller that gave up (deadline, or the mesh's timeout resetting the stream) needs no answer.
    call.on('cancelled', () => clearTimeout(timer));
  },
});

const host = listenHost();
server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${listenPort()}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`ratings: cannot listen on ${host}:${listenPort()}: ${err.message}\n`);
    process.exit(1);
  }
  log(`listening on ${host}:${port} (gRPC trellis.demo.Ratings)${failurePercent ? `, failing ${failurePercent} %` : ''}${delayMs ? `, delaying ${delayMs} ms` : ''}`);
});

onShutdown(() => new Promise((resolve) => server.tryShutdown(() => resolve())));
