// "Who has seen this record": a social worker opens Alfred's record; his team manager
// sees that on the record's access page, and so does the auditor, who can look up who
// has seen a record but never open the record itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, signIn, signOut, heading, SEED } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a manager and the auditor see who has opened a child\'s record', async () => {
  await withPage(browser, 'access', async (page) => {
    await signIn(page, SEED.sw);
    await page.goto(`/people/${SEED.alfredId}`);
    await heading(page, /Alfred Scott/);
    await signOut(page);

    await signIn(page, SEED.tm);
    await page.goto(`/people/${SEED.alfredId}`);
    await page.getByRole('link', { name: 'Who has seen this record' }).click();
    await heading(page, /Who has seen Alfred Scott’s record/);
    const rows = await page.locator('#access').innerText();
    assert.match(rows, new RegExp(SEED.swName), 'the social worker who opened it');
    assert.match(rows, /Tara Manager/, 'and the manager, who just did');
    await signOut(page);

    await signIn(page, SEED.aud);
    await page.goto('/audit');
    await heading(page, 'Audit trail');
    await page.getByLabel('Person’s reference').fill(`P-${SEED.alfredId}`);
    await page.getByRole('button', { name: 'Show who has seen the record' }).click();
    await heading(page, /Who has seen Alfred Scott’s record/);
    assert.match(await page.locator('#access').innerText(), new RegExp(SEED.swName));
    // The auditor is never offered the record itself.
    assert.equal(await page.getByRole('link', { name: 'Back to the record' }).count(), 0);
    const res = await page.goto(`/people/${SEED.alfredId}`);
    assert.equal(res.status(), 403);
  });
});
