 const fs = require("fs");
const { join, resolve: res } = require("path");
let cfg = require("./config.json");

fs.readFileSync(join(cfg.dir, "x"))
