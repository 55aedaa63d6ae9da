# One image for the three roles Trellis plays on Kubernetes:
#   control plane:   trellis controlplane --source kubernetes   (the Deployment `trellis install` prints)
#   sidecar proxy:   trellis proxy ...                          (injected, runs as uid 1337)
#   init container:  trellis iptables ...                       (needs NET_ADMIN and NET_RAW)
# The build stage runs `npm ci`, whose prepare step generates the Envoy API, compiles,
# bundles (dist/bundle/) and builds the native addon (SO_ORIGINAL_DST); the runtime stage
# has only production dependencies, the bundle, the addon and iptables.

FROM node:20-slim AS build
WORKDIR /app
# node-gyp builds the native addon against this Node's headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN npm ci

FROM node:20-slim
# iptables-legacy and -nft both come with the package; `trellis iptables` calls iptables-save/-restore.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --ignore-scripts: prepare is the build, done in the first stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/bundle ./dist/bundle
COPY --from=build /app/native/build/Release/trellis_native.node ./native/build/Release/trellis_native.node
# `trellis` on PATH: the injected postStart hook (holdApplicationUntilProxyStarts) runs `trellis wait`.
RUN printf '#!/bin/sh\nexec node /app/dist/bundle/main.js "$@"\n' > /usr/local/bin/trellis && chmod 0755 /usr/local/bin/trellis
# The proxy's uid (Istio's): its own traffic is what the capture rules let through.
RUN groupadd --gid 1337 istio-proxy && useradd --uid 1337 --gid 1337 --no-create-home --shell /usr/sbin/nologin istio-proxy
USER 1337:1337
ENTRYPOINT ["node", "/app/dist/bundle/main.js"]
CMD ["--help"]
