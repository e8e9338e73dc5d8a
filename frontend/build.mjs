// Bundles the browser islands from src/ into ../static/dist/ (one file per page, shared chunks).
import * as esbuild from "esbuild";
import { renameSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const isWatch = process.argv.includes("--watch");
const outdir = path.join(here, "..", "static", "dist");

// rehype-highlight falls back on lowlight's 37 "common" languages, which would land in the
// bundle even though the run view registers its own few (frontend/src/markdown.jsx).
const onlyOwnLanguages = {
  name: "only-own-languages",
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\/(all|common)\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}lowlight${path.sep}`)
        ? { path: path.join(here, "src", "no-languages.js") }
        : undefined,
    );
  },
};

const options = {
  absWorkingDir: here,
  plugins: [onlyOwnLanguages],
  entryPoints: {
    builder: "src/builder/main.jsx",
    run: "src/run/main.jsx",
    history: "src/history/main.jsx",
    teams: "src/teams/main.js",
    models: "src/models/main.jsx",
    compare: "src/compare/main.jsx",
    settings: "src/settings/main.jsx",
    sharing: "src/sharing/main.jsx",
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020"],
  jsx: "automatic",
  loader: { ".js": "jsx" },
  minify: !isWatch,
  sourcemap: true,
  legalComments: "linked",
  define: { "process.env.NODE_ENV": JSON.stringify(isWatch ? "development" : "production") },
  logLevel: "warning",
};

if (isWatch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("esbuild: watching frontend/src");
} else {
  // Chunk names carry content hashes: build into a fresh folder so stale chunks do not
  // pile up, then swap it in, so a page served meanwhile never sees a half-written set.
  const fresh = `${outdir}.${process.pid}.new`;
  const stale = `${outdir}.${process.pid}.old`;
  rmSync(fresh, { recursive: true, force: true });
  await esbuild.build({ ...options, outdir: fresh });
  try {
    renameSync(outdir, stale);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  renameSync(fresh, outdir);
  rmSync(stale, { recursive: true, force: true });
}
