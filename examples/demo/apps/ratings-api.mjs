/**
 * The ratings service's gRPC contract, shared by its server (ratings.mjs)
 * and its client (reviews.mjs). Messages are UTF-8 JSON: gRPC carries any
 * bytes, and the demo needs no .proto and no code generator, while every
 * hop (HTTP/2, trailers, status codes, deadlines, metadata) is real gRPC —
 * what a sidecar routes, retries and times out.
 *
 *   GetRatings({productId: 0}) → {productId: 0, ratings: {"Ada": 5, ...}, pod: "ratings-…"}
 */
const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString('utf8')),
};

export const ratingsService = {
  GetRatings: {
    path: '/trellis.demo.Ratings/GetRatings',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
