{
  "variables": {
    "has_libdeflate": "<!(test -f /usr/include/libdeflate.h && echo 1 || echo 0)",
    "has_isal": "<!(test -f /usr/include/isa-l/igzip_lib.h && echo 1 || echo 0)"
  },
  "conditions": [
    ["has_libdeflate==1", {
      "targets": [
        {
          "target_name": "accel_deflate",
          "sources": ["gzip_member.c"],
          "libraries": ["-ldeflate"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
        }
      ]
    }],
    ["has_isal==1", {
      "targets": [
        {
          "target_name": "accel_gunzip",
          "sources": ["gunzip_stream.c"],
          "libraries": ["-lisal"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
        }
      ]
    }]
  ]
}
