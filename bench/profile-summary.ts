/**
 * Prints the hot spots of a V8 CPU profile, e.g. one written by `npm run bench -- --profile`:
 *
 *   node bench/.build/bench/profile-summary.js bench/results/profiles/pipeline-botfleet.cpuprofile [TOP]
 */
import { basename } from 'node:path';
import { formatProfile, summariseProfile } from './lib/profile.js';

const [file, top] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/.build/bench/profile-summary.js FILE.cpuprofile [TOP]\n');
  process.exitCode = 2;
} else {
  process.stdout.write(`${formatProfile(basename(file), summariseProfile(file, Number(top ?? 25)))}\n`);
}
