{
  "targets": [
    {
      # The Linux TAP link for Node (hal/tap/tap.ts). Other systems get an empty target so that
      # `npm install` still succeeds there; only the TAP device is unavailable.
      "target_name": "tap",
      "conditions": [
        [
          "OS=='linux'",
          {
            "sources": ["hal/tap/native/tap.cc"],
            "dependencies": [
              "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
            ],
            "defines": ["NAPI_VERSION=8"],
            "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
          },
          { "type": "none" }
        ]
      ]
    }
  ]
}
