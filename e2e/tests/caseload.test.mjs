// Allocation with the caseload in view: the team manager sees the team's workers ranked
// by load against their caps, is refused when a case would take a worker over their cap
// without a reason, allocates with one, and sees the `caseload_over_cap` escalation and
// the dashboard; moving the case on clears the escalation by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, signIn, heading, banner, makeReferral, SEED } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Decides a referral for assessment and opens its allocation page. */
async function decideAndOpenAllocation(page, referralPath, childName) {
  await page.goto(referralPath);
  await page.getByRole('link', { name: 'Decide on this referral' }).click();
  await page.getByLabel('Child and family assessment', { exact: true }).check();
  await page.getByLabel('Reasons for the decision').fill('Needs a full assessment');
  await page.getByRole('button', { name: 'Record decision' }).click();
  await banner(page, 'Decision recorded');
  await page.getByRole('link', { name: `Allocate ${childName}’s case` }).click();
  await heading(page, `Allocate ${childName}’s case`);
}

test('a manager allocates over the cap only with a reason, and sees the escalation', async () => {
  await withPage(browser, 'caseload', async (page) => {
    await signIn(page, SEED.tm);
    const pat = SEED.ptName;

    // The first case fits under Pat's cap of 1.5.
    const first = await makeReferral(page, { given: 'Ivy', family: 'Holt', dob: '2016-05-01' });
    await decideAndOpenAllocation(page, first, 'Ivy Holt');
    const row = page.getByRole('row').filter({ hasText: pat });
    assert.match(await row.innerText(), /0\.1\s+0\s+0\s+1\.5\s+1\.5/, 'FTE, open cases, load, cap and headroom in view');
    await page.getByLabel(pat, { exact: true }).check();
    await page.getByRole('button', { name: 'Allocate case' }).click();
    await banner(page, 'Case allocated');

    // A second would make 2 against 1.5: refused without a reason, beside the field.
    const second = await makeReferral(page, { given: 'Jude', family: 'Holt', dob: '2018-02-11' });
    await decideAndOpenAllocation(page, second, 'Jude Holt');
    const ranked = await page.getByRole('table').first().innerText();
    assert.ok(ranked.indexOf(SEED.swName) < ranked.indexOf(pat), 'the lightest load is ranked first');
    assert.match(await page.getByRole('row').filter({ hasText: pat }).innerText(), /would take them over/);
    await page.getByLabel(pat, { exact: true }).check();
    await page.getByRole('button', { name: 'Allocate case' }).click();
    await heading(page, 'Allocate Jude Holt’s case');
    const summary = page.locator('.error-summary');
    assert.match(await summary.innerText(), /caseload of 2 against a cap of 1\.5/);
    assert.match(await page.locator('#override_reason-error').innerText(), /must give a reason/);

    // With a reason it goes through, on the record.
    await page.getByLabel(pat, { exact: true }).check();
    await page.getByLabel('Reason for going over the cap (if needed)').fill('Pat knows the family from the first case');
    await page.getByRole('button', { name: 'Allocate case' }).click();
    await banner(page, 'Case allocated');
    const judeRecord = new URL(page.url()).pathname;

    // The escalation waits on the team manager.
    await page.goto('/escalations');
    const esc = page.getByRole('row').filter({ hasText: 'Caseload over the cap' });
    assert.equal(await esc.count(), 1, 'one caseload_over_cap escalation');
    assert.match(await esc.innerText(), new RegExp(pat));

    // The dashboard shows Pat over the cap and the staffing gap.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Caseloads' }).click();
    await heading(page, /Caseloads/);
    assert.match(await page.getByRole('row').filter({ hasText: pat }).innerText(), /Over: 133%/);
    assert.match(await page.locator('main').innerText(), /FTE needed today: 0\.5 ÷ 15 per FTE/);

    // Jude's case moves to Sam: Pat is back under the cap and the escalation resolves itself.
    await page.goto(judeRecord);
    await page.getByRole('link', { name: 'Reallocate' }).click();
    await heading(page, 'Allocate Jude Holt’s case');
    await page.getByLabel(SEED.swName, { exact: true }).check();
    await page.getByRole('button', { name: 'Allocate case' }).click();
    await banner(page, 'Case allocated');
    await page.goto('/escalations');
    assert.equal(await page.getByRole('row').filter({ hasText: 'Caseload over the cap' }).count(), 0);
  });
});
