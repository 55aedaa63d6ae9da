{
  "targets": [
    {
      "target_name": "trellis_native",
      "sources": ["src/trellis_native.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
