{
  "targets": [
    {
      "target_name": "accel_deflate",
      "sources": ["gzip_member.c"],
      "libraries": ["-ldeflate"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
