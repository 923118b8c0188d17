import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { installAdvice, missingDependencies, SYSTEM_DEPENDENCIES } from '../../../scripts/system-deps.mjs';

const dependency = SYSTEM_DEPENDENCIES.find((d) => d.debianPackage === 'chromium');
if (!dependency) throw new Error('scripts/system-deps.mjs no longer lists chromium');

/** Debian's chromium, which `npm test` installs first when it runs as root. */
export const CHROMIUM_PATH = dependency.path;
export const chromiumMissing = missingDependencies([dependency]).length > 0;
/** The sentence a skipped browser suite shows: exactly what to install. */
export const chromiumAdvice = installAdvice(dependency);

/**
 * These machines have no network: without the background-networking switches Chromium keeps trying
 * to reach Google's services and logs refused connections. `--no-sandbox` because the tests run as
 * root, where Chromium's sandbox refuses to start.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * One headless Chromium for a whole test file (Playwright starts it on a fresh temporary
 * user-data directory of its own); each user of a journey gets a context with its own cookie jar.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 60_000 });
}

export async function newUserContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  return context;
}
