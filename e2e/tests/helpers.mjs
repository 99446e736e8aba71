// Shared by the browser tests: the browser, signing in, and a screenshot when a test fails.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const BASE = process.env.E2E_BASE_URL;
export const PASSWORD = process.env.E2E_PASSWORD;
export const SEED = JSON.parse(process.env.E2E_SEED ?? '{}');
assert.ok(BASE, 'run through e2e/run.sh (E2E_BASE_URL is not set)');

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');

/** Debian's Chromium, headless; no browser is downloaded. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Runs `body` with a fresh page; on failure saves a screenshot into e2e/test-results/. */
export async function withPage(browser, name, body) {
  const context = await browser.newContext({ baseURL: BASE });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  try {
    await body(page);
  } catch (e) {
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${file}; page: ${page.url()})`;
    throw e;
  } finally {
    await context.close();
  }
}

/** Signs in through the sign-in page. */
export async function signIn(page, login) {
  await page.goto('/login');
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Signs out with the header's button. */
export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/login'));
}

/** The page's one h1 says `text`. */
export async function heading(page, text) {
  const h1 = page.getByRole('heading', { level: 1 });
  assert.equal(await h1.count(), 1, 'exactly one h1');
  assert.match(await h1.innerText(), text instanceof RegExp ? text : new RegExp(escape(text)));
}

/** The success banner says `text`. */
export async function banner(page, text) {
  const alert = page.locator('.notification-banner--success');
  assert.match(await alert.innerText(), new RegExp(escape(text)));
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Makes a referral about a new child through the form, as whoever is signed in; returns
 * the referral page's path.
 */
export async function makeReferral(page, { given, family, dob }) {
  await page.goto('/referrals/new');
  await heading(page, 'Make a referral');
  await page.getByLabel('Team receiving the referral').selectOption({ label: SEED.team });
  await page.getByLabel('School or education', { exact: true }).check();
  await page.getByLabel('Who is referring (optional)').fill('Head teacher, Hill School');
  await page.getByLabel('What is the concern?').fill(`${given} came to school hungry and with bruising on the arm`);
  await page.getByLabel('Neglect', { exact: true }).check();
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Date of birth').fill(dob);
  await page.getByLabel('Known', { exact: true }).check();
  await page.getByRole('button', { name: 'Send referral' }).click();
  // Someone like this child may already be recorded: these tests mean a new child.
  const asked = page.getByText('Is this a child already recorded?');
  await Promise.race([page.waitForURL(/\/referrals\/\d+\?done=referral/), asked.waitFor()]);
  if (await asked.count()) {
    await page.getByLabel('None of these: a new person').check();
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.waitForURL(/\/referrals\/\d+\?done=referral/);
  }
  await banner(page, 'Referral recorded');
  return new URL(page.url()).pathname;
}

/** Decides a referral for assessment and allocates the child's case to `worker`. */
export async function decideAndAllocate(page, referralPath, childName, worker) {
  await page.goto(referralPath);
  await page.getByRole('link', { name: 'Decide on this referral' }).click();
  await page.getByLabel('Child and family assessment', { exact: true }).check();
  await page.getByLabel('Reasons for the decision').fill('No earlier history; needs a full assessment');
  await page.getByRole('button', { name: 'Record decision' }).click();
  await banner(page, 'Decision recorded');
  await page.getByRole('link', { name: `Allocate ${childName}’s case` }).click();
  await heading(page, `Allocate ${childName}’s case`);
  await page.getByLabel(worker, { exact: true }).check();
  await page.getByRole('button', { name: 'Allocate case' }).click();
  await page.waitForURL(/\/people\/\d+\?done=allocated/);
  await banner(page, 'Case allocated');
  await heading(page, childName);
  return new URL(page.url()).pathname;
}
