/**
 * The registration page in a real browser (Debian Chromium driven by playwright-core): the buyer
 * arrives from a simulated AWS Marketplace form post, fills the form with the keyboard only, gets an
 * error summary for an invalid e-mail, fixes it and sees the tenant id. Also checks accessibility
 * basics in the DOM, that nothing overflows at 320 px, and takes screenshots to /tmp.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deriveTenantId, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { startLocalRegistration, type LocalRegistration } from '../../local/registration/local-registration';

/** Debian's Chromium by default; CI runners without it point CHROMIUM_PATH at their Chrome. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PRODUCT = 'prod-browser';
const TOKEN = 'browser-token-0123456789abcdef';
const ACCOUNT = '444455556666';
const LICENSE_ARN = 'arn:aws:license-manager::294406891311:license:l-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e';
const IDENTITY: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: ACCOUNT, licenseArn: LICENSE_ARN, productCode: PRODUCT };
const SCREENSHOTS = {
  form: '/tmp/registration-form-1024.png',
  errors: '/tmp/registration-errors-320.png',
  success: '/tmp/registration-success-320.png',
};

/*
 * The few DOM types the page-side functions below use: the project compiles without lib "dom", and
 * these functions run in the browser (page.evaluate serialises them), where `document` is global.
 */
interface DomElement {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
interface DomField extends DomElement {
  readonly name: string;
  readonly labels: ArrayLike<DomElement> | null;
}
interface DomLabel extends DomElement {
  readonly htmlFor: string;
}
interface Dom {
  readonly documentElement: DomElement & { readonly lang: string; readonly scrollWidth: number; readonly clientWidth: number };
  readonly title: string;
  readonly activeElement: DomElement | null;
  querySelectorAll<T extends DomElement = DomElement>(selector: string): ArrayLike<T> & Iterable<T>;
  getElementById(id: string): DomElement | null;
}
declare const document: Dom;
declare const location: { readonly hash: string };

jest.setTimeout(20_000);

let local: LocalRegistration | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian chromium (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`);
  }
  local = await startLocalRegistration({ marketplaceRedirect: true, serviceName: 'Example Metering' });
  local.sim.addProduct({ productCode: PRODUCT, dimensions: ['api_requests'] });
  local.sim.registerToken(TOKEN, { productCode: PRODUCT, customerAWSAccountId: ACCOUNT, licenseArn: LICENSE_ARN, expiresAt: Date.now() + 60 * 60 * 1000 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 10_000,
  });
});

afterAll(async () => {
  await browser?.close();
  await local?.close();
});

/** Accessibility basics read from the DOM. */
async function accessibilityBasics(page: Page) {
  return page.evaluate(() => {
    const fields = [...document.querySelectorAll<DomField>('input:not([type=hidden]), select, textarea')];
    return {
      lang: document.documentElement.lang,
      title: document.title,
      h1: document.querySelectorAll('h1').length,
      main: document.querySelectorAll('main').length,
      unlabelled: fields.filter((field) => field.labels === null || field.labels.length === 0 || (field.labels[0]?.textContent ?? '').trim() === '').map((field) => field.name),
      labelOrder: [...document.querySelectorAll<DomLabel>('label')].map((label) => label.htmlFor),
      brokenDescriptions: fields.flatMap((field) => (field.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id !== '' && document.getElementById(id) === null)),
      overflowsHorizontally: document.documentElement.scrollWidth > document.documentElement.clientWidth,
      scripts: document.querySelectorAll('script').length,
    };
  });
}

async function activeId(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || '');
}

/** Tabs to the next field, checks it is `expected`, and types `text`. */
async function tabAndType(page: Page, expected: string, text: string): Promise<void> {
  await page.keyboard.press('Tab');
  expect(await activeId(page)).toBe(expected);
  await page.keyboard.type(text);
}

it('lets a buyer coming from AWS Marketplace register with the keyboard alone', async () => {
  if (browser === undefined || local === undefined) throw new Error('setup failed');
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, javaScriptEnabled: true });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });

    // Marketplace posts the token from the buyer's browser.
    await page.goto(local.server.marketplaceRedirectUrl(TOKEN));
    await page.waitForURL(local.server.registrationUrl);
    await expect(page.locator('h1').textContent()).resolves.toBe('Set up your account');
    const basics = await accessibilityBasics(page);
    expect(basics).toMatchObject({ lang: 'en', h1: 1, main: 1, unlabelled: [], brokenDescriptions: [], overflowsHorizontally: false, scripts: 0 });
    expect(basics.title).toMatch(/Set up your account/);
    await page.screenshot({ path: SCREENSHOTS.form, fullPage: true });

    // A phone-sized window from here on.
    await page.setViewportSize({ width: 320, height: 720 });
    expect((await accessibilityBasics(page)).overflowsHorizontally).toBe(false);

    // Tab order follows the labels.
    const order = basics.labelOrder;
    expect(order).toEqual(['companyName', 'contactPerson', 'contactEmail', 'contactPhone']);
    await tabAndType(page, 'companyName', 'Example Ltd');
    await tabAndType(page, 'contactPerson', 'Jane Doe');
    await tabAndType(page, 'contactEmail', 'jane.example.com');
    await tabAndType(page, 'contactPhone', '+44 20 7946 0000');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Set up account');
    await Promise.all([page.waitForResponse((response) => response.url() === local?.server.registrationUrl && response.status() === 400), page.keyboard.press('Enter')]);

    // The error summary: visible, an alert, focused (autofocus), linking to the field.
    const summary = page.locator('#error-summary');
    await summary.waitFor({ state: 'visible', timeout: 5000 });
    await expect(summary.getAttribute('role')).resolves.toBe('alert');
    await expect(summary.textContent()).resolves.toContain('Enter an email address in the correct format, like name@example.com');
    // Focused on load by `autofocus` (no script needed), and focusable (tabindex=-1).
    await page.waitForFunction(() => document.activeElement?.id === 'error-summary', undefined, { timeout: 2000 });
    await expect(summary.getAttribute('tabindex')).resolves.toBe('-1');
    const email = page.locator('#contactEmail');
    await expect(email.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(email.inputValue()).resolves.toBe('jane.example.com');
    await expect(page.locator('#companyName').inputValue()).resolves.toBe('Example Ltd');
    expect(await accessibilityBasics(page)).toMatchObject({ lang: 'en', h1: 1, main: 1, unlabelled: [], brokenDescriptions: [], overflowsHorizontally: false });
    await page.screenshot({ path: SCREENSHOTS.errors, fullPage: true });

    // Follow the summary's link with the keyboard, fix the e-mail, submit with Enter.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('#contactEmail');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#contactEmail');
    // Following the fragment link moves focus to the field (no script needed).
    expect(await activeId(page)).toBe('contactEmail');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('jane@example.com');
    await Promise.all([page.waitForResponse((response) => response.url() === local?.server.registrationUrl && response.request().method() === 'POST'), page.keyboard.press('Enter')]);
    await page.waitForSelector('#tenant-id');

    await expect(page.locator('h1').textContent()).resolves.toBe("You're set up");
    await expect(page.locator('#tenant-id').textContent()).resolves.toBe(deriveTenantId(IDENTITY));
    expect(await accessibilityBasics(page)).toMatchObject({ lang: 'en', h1: 1, main: 1, overflowsHorizontally: false });
    await page.screenshot({ path: SCREENSHOTS.success, fullPage: true });
    expect((await local.registry.findByIdentity(IDENTITY))?.tenant.contact?.contactEmail).toBe('jane@example.com');
    // No CSP violation or other error in the console (the inline style is allowed by its hash); the
    // only expected message is Chromium's note about the 400 answer to the invalid form.
    expect(problems.filter((text) => !/status of 400 \(Bad Request\)/.test(text))).toEqual([]);
  } finally {
    await context.close();
  }
});
