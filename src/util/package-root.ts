import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding package.json, config/ and data/: the nearest ancestor of `from` with a
 * package.json. The code runs from src/ (TypeScript, tests and `npm run demo`) and from dist/src/
 * (compiled, `npm start` and Docker), so a fixed number of `..` would point at dist/ in one of them.
 */
export function packageRoot(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
