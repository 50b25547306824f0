{
  "targets": [
    {
      "target_name": "int8_scan",
      "sources": ["int8_scan.c", "scan_loops.c"],
      "cflags": ["-O3"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
    }
  ]
}
