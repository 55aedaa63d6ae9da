{
  "targets": [
    {
      "target_name": "trellis_native",
      "sources": ["src/trellis_native.cc", "src/common.cc", "src/netns_socket.cc", "src/seqpacket.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
