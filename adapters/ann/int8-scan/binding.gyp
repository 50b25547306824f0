{
  "targets": [
    {
      "target_name": "int8_scan",
      "sources": ["int8_scan.c"],
      "cflags": ["-O3"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
    }
  ]
}
