// Runs before every entry point (npm start, demo, test, bench; bin/qwenbot.js) on whatever Node is
// installed, so it is plain JavaScript: on a Node too old to strip types, the person gets one line
// saying what to install instead of ERR_UNKNOWN_FILE_EXTENSION or a crash deep inside the tests.
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Optional chaining and node: imports need Node 14.18; anything older cannot run ESM .mjs files well anyway.
const range = manifest.engines?.node ?? '>=22.18.0';
const wanted = (/(\d+)\.(\d+)/.exec(range) || [null, '22', '18']).slice(1).map(Number);
const have = process.versions.node.split('.').map(Number);

if (have[0] < wanted[0] || (have[0] === wanted[0] && have[1] < wanted[1])) {
  process.stderr.write(
    `qwenbot needs Node.js ${wanted[0]}.${wanted[1]} or newer (engines "${range}"), but this is Node ` +
      `v${process.versions.node} (${process.execPath}). Install Node 24 from https://nodejs.org, ` +
      'or with nvm: nvm install 24, or without root: npm install --prefix ~/.cache/qwenbot/node24 node@24 ' +
      'and put ~/.cache/qwenbot/node24/node_modules/node/bin first on PATH.\n',
  );
  process.exit(1);
}
