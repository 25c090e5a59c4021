#!/usr/bin/env node
// A native-`solc` command line on top of solc-js (the npm `solc` package).
//
// forge, py-solc-x, ape-solidity and slither all drive the compiler through the native CLI.
// No native solc can be installed on these machines, so this launcher speaks the subset they use:
//   --version                      "Version: <x.y.z>+commit.<hash>.Linux.g++"
//   --standard-json                standard JSON on stdin, standard JSON on stdout
//   --base-path / --include-path / --allow-paths   import resolution for file reads
//   --combined-json <kinds> files  the legacy output slither reads
// Output is written with process.exitCode set (never process.exit()), so a pipe is fully drained.
"use strict";

const fs = require("fs");
const path = require("path");
// SOLCJS_MODULE picks another pinned solc-js (e.g. "solc-0.8.19" for Morpho Blue in the gas bench).
const solc = require(process.env.SOLCJS_MODULE || "solc");

function nativeVersion() {
  return solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], files: [], remappings: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      const eq = arg.indexOf("=");
      if (eq >= 0) return arg.slice(eq + 1);
      i += 1;
      return argv[i];
    };
    if (arg === "--version" || arg === "-v") opts.version = true;
    else if (arg === "--standard-json") opts.standardJson = true;
    else if (arg.startsWith("--base-path")) opts.basePath = takeValue();
    else if (arg.startsWith("--include-path")) opts.includePaths.push(takeValue());
    else if (arg.startsWith("--allow-paths")) opts.allowPaths.push(...takeValue().split(","));
    else if (arg.startsWith("--combined-json")) opts.combinedJson = takeValue().split(",");
    else if (arg.startsWith("--evm-version")) opts.evmVersion = takeValue();
    else if (arg === "--optimize") opts.optimize = true;
    else if (arg.startsWith("--optimize-runs")) opts.optimizeRuns = Number(takeValue());
    else if (arg === "--no-color" || arg === "--pretty-json" || arg === "--metadata-hash") { /* no-op */ }
    else if (arg.startsWith("--")) { /* unknown flags are ignored like solc's harmless ones */ }
    else if (arg.includes("=") && !arg.endsWith(".sol")) opts.remappings.push(arg);
    else opts.files.push(arg);
  }
  return opts;
}

function makeImportReader(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths, ...opts.allowPaths];
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.filter(Boolean).map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, "utf8") };
      } catch (_) { /* try the next root */ }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function combinedJson(opts) {
  const sources = {};
  for (const file of opts.files) sources[file] = { content: fs.readFileSync(file, "utf8") };
  const wants = new Set(opts.combinedJson);
  const input = {
    language: "Solidity",
    sources,
    settings: {
      remappings: opts.remappings,
      optimizer: { enabled: !!opts.optimize, runs: opts.optimizeRuns || 200 },
      evmVersion: opts.evmVersion || "cancun",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "userdoc", "devdoc", "metadata"], "": ["ast"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: makeImportReader(opts) }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    process.stderr.write(errors.map((e) => e.formattedMessage).join("\n") + "\n");
    process.exitCode = 1;
    return;
  }
  const contracts = {};
  for (const [file, byName] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      if (wants.has("abi")) entry.abi = c.abi;
      if (wants.has("bin")) entry.bin = c.evm.bytecode.object;
      if (wants.has("bin-runtime")) entry["bin-runtime"] = c.evm.deployedBytecode.object;
      if (wants.has("srcmap")) entry.srcmap = c.evm.bytecode.sourceMap;
      if (wants.has("srcmap-runtime")) entry["srcmap-runtime"] = c.evm.deployedBytecode.sourceMap;
      if (wants.has("userdoc")) entry.userdoc = c.userdoc;
      if (wants.has("devdoc")) entry.devdoc = c.devdoc;
      if (wants.has("hashes")) entry.hashes = c.evm.methodIdentifiers || {};
      if (wants.has("metadata")) entry.metadata = c.metadata;
      contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceList = Object.keys(output.sources || {});
  const sourcesOut = {};
  for (const [file, s] of Object.entries(output.sources || {})) sourcesOut[file] = wants.has("ast") ? { AST: s.ast } : {};
  process.stdout.write(JSON.stringify({ contracts, sourceList, sources: sourcesOut, version: nativeVersion() }));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersion()}\n`);
    return;
  }
  if (opts.standardJson) {
    const input = await readStdin();
    process.stdout.write(solc.compile(input, { import: makeImportReader(opts) }));
    return;
  }
  if (opts.combinedJson) {
    combinedJson(opts);
    return;
  }
  process.stderr.write("solc launcher: use --version, --standard-json or --combined-json\n");
  process.exitCode = 2;
}

main().catch((err) => {
  process.stderr.write(`solc launcher: ${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
});
