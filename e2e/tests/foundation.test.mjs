// The foundation walk in a browser: a referral about a new child, the decision, the
// allocation, a visit, and the child's record showing it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, signIn, signOut, heading, banner, makeReferral, decideAndAllocate, SEED } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a referral becomes an allocated case and a recorded visit', async () => {
  await withPage(browser, 'foundation walk', async (page) => {
    // A social worker takes a call from a school.
    await signIn(page, SEED.sw);
    const referral = await makeReferral(page, { given: 'Ruby', family: 'Hart', dob: '2016-05-04' });
    await signOut(page);

    // The team manager decides and allocates.
    await signIn(page, SEED.tm);
    const record = await decideAndAllocate(page, referral, 'Ruby Hart', SEED.swName);
    await signOut(page);

    // The worker visits and records it from their caseload.
    await signIn(page, SEED.sw);
    await page.goto('/my-work');
    await heading(page, 'My work');
    await page.getByRole('link', { name: 'Record a visit to Ruby Hart' }).click();
    await heading(page, 'Record a visit to Ruby Hart');
    await page.getByLabel('Seen alone', { exact: true }).check();
    await page.getByLabel('What happened (optional)').fill('Ruby showed me her room and talked about school');
    await page.getByRole('button', { name: 'Record visit' }).click();
    await page.waitForURL(new RegExp(`${record}\\?done=visit`));
    await banner(page, 'Visit recorded');

    // The record shows the whole story.
    await heading(page, 'Ruby Hart');
    const chronology = await page.locator('#chronology').innerText();
    for (const line of ['Referral', 'Child and family assessment', 'allocated to Sam Worker', 'Seen alone', 'Ruby showed me her room']) {
      assert.ok(chronology.includes(line), `the chronology shows ${line}:\n${chronology}`);
    }
  });
});
