#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Before the tests: makes sure the system programs the suite drives are installed. Each entry names
// the file that proves the program is there and the Debian package that provides it. As root on a
// Debian machine, missing packages are installed with apt-get; otherwise this prints exactly what to
// install and the tests that need it skip with the same message. It never fails the test run itself.
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Debian installs PostgreSQL's server programs under a directory named for its major version. */
export function postgresBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(`${root}/${name}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${root}/${versions[0]}/bin` : undefined;
}

/** What the suite needs beyond Node. */
export const SYSTEM_DEPENDENCIES = [
  {
    debianPackage: 'chromium',
    path: process.env.TOLLGATE_CHROMIUM_PATH || '/usr/bin/chromium',
    neededBy: 'the browser tests (test/browser)',
  },
  {
    debianPackage: 'postgresql',
    get path() {
      return `${postgresBinDir() ?? '/usr/lib/postgresql/<version>/bin'}/initdb`;
    },
    neededBy: 'the PostgreSQL and several-instance tests (test/cluster, the store contract suite)',
  },
  {
    debianPackage: 'redis-server',
    path: '/usr/bin/redis-server',
    neededBy: 'the Redis and several-instance tests (test/cluster)',
  },
];

// apt-get on a slow mirror takes minutes; past this the run goes on without the package.
const APT_TIMEOUT_MS = 10 * 60_000;

export function missingDependencies(dependencies = SYSTEM_DEPENDENCIES) {
  return dependencies.filter((dependency) => !existsSync(dependency.path));
}

/** The sentence a skipped test prints: what to install, and how. */
export function installAdvice(dependency) {
  return (
    `${dependency.path} not found: install Debian's ${dependency.debianPackage} package ` +
    `(as root: apt-get install -y ${dependency.debianPackage}) to run ${dependency.neededBy}`
  );
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: APT_TIMEOUT_MS,
  });
  return result.status === 0;
}

function canInstall() {
  return process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
}

export function ensureSystemDependencies() {
  const missing = missingDependencies();
  if (missing.length === 0) return [];
  if (canInstall()) {
    const packages = missing.map((dependency) => dependency.debianPackage);
    console.log(`system-deps: installing ${packages.join(' ')} with apt-get`);
    const installed =
      run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', ...packages]);
    if (!installed) console.log('system-deps: apt-get did not finish');
  }
  const stillMissing = missingDependencies();
  for (const dependency of stillMissing)
    console.log(`system-deps: ${installAdvice(dependency)}; they will skip`);
  return stillMissing;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) ensureSystemDependencies();
