// Every version this repository pins, found in the files themselves, must be
// among the dependencies Renovate extracted (the report of a
// --dry-run=extract run, argument 1): a pin Renovate does not see never gets
// an update. Run from the repository root by scripts/renovate-check.sh.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// What Renovate found: "file\0name\0version", and "file\0\0version" for
// pins looked up by version alone.
const found = new Set();
for (const repo of Object.values(report.repositories)) {
  for (const files of Object.values(repo.packageFiles)) {
    for (const file of files) {
      for (const dep of file.deps) {
        if (dep.skipReason) continue;
        found.add(`${file.packageFile}\0${dep.depName}\0${dep.currentValue}`);
        found.add(`${file.packageFile}\0\0${dep.currentValue}`);
      }
    }
  }
}

// What the files pin: [file, name ('' where the file does not name it), version, kind].
const want = [];
const pins = (file, text, re, kind, named = true) => {
  for (const m of text.matchAll(re)) want.push([file, named ? m[1] : '', named ? m[2] : m[1], kind]);
};
const tracked = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
for (const file of tracked) {
  let text;
  if (/^(clusters|infrastructure|apps)\/.+\.ya?ml$/.test(file)) {
    text = readFileSync(file, 'utf8');
    // A HelmRelease's chart.spec: chart NAME, then version.
    pins(file, text, /^ +chart: (\S+)\n +version: "?([^"\s]+)"?$/gm, 'chart');
    if (/(^|\/)kustomization\.yaml$/.test(file)) {
      pins(file, text, /^ +- name: (\S+)\n +newTag: "?([^"\s]+)"?$/gm, 'image');
    }
  } else if (/^scripts\/(lib\/harnessmod|controllers)\.sh$/.test(file)) {
    // Table rows: "name|module|version|...".
    pins(file, readFileSync(file, 'utf8'), /^\s+"[a-z-]+\|([^|"]+)\|(v[^|"]+)\|/gm, 'harness binary');
  } else if (/^scripts\/(install-tools|testenv)\.sh$/.test(file)) {
    pins(file, readFileSync(file, 'utf8'), /^[A-Z_]+_VERSION=(v\S+)/gm, 'tool', false);
  } else if (file === 'tools/internal/testenv/binaries.go') {
    pins(file, readFileSync(file, 'utf8'), /^const Version = "(v[^"]+)"/gm, 'kube-apiserver', false);
  }
}

const missed = want.filter(([file, name, version]) => !found.has(`${file}\0${name}\0${version}`));
for (const [file, name, version, kind] of missed) {
  console.error(`renovate-check: ${file}: ${kind} ${name ? `${name} ` : ''}${version} is pinned but Renovate does not extract it`);
}
if (want.length === 0) {
  console.error('renovate-check: found no pins in the repository: the patterns above are out of date');
  process.exit(1);
}
if (missed.length > 0) process.exit(1);
console.error(`renovate-check: Renovate extracts all ${want.length} pinned versions`);
